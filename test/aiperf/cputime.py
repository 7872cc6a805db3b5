# Runs a command and writes the CPU time of everything it started (user + system, in seconds) to a file, then exits
# with the command's own status. AIPerf runs as a tree of service processes; each one it reaps adds its time to its
# parent's, so the wait of this wrapper sees the whole tree's CPU time. Standard library only: it runs on the venv's
# Python, and /usr/bin/time is not on every machine.
import json
import resource
import subprocess
import sys

out_path, command = sys.argv[1], sys.argv[2:]
status = subprocess.call(command)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out_path, "w", encoding="utf-8") as out:
    json.dump({"user": usage.ru_utime, "system": usage.ru_stime}, out)
sys.exit(status if status >= 0 else 128 - status)

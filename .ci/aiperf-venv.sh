#!/usr/bin/env bash
# Puts AIPerf (NVIDIA's benchmark client) into .venv-aiperf/ from the pinned test/aiperf/requirements.txt, for
# test/aiperf.test.ts and the Python oracles that use its transformers and Jinja2.
exec "$(dirname "$0")/venv.sh" .venv-aiperf test/aiperf/requirements.txt bin/aiperf --version

#!/usr/bin/env bash
# Puts OpenAI's and Anthropic's Python SDKs into .venv-clients/ from the pinned test/python-clients/requirements.txt,
# for the tests that drive the server with them (test/python-clients/*.py).
exec "$(dirname "$0")/venv.sh" .venv-clients test/python-clients/requirements.txt bin/python -c 'import openai, anthropic'

#!/usr/bin/env bash
# Runs a Python script with imgix's official Python client (imgix==4.0.0 from PyPI) importable, in var/imgix-python
# (IMGEDGE_IMGIX_PYTHON_VENV to put it elsewhere). tools/test runs
#   tools/lib/imgix-python.sh Tests/Fixtures/imgix-signing/generate.py
# before the suite, so the signed URLs the tests verify are the ones the library builds on this machine.
exec "$(dirname "${BASH_SOURCE[0]}")/python-venv.sh" imgix-python 'imgix==4.0.0' imgix 4.0.0 "$@"

#!/usr/bin/env bash
# Runs a Python script with botocore (1.43.11 from PyPI, AWS's own request signer) importable, in var/botocore-python.
# tools/test runs
#   tools/lib/botocore-python.sh Tests/Fixtures/sigv4/generate.py
# before the suite, so the S3 signatures the tests check are the ones botocore makes on this machine.
exec "$(dirname "${BASH_SOURCE[0]}")/python-venv.sh" botocore-python 'botocore==1.43.11' botocore 1.43.11 "$@"

#!/usr/bin/env bash
# Runs a Python script with moto (5.2.1 from PyPI, a real S3 API server) and boto3 importable, in var/moto-python.
# The S3 source tests run
#   tools/lib/moto-python.sh Tests/Fixtures/s3/moto_s3.py BUCKET FILE...
# to serve a bucket on loopback with SigV4 checked.
exec "$(dirname "${BASH_SOURCE[0]}")/python-venv.sh" moto-python 'moto[server]==5.2.1' moto 5.2.1 "$@"

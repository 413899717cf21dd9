#!/usr/bin/env bash
# Runs Python with a pinned PyPI package importable, installing it into a private virtual environment under var/ on
# first use: tools/lib/python-venv.sh VENV_NAME PIP_SPEC MODULE VERSION [python arguments...]
# (the venv is kept while `MODULE.__version__` is VERSION). The wrappers beside it (imgix-python.sh,
# botocore-python.sh, moto-python.sh) name what each use needs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
name=$1 spec=$2 module=$3 version=$4
shift 4
VENV_VAR="IMGEDGE_$(echo "$name" | tr 'a-z-' 'A-Z_')_VENV"
VENV=${!VENV_VAR:-$ROOT/var/$name}
if ! "$VENV/bin/python" -c "import $module, sys; sys.exit($module.__version__ != '$version')" 2>/dev/null; then
  echo "[$name] installing $spec into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "$spec"
fi
cd "$ROOT"
exec "$VENV/bin/python" "$@"

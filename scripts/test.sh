#!/usr/bin/env bash
# Installs what the tests need (scripts/install.sh --browser), then runs pytest
# from the repository root with the given arguments:
#
#   bash scripts/test.sh                               # the whole suite
#   bash scripts/test.sh tests/test_infrastructure.py -q
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh --browser
exec .venv/bin/python -m pytest "$@"

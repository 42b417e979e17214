#!/usr/bin/env bash
# The plugin's demo, in one command: installs what is missing (scripts/install.sh),
# then starts Label Studio and the FiftyOne App with a demo dataset
# (scripts/demo.py; `bash scripts/demo.sh --help` lists its options).
#
# Usage: bash scripts/demo.sh [--reset] [--exit] [--ls-port N] [--app-port N]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/install.sh"
exec "$ROOT/.venv/bin/python" "$ROOT/scripts/demo.py" "$@"

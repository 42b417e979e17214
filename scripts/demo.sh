#!/usr/bin/env bash
# The plugin's demo, in one command: installs what is missing (scripts/install.sh),
# then starts Label Studio and the FiftyOne App with a demo dataset
# (scripts/demo.py; `bash scripts/demo.sh --help` lists its options).
#
# Usage: bash scripts/demo.sh [--reset] [--exit] [--ls-port N] [--app-port N]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for arg in "$@"; do  # the options, without installing first
    if [ "$arg" = "--help" ] || [ "$arg" = "-h" ]; then
        if [ -x "$ROOT/.venv/bin/python" ]; then
            exec "$ROOT/.venv/bin/python" "$ROOT/scripts/demo.py" --help
        fi
        sed -n '2,6s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
        exit 0
    fi
done
bash "$ROOT/scripts/install.sh"
exec "$ROOT/.venv/bin/python" "$ROOT/scripts/demo.py" "$@"

#!/usr/bin/env bash
# Installs what the tests need (scripts/install.sh --browser), then runs pytest
# from the repository root.
#
#   bash scripts/test.sh tests/test_infrastructure.py -q   # pytest with these arguments
#   LABEL_STUDIO_DATABASE=postgresql bash scripts/test.sh tests/test_backend.py
#                                                          # ... with Label Studio on PostgreSQL
#   bash scripts/test.sh                                   # what CI runs: two sessions at once,
#       (a) the whole suite with Label Studio on SQLite (the default), and
#       (b) the modules in POSTGRESQL_MODULES with Label Studio on PostgreSQL
#           (LABEL_STUDIO_DATABASE=postgresql: the session starts its own cluster),
#       each logging to .test-logs/<database>.log; then both logs' ends are
#       printed, and the exit status is non-zero if either session failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh --browser

if [ "$#" -gt 0 ]; then
    exec .venv/bin/python -m pytest "$@"
fi

# The modules that talk to Label Studio's data, run again on PostgreSQL.
POSTGRESQL_MODULES=(
    tests/test_backend.py
    tests/test_faults.py
    tests/test_real_inputs.py
    tests/test_operators.py
    tests/test_safety.py
    tests/test_long_runs.py
    tests/test_video.py
)
LOG_DIR=.test-logs
TAIL_LINES=60
mkdir -p "$LOG_DIR"

# Each session: its own process group (set -m), so that SIGINT reaches it only
# from us: pytest turns SIGINT into KeyboardInterrupt and stops its servers
# (mongod, Label Studio, PostgreSQL) in its teardown.
set -m
declare -A PIDS=() STARTED=() STATUS=() TOOK=() NAME_OF=()
declare -A TITLE=([sqlite]=SQLite [postgresql]=PostgreSQL)

stop_sessions() {
    local name pid waited=0
    for name in "${!PIDS[@]}"; do
        pid="${PIDS[$name]}"
        if kill -0 "$pid" 2>/dev/null; then
            echo "[test] stopping the $name session (pid $pid)" >&2
            kill -INT "$pid" 2>/dev/null || true
        fi
    done
    # Up to 90 s for their teardowns, then SIGKILL to what is left of each group.
    for name in "${!PIDS[@]}"; do
        pid="${PIDS[$name]}"
        while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 900 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
}
on_exit() {
    local status=$?
    trap - EXIT INT TERM HUP
    stop_sessions
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

start_session() {  # NAME LABEL_STUDIO_DATABASE PYTEST_ARGS...
    local name="$1" database="$2"
    shift 2
    LABEL_STUDIO_DATABASE="$database" .venv/bin/python -m pytest \
        -o cache_dir="$LOG_DIR/pytest-cache-$name" "$@" \
        </dev/null >"$LOG_DIR/$name.log" 2>&1 &
    PIDS[$name]=$!
    NAME_OF[$!]=$name
    STARTED[$name]=$SECONDS
    echo "[test] Label Studio on ${TITLE[$name]}: pytest ${*:-(the whole suite)}" \
         "(pid ${PIDS[$name]}), log $LOG_DIR/$name.log"
}

start_session sqlite sqlite
start_session postgresql postgresql "${POSTGRESQL_MODULES[@]}"

while [ "${#PIDS[@]}" -gt 0 ]; do
    status=0
    if (( BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 501 )); then
        done_pid=""
        wait -n -p done_pid "${PIDS[@]}" || status=$?  # whichever session ends first
        [ -n "$done_pid" ] || continue
    else
        for done_pid in "${PIDS[@]}"; do break; done
        wait "$done_pid" || status=$?
    fi
    name="${NAME_OF[$done_pid]}"
    STATUS[$name]=$status
    TOOK[$name]=$((SECONDS - STARTED[$name]))
    unset "PIDS[$name]"
    echo "[test] $name: exit $status after ${TOOK[$name]} s"
done
set +m

failed=()
for name in sqlite postgresql; do
    echo
    echo "======== Label Studio on ${TITLE[$name]}: exit ${STATUS[$name]} after ${TOOK[$name]} s" \
         "(last $TAIL_LINES lines of $(pwd)/$LOG_DIR/$name.log) ========"
    tail -n "$TAIL_LINES" "$LOG_DIR/$name.log"
    [ "${STATUS[$name]}" -eq 0 ] || failed+=("$name")
done
echo
if [ "${#failed[@]}" -gt 0 ]; then
    echo "[test] FAILED on: ${failed[*]} (see $LOG_DIR/<database>.log)"
    exit 1
fi
echo "[test] passed on sqlite and postgresql"

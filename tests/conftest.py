"""Test session set-up.

Everything FiftyOne reads is made private to the session here, at import time,
before any test module imports ``fiftyone`` (``servers.isolate_fiftyone``):

- a private ``mongod`` on a free port (``FIFTYONE_DATABASE_URI``): FiftyOne
  otherwise attaches to any FiftyOne database already running on the machine;
- temporary database dir, FiftyOne configs and plugins dir (holding only a
  symlink ``@annotate/labelstudio`` to this checkout);
- this checkout importable as ``fiftyone_labelstudio`` (here and in child
  processes) and the ``labelstudio`` backend through
  ``FIFTYONE_LABELSTUDIO_CONFIG_CLS``, as users set it up.

At the end: FiftyOne's clients are disconnected, then ``mongod`` is stopped.

Fixtures: ``mongod`` (session), ``label_studio`` (session, a real server, not
autouse), ``dataset`` (a fresh non-persistent dataset per test).
"""

import atexit
import os
import shutil
import sys
import tempfile
import time
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# scripts/servers.py is importable as ``servers`` in tests.
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import servers  # noqa: E402

# --------------------------------------------------- the session's FiftyOne

SESSION_TMP = tempfile.mkdtemp(prefix="fo-labelstudio-tests-")
MONGOD = servers.isolate_fiftyone(SESSION_TMP, ROOT)

_cleaned_up = False


def _cleanup():
    """FiftyOne's clients first, then mongod (else pymongo waits 30 s at exit)."""
    global _cleaned_up
    if _cleaned_up:
        return
    _cleaned_up = True
    database = sys.modules.get("fiftyone.core.odm.database")
    if database is not None:
        try:
            database._disconnect()
        except Exception:  # pragma: no cover
            pass
    MONGOD.stop()
    shutil.rmtree(SESSION_TMP, ignore_errors=True)


atexit.register(_cleanup)  # registered before fiftyone's own handlers: runs after them


# ------------------------------------------- nothing written into the home dir

HOME_DIRS = (".fiftyone", ".config", ".cache", ".local", ".pki", ".mongodb", ".ipython")
"""Where the programs the tests run (FiftyOne, matplotlib, Chromium, pip,
Label Studio) write in the home directory unless told to write elsewhere."""
SESSION_STARTED = time.time()


def written_in_home(since: float, home: str | None = None) -> list[str]:
    """Files under :data:`HOME_DIRS` of ``home`` (the user's) modified at
    ``since`` (``time.time()``) or later, other than this checkout's."""
    home = home or os.path.expanduser("~")
    found = []
    for name in HOME_DIRS:
        for folder, subfolders, files in os.walk(os.path.join(home, name)):
            subfolders[:] = [d for d in subfolders if os.path.join(folder, d) != ROOT]
            for file in files:
                path = os.path.join(folder, file)
                try:
                    if os.lstat(path).st_mtime >= since:
                        found.append(path)
                except OSError:  # gone since it was listed
                    pass
    return sorted(found)


_written: list[str] = []


def pytest_sessionfinish(session, exitstatus):
    _cleanup()
    _written[:] = written_in_home(SESSION_STARTED)
    if _written:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _written:
        terminalreporter.section("written into the home directory", red=True)
        terminalreporter.line(
            "A program the tests run was not pointed into the session's temporary dir:"
        )
        for path in _written[:50]:
            terminalreporter.line(f"  {path}")


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def mongod():
    """The session's private ``mongod`` (``servers.Mongod``)."""
    return MONGOD


LABEL_STUDIO_DATABASES = {"": "sqlite", "sqlite": "sqlite", "postgresql": "postgresql"}


def _label_studio_database():
    """``LABEL_STUDIO_DATABASE``: ``sqlite`` (default) or ``postgresql``."""
    value = os.environ.get("LABEL_STUDIO_DATABASE", "").strip().lower()
    if value not in LABEL_STUDIO_DATABASES:
        raise ValueError(
            f"LABEL_STUDIO_DATABASE={value!r}: use one of "
            f"{sorted(k for k in LABEL_STUDIO_DATABASES if k)}"
        )
    return LABEL_STUDIO_DATABASES[value]


def _start_postgres(base):
    """The session's own PostgreSQL cluster in ``base``."""
    # PostgreSQL runs as a non-root user when we are root: it must enter the
    # session's dir (mkdtemp makes it 0700); 0711 lets it pass, not list.
    os.chmod(SESSION_TMP, 0o711)
    return servers.start_postgres(base)


PREDICTION_VALIDATION = "fflag_feat_utc_210_prediction_validation_15082025"


@pytest.fixture(scope="session")
def label_studio():
    """A real Label Studio for the session (``servers.LabelStudio``).

    ``label_studio.pat`` is a personal access token; ``label_studio.document_root``
    is its local-files document root. Legacy tokens are disabled (a new
    organization's default): a test that needs them calls
    ``label_studio.set_legacy_tokens(True)`` and restores ``False``.
    ``label_studio.database`` is ``"sqlite"`` (default) or ``"postgresql"``
    (``LABEL_STUDIO_DATABASE=postgresql``: the session starts its own PostgreSQL
    cluster and stops it after Label Studio).
    Label Studio validates every imported prediction against the labeling
    config (its feature flag, off by default): a result the plugin makes that
    Label Studio would not take fails the import.
    If the server cannot start, the tests that use it error (never skip).
    """
    database = _label_studio_database()
    base = os.path.join(SESSION_TMP, "label-studio")
    postgres = None
    if database == "postgresql":
        postgres = _start_postgres(os.path.join(SESSION_TMP, "postgres"))
    try:
        server = servers.start_label_studio(
            data_dir=os.path.join(base, "data"),
            document_root=os.path.join(base, "media"),
            database=postgres,
            extra_env={PREDICTION_VALIDATION: "true"},
        )
        try:
            yield server
        finally:
            server.stop()
    finally:
        if postgres is not None:
            postgres.stop()


@pytest.fixture
def dataset():
    """A fresh non-persistent ``fo.Dataset`` with a unique name, deleted afterwards."""
    import fiftyone as fo

    ds = fo.Dataset(f"test-{uuid.uuid4().hex[:12]}")
    try:
        yield ds
    finally:
        if not ds.deleted:
            ds.delete()


EXPORT_READS = r"GET /api/projects/\d+/(export\?|exports/\d+/download)"
"""Either complete read a load makes of a project (the synchronous export, a
snapshot's download), for a fault proxy's ``path``."""


@pytest.fixture
def snapshot_exports(monkeypatch):
    """Loads read every project with a snapshot export, however small."""
    from fiftyone_labelstudio.backend import export

    monkeypatch.setattr(export, "SYNCHRONOUS_MAX_TASKS", 0)

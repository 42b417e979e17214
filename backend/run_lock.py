"""One load of a run at a time, across processes and threads.

FiftyOne runs a load as download, merge, save, with no hook when the merge
fails; so a lock is taken when the download starts and released when the
results are saved, and a lock whose holder is gone (a dead process, or a
failed load in the same thread) is taken over. Anything else holding it makes
the second load fail with a message saying who holds it and since when.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from datetime import datetime, timezone

from fiftyone.operators.store import ExecutionStore

from .client import LabelStudioError

STORE = "@annotate/labelstudio/runs"
LOCK_SECONDS = 15 * 60
"""A lock nobody releases expires after this long."""


class RunBusy(LabelStudioError):
    """Another process or thread is loading the run."""


def _store(dataset) -> ExecutionStore:
    return ExecutionStore.create(STORE, dataset_id=dataset._doc.id)


def _key(anno_key: str) -> str:
    return f"lock:{anno_key}"


def acquire(dataset, anno_key: str, action: str = "loaded") -> str:
    """Takes the run's lock; returns the token that releases it."""
    store = _store(dataset)
    mine = {
        "token": uuid.uuid4().hex,
        "action": action,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "thread": threading.get_ident(),
        "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if store.set_if_absent(_key(anno_key), mine, ttl=LOCK_SECONDS):
        return mine["token"]
    held = store.get(_key(anno_key))
    if held is None and store.set_if_absent(_key(anno_key), mine, ttl=LOCK_SECONDS):
        return mine["token"]
    if held is not None and _abandoned(held):
        if store.compare_and_set(_key(anno_key), held, mine, ttl=LOCK_SECONDS):
            return mine["token"]
        held = store.get(_key(anno_key)) or held
    raise RunBusy(describe(anno_key, held))


def release(dataset, anno_key: str, token: str | None) -> None:
    """Releases the lock if ``token`` still holds it."""
    if token is None:
        return
    store = _store(dataset)
    held = store.get(_key(anno_key))
    if held and held.get("token") == token:
        store.delete(_key(anno_key))


def holder(dataset, anno_key: str) -> dict | None:
    """Who is loading the run now, or None."""
    held = _store(dataset).get(_key(anno_key))
    return None if held is None or _abandoned(held) else held


def describe(anno_key: str, held: dict | None) -> str:
    if not held:
        return f"Run '{anno_key}' is busy; try again in a moment."
    return (
        f"Run '{anno_key}' is being {held.get('action', 'loaded')} by process {held.get('pid')} "
        f"on {held.get('host')} since {held.get('since')} UTC; wait for it to finish and try "
        f"again (a lock left behind by a crash expires after {LOCK_SECONDS // 60} minutes)."
    )


def _abandoned(held: dict) -> bool:
    """Whether the holder can no longer be loading: its process is gone, or it
    was this very thread (whose load has ended, since loads are synchronous)."""
    if held.get("host") != socket.gethostname():
        return False
    pid = held.get("pid")
    if pid == os.getpid():
        thread = held.get("thread")
        return thread == threading.get_ident() or thread not in {
            t.ident for t in threading.enumerate()
        }
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, TypeError):
        return False
    return False

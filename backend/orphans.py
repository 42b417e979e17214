"""Projects left behind when Label Studio went away in the middle of a request.

A failed request deletes the project it created; when the server cannot be
reached to do so, the project is written down here and deleted the next time
this plugin reaches that server.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from fiftyone.operators.store import ExecutionStore

from . import projects
from .client import Connection, LabelStudioError

logger = logging.getLogger(__name__)

STORE = "@annotate/labelstudio/orphans"


def _store() -> ExecutionStore:
    return ExecutionStore.create(STORE)


def remember(url: str, project_id: int, reason: str) -> None:
    _store().set(
        f"{url}#{project_id}",
        {
            "url": url,
            "project_id": project_id,
            "reason": reason,
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    )


def pending(url: str) -> list[int]:
    """Projects of this server still to be deleted."""
    store = _store()
    found = (store.get(key) for key in store.list_keys())
    return sorted(o["project_id"] for o in found if o and o.get("url") == url)


def delete_pending(connection: Connection) -> int:
    """Deletes what an earlier failure left on this server; returns how many."""
    deleted = 0
    for project_id in pending(connection.url):
        try:
            projects.delete_project(connection, project_id)
        except LabelStudioError as error:
            logger.warning("Still cannot delete orphan project %s: %s", project_id, error)
            continue
        _store().delete(f"{connection.url}#{project_id}")
        logger.info("Deleted project %s, left behind by a failed request", project_id)
        deleted += 1
    return deleted

"""Projects left behind when Label Studio went away in the middle of a request.

A failed request deletes the project it created; when the server cannot be
reached to do so, the project is written down here and deleted the next time
this plugin reaches that server, but only if it is provably the same project:
its title and the request's marker in its description still match (after a
reinstall of Label Studio at the same URL, the id may name someone else's
project, which is then left alone).
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


def remember(url: str, project_id: int, title: str, request_id: str, reason: str) -> None:
    _store().set(
        f"{url}#{project_id}",
        {
            "url": url,
            "project_id": project_id,
            "title": title,
            "request_id": request_id,
            "reason": reason,
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    )


def pending(url: str) -> list[dict]:
    """What is remembered for this server: ``{"project_id", "title", "request_id", ...}``."""
    store = _store()
    found = (store.get(key) for key in store.list_keys())
    return sorted((o for o in found if o and o.get("url") == url), key=lambda o: o["project_id"])


def delete_pending(connection: Connection) -> int:
    """Deletes what an earlier failure left on this server, where it is
    provably that project; returns how many were deleted."""
    deleted = 0
    for orphan in pending(connection.url):
        project_id = orphan["project_id"]
        try:
            project = projects.read_project(connection, project_id)
            ours = project is not None and projects.is_ours(
                project, orphan.get("title"), orphan.get("request_id")
            )
            if ours:
                projects.delete_project(connection, project_id)
                logger.info("Deleted project %s, left behind by a failed request", project_id)
                deleted += 1
            elif project is not None:
                logger.warning(
                    "Project %s on %s is not the one a failed request left behind (its title "
                    "or description changed, or Label Studio was reinstalled); left alone",
                    project_id,
                    connection.url,
                )
        except LabelStudioError as error:
            logger.warning("Still cannot delete orphan project %s: %s", project_id, error)
            continue
        _store().delete(f"{connection.url}#{project_id}")
    return deleted

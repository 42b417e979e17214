"""Loads that read only what changed in Label Studio since the run's last load.

Label Studio bumps a task's ``updated_at`` whenever one of its annotations is
created, updated, skipped or deleted. A load remembers, in its run, the time
(by the server's own clock) it started, each task's sample and state, and
where it loaded them; the next load reads, in full, only the tasks updated
since. Every task it does not read holds what the last load loaded from it,
so the dataset comes out as a full load would leave it.

Deleted tasks are found without listing the project: task ids only grow
(SQLite's ``AUTOINCREMENT`` and PostgreSQL's sequences never reuse one), so
the number of tasks whose id lies in the range a load saw can only fall, and
falls exactly when one of them is deleted. A load records that
:class:`TaskSpan`; the next one counts the tasks in it (one query) and lists
only the ids above it. The whole id list is read only when the count fell.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Collection, Iterator, Mapping

from .client import Connection, NotFoundError, no_server_date
from .projects import Progress
from .tasks import SAMPLE_ID

OVERLAP = timedelta(seconds=2)
"""How far before the last load's start the next one looks: the server's
``Date`` has whole seconds, and a task updated as the last load started may
or may not be in what it read (reading it again changes nothing)."""

_PAGE = 1000


@dataclass(frozen=True)
class TaskSpan:
    """The tasks a load saw: ``count`` tasks with ids from ``lowest`` to
    ``highest`` (both included); all zero when it saw none.

    Example:
        >>> TaskSpan.of(["7", "3", "5"])
        TaskSpan(lowest=3, highest=7, count=3)
    """

    lowest: int = 0
    highest: int = 0
    count: int = 0

    @classmethod
    def of(cls, ids: Collection) -> "TaskSpan":
        numbers = [int(i) for i in ids]
        return cls(min(numbers), max(numbers), len(numbers)) if numbers else cls()

    def holds(self, task_id: str) -> bool:
        return self.lowest <= int(task_id) <= self.highest


@dataclass
class LoadState:
    """What a run's last load read, to load only what changed next time.

    Args:
        since: when that load started, by the server's clock (ISO 8601, UTC)
        tasks: ``{task id: [sample id, state]}`` (states of
            :data:`.loading.STATES`)
        targets: ``{run field: field loaded into}``
        choice: the annotation choice it loaded with
        span: the project's tasks it saw (a state without one lists the
            project's task ids on the next load)
    """

    since: str
    tasks: dict[str, list] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)
    choice: str = "latest"
    span: TaskSpan = TaskSpan()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "LoadState | None":
        if not d or "since" not in d:
            return None
        return cls(
            d["since"],
            dict(d.get("tasks") or {}),
            dict(d.get("targets") or {}),
            d.get("choice", "latest"),
            TaskSpan(*d.get("span") or ()),
        )

    def as_dict(self) -> dict:
        return {
            "since": self.since,
            "tasks": self.tasks,
            "targets": self.targets,
            "choice": self.choice,
            "span": [self.span.lowest, self.span.highest, self.span.count],
        }

    def serves(self, targets: Mapping[str, str], choice: str) -> bool:
        """Whether a load into ``targets`` with ``choice`` may build on this one.

        Example:
            >>> LoadState("2026-01-01T00:00:00+00:00", {}, {"gt": "gt"}).serves({"gt": "gt"}, "latest")
            True
        """
        return dict(targets) == self.targets and choice == self.choice


def server_time(connection: Connection) -> datetime:
    """The server's clock (its ``Date`` header), in UTC, asked for."""
    connection.request("GET", "api/version", "read the server's time")
    if connection.server_date is None:
        raise no_server_date(connection.url)
    return connection.server_date


def live_task_ids(
    connection: Connection, project_id: int, known: Collection[str], span: TaskSpan
) -> tuple[set[str], TaskSpan]:
    """Which tasks exist now of those the last load saw (``known``, within
    its ``span``), plus every task created since; and the span to record.

    One count of the tasks in ``span`` and a list of the ids above it, or,
    when the count fell (a task was deleted), the ids of every task of the
    project, a page at a time (ids only: a few bytes a task).
    """
    if span.count and _count(connection, project_id, _id_filter("in", span)) == span.count:
        newer = _ids(connection, project_id, {"query": _id_filter("greater", span)})
        live = {task_id for task_id in known if span.holds(task_id)} | newer
        highest = max([span.highest, *map(int, newer)])
        return live, TaskSpan(span.lowest, highest, span.count + len(newer))
    every = _ids(connection, project_id)
    return every, TaskSpan.of(every)


def _ids(connection: Connection, project_id: int, params: Mapping = {}) -> set[str]:
    """The ids of the project's tasks (of a Data Manager ``query``), a page at a time."""
    pages = _pages(connection, project_id, {"fields": "task_only", "include": "id", **params})
    return {str(task["id"]) for task in pages}


def changed_tasks(connection: Connection, project_id: int, since: str) -> Iterator[dict]:
    """The project's tasks updated after ``since`` (less :data:`OVERLAP`), with
    their annotations, as an export has them."""
    yield from _pages(
        connection,
        project_id,
        {"fields": "all", "query": json.dumps(_updated_after(since))},
    )


def count_changed(
    connection: Connection, project_id: int, since: str, sample_ids: Collection[str] | None = None
) -> int:
    """How many of the project's tasks (of ``sample_ids`` only, in a project
    other runs share) were updated after ``since``."""
    query = json.dumps(_updated_after(since))
    if sample_ids is not None:
        changed = _pages(
            connection, project_id, {"fields": "task_only", "include": "id,data", "query": query}
        )
        return sum((task.get("data") or {}).get(SAMPLE_ID) in sample_ids for task in changed)
    return _count(connection, project_id, query)


def progress_by_run(
    connection: Connection, project_id: int, samples_by_run: Mapping[Any, Collection[str]]
) -> dict[Any, Progress]:
    """Progress of each run's own tasks (those of its sample ids) in a project
    several runs share, from one read of the project's task list (a few
    dozen bytes a task): ``skipped`` counts tasks skipped and not annotated."""
    counts = {run: [0, 0, 0] for run in samples_by_run}  # total, annotated, skipped
    for task in _pages(
        connection,
        project_id,
        {"fields": "task_only", "include": "id,data,total_annotations,cancelled_annotations"},
    ):
        sample_id = (task.get("data") or {}).get(SAMPLE_ID)
        done = 1 if task.get("total_annotations") else 2 if task.get("cancelled_annotations") else 0
        for run, sample_ids in samples_by_run.items():
            if sample_id in sample_ids:
                counts[run][0] += 1
                if done:
                    counts[run][done] += 1
    return {run: Progress(t, a, k, t - a - k) for run, (t, a, k) in counts.items()}


def _count(connection: Connection, project_id: int, query: str) -> int:
    body = connection.request(
        "GET",
        "api/tasks/",
        f"count the tasks of project {project_id}",
        params={
            "project": project_id,
            "fields": "task_only",
            "include": "id",
            "page_size": 1,
            "query": query,
        },
    )
    return int((body or {}).get("total") or 0)


def _id_filter(operator: str, span: TaskSpan) -> str:
    value = {"min": span.lowest, "max": span.highest} if operator == "in" else span.highest
    item = {"filter": "filter:tasks:id", "operator": operator, "type": "Number", "value": value}
    return json.dumps({"filters": {"conjunction": "and", "items": [item]}})


def _updated_after(since: str) -> dict:
    start = datetime.fromisoformat(since) - OVERLAP
    return {
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:updated_at",
                    "operator": "greater",
                    "type": "Datetime",
                    # the data manager's own format
                    "value": start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                }
            ],
        }
    }


def _pages(connection: Connection, project_id: int, params: dict) -> Iterator[dict]:
    page = 1
    while True:
        try:
            body = connection.request(
                "GET",
                "api/tasks/",
                f"read the tasks of project {project_id}",
                params={"project": project_id, "page": page, "page_size": _PAGE, **params},
            )
        except NotFoundError:  # past the last page
            return
        tasks = body.get("tasks", []) if isinstance(body, dict) else body or []
        yield from tasks
        if len(tasks) < _PAGE:
            return
        page += 1

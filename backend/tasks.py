"""Label Studio tasks from FiftyOne samples, imported in batches.

Each task's data holds its media URL (``image`` or ``video``, with a
video's frame rate) and its sample id; existing labels go
with it as a prediction (the default: an annotator accepts or edits it) or as
an annotation. Batches are imported one after another: Label Studio on SQLite
silently drops predictions of an import that collides with another write, so
every response's counts are checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

from ..conversions import FieldSchema, Frame, Problem, export_sample
from .client import Connection, LabelStudioError, NotFoundError, UnknownOutcome

SAMPLE_ID = "sample_id"
"""Task data key holding the FiftyOne sample id."""
FPS = "fps"
"""Task data key holding a video's frame rate (FiftyOne's ``metadata.frame_rate``)."""

MODEL_VERSION = "fiftyone"
SENT_IMPORT_ID = 510000
"""The ``id`` an annotation of existing labels is imported with
(``existing_labels="annotations"``): Label Studio keeps it as the
annotation's ``import_id``, so that a load knows the annotation the run sent."""
EXISTING_LABELS = ("predictions", "annotations")
TASKS_PER_IMPORT = 1000
"""Tasks a batch holds at most. The first is as big as the others: Label
Studio takes about as long to import 800 tasks after 200 as 1,000 at once
(it recounts the project's tasks after each import), so a smaller first
batch, begun sooner, made requests of 1,000 samples slower (medians of 8
fresh-process requests, 2026-12-02: 1.95 s with a first batch of 200, 1.81 s
without)."""
BYTES_PER_IMPORT = 50 * 1024**2
_TASKS_PAGE = 1000


@dataclass
class SampleTask:
    """One sample as Label Studio gets it."""

    sample_id: str
    url: str
    frame: Frame
    values: dict[str, Any]


@dataclass
class ImportReport:
    """What the import sent."""

    num_tasks: int = 0
    num_labeled: int = 0
    problems: list[tuple[str, Problem]] = field(default_factory=list)


def task_of(
    sample: SampleTask, fields: Sequence[FieldSchema], existing_labels: str, report: ImportReport
) -> dict:
    """The Label Studio task of a sample, with its labels as a prediction or an annotation."""
    task = {"data": {sample.frame.tag: sample.url, SAMPLE_ID: sample.sample_id}}
    if sample.frame.fps:
        task["data"][FPS] = sample.frame.fps  # the Video tag's frameRate="$fps"
    results, problems = export_sample(sample.values, fields, sample.frame)
    report.problems.extend((sample.sample_id, problem) for problem in problems)
    if results:
        report.num_labeled += 1
        if existing_labels == "annotations":
            # imported annotations count as ground truth unless told otherwise,
            # which hides them from Label Studio's progress counts
            task["annotations"] = [{"id": SENT_IMPORT_ID, "result": results, "ground_truth": False}]
        else:
            task["predictions"] = [{"result": results, "model_version": MODEL_VERSION}]
    return task


def encoded_batches(tasks: Iterable[dict]) -> Iterator[tuple[list[dict], bytes]]:
    """``tasks`` in batches of bounded count and size, each with its JSON
    body (:func:`json_body`), for :func:`import_tasks`."""
    return ((batch, json_body(batch)) for batch in _batches(tasks))


def import_tasks(
    connection: Connection,
    project_id: int,
    batches: Iterable[tuple[list[dict], bytes]],
    on_batch=lambda num_done: None,
) -> list[int]:
    """Imports ``batches`` (from :func:`encoded_batches`; the caller makes
    the next while Label Studio imports the last) one after another; returns
    the ids of their tasks.

    ``on_batch(n)`` is told how many tasks are in so far.
    """
    created: list[int] = []
    for batch, body in batches:
        created += _import_batch(connection, project_id, batch, body)
        on_batch(len(created))
    return created


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def json_body(tasks: Sequence[dict]) -> bytes:
    """``tasks`` as httpx's ``json=`` sends them (UTF-8, compact, no NaN),
    made where the caller chooses (in the read-ahead thread, while Label
    Studio makes the project or imports the last batch), a task at a time:
    one call for a whole batch holds the interpreter lock for all of its
    ~45 ms (1,000 tasks of 10 boxes, 3.3 MB; a task at a time is no slower),
    which the calls to Label Studio made meanwhile would wait for.

    Example:
        >>> json_body([{"data": {"image": "café.png"}}, {"data": {}}])
        b'[{"data":{"image":"caf\\xc3\\xa9.png"}},{"data":{}}]'
    """
    return ("[" + ",".join(map(_ENCODE, tasks)) + "]").encode()


def _import_batch(
    connection: Connection, project_id: int, batch: list[dict], body: bytes, attempts: int = 2
) -> list[int]:
    """Imports one batch (``body``: its JSON); returns the ids of its tasks."""
    expected = {
        "task_count": len(batch),
        "prediction_count": sum(len(task.get("predictions", [])) for task in batch),
        "annotation_count": sum(len(task.get("annotations", [])) for task in batch),
    }
    try:
        answer = connection.request(
            "POST",
            f"api/projects/{project_id}/import",
            f"import {len(batch)} tasks",
            timeout=connection.timeout + 0.01 * len(batch),
            params={"return_task_ids": "true"},
            content=body,
            headers={"Content-Type": "application/json"},
        )
    except UnknownOutcome as unknown:
        if attempts <= 1:
            raise
        # the import may have gone in: send again only what the project lacks
        try:
            held = task_ids_by_sample(connection, project_id)
        except LabelStudioError as error:  # name the import, the step that failed first
            raise LabelStudioError(
                f"{unknown}; asked then what it had imported, it failed again: {error}",
                error.status,
            ) from None
        missing = [task for task in batch if task["data"][SAMPLE_ID] not in held]
        ids = [
            i
            for task in batch
            if task["data"][SAMPLE_ID] in held
            for i in held[task["data"][SAMPLE_ID]]
        ]
        if missing:
            ids += _import_batch(connection, project_id, missing, json_body(missing), attempts - 1)
        return ids
    got = {key: answer.get(key) or 0 for key in expected}
    task_ids = answer.get("task_ids") or []
    if got == expected:
        return task_ids
    # Label Studio retried the import after a database lock and kept only the
    # bare tasks: take them out and import the batch again
    if task_ids:
        delete_tasks(connection, project_id, task_ids)
    if attempts > 1:
        return _import_batch(connection, project_id, batch, body, attempts - 1)
    raise LabelStudioError(
        f"Label Studio imported {got} where {expected} were sent, twice. Another client may be "
        "writing to the server at the same time; try again when it is idle."
    )


def delete_tasks(connection: Connection, project_id: int, task_ids: Sequence[int]) -> None:
    """Deletes tasks of a project (and their annotations), in one request."""
    connection.request(
        "POST",
        "api/dm/actions",
        f"delete {len(task_ids)} tasks",
        idempotent=True,
        params={"id": "delete_tasks", "project": project_id},
        json={"selectedItems": {"all": False, "included": list(task_ids)}},
    )


def task_ids_by_sample(connection: Connection, project_id: int) -> dict[str, list[int]]:
    """``{sample id: [task ids]}`` of a project's tasks, a page at a time."""
    found: dict[str, list[int]] = {}
    page = 1
    while True:
        try:
            body = connection.request(
                "GET",
                "api/tasks/",
                f"list the tasks of project {project_id}",
                params={
                    "project": project_id,
                    "fields": "task_only",
                    "include": "id,data",
                    "page": page,
                    "page_size": _TASKS_PAGE,
                },
            )
        except NotFoundError:  # past the last page
            return found
        tasks = body.get("tasks", []) if isinstance(body, dict) else body or []
        for task in tasks:
            sample_id = (task.get("data") or {}).get(SAMPLE_ID)
            if sample_id is not None:
                found.setdefault(sample_id, []).append(task["id"])
        if len(tasks) < _TASKS_PAGE:
            return found
        page += 1


def predictions_by_task(connection: Connection, project_id: int) -> dict[int, list[dict]]:
    """``{task id: [prediction]}`` of every prediction of a project (one
    ``GET``: Label Studio does not page this list)."""
    body = connection.request(
        "GET",
        "api/predictions/",
        f"list the predictions of project {project_id}",
        params={"project": project_id},
    )
    found: dict[int, list[dict]] = {}
    for prediction in body if isinstance(body, list) else (body or {}).get("results", []):
        found.setdefault(prediction.get("task"), []).append(prediction)
    return found


def _batches(tasks: Iterable[dict]) -> Iterator[list[dict]]:
    batch, size = [], 0
    for task in tasks:
        task_size = _approximate_size(task)
        if batch and size + task_size > BYTES_PER_IMPORT:
            yield batch
            batch, size = [], 0
        batch.append(task)
        size += task_size
        if len(batch) == TASKS_PER_IMPORT:  # now, not once the next task is made
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _approximate_size(task: dict) -> int:
    """Bytes of a task's JSON, give or take: brush RLEs take ~4 bytes a value,
    polygon points ~40, line vertices ~80 and video keyframes ~160."""
    size = 200
    for label_set in task.get("predictions", []) + task.get("annotations", []):
        for result in label_set["result"]:
            value = result["value"]
            size += 300 + 4 * len(value.get("rle", ()))
            size += 40 * len(value.get("points", ())) + 80 * len(value.get("vertices", ()))
            size += 160 * len(value.get("sequence", ()))
    return size

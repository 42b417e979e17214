"""Complete reads of a project: Label Studio's fastest, begun at once and
built by the server while the load reads the rest it needs."""

from __future__ import annotations

import itertools
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator

from .client import Connection, LabelStudioError, NotReached, no_server_date

logger = logging.getLogger(__name__)

_SECONDS_PER_TASK = 0.005
_PENDING = ("created", "in_progress")
_FIRST_POLL, _MAX_POLL = 0.2, 5.0

SYNCHRONOUS_MAX_TASKS = 1000
"""Up to this many tasks a project is read with Label Studio's synchronous
export (one ``GET``); above, with a snapshot export (``POST``, download,
``DELETE``). Of the floor's reads of the same project in ``bench/results``
(2026-11-30 to 12-01), the synchronous one was faster for 12 of 14 reads of
50 tasks (3.6 s against 5.0 s in all), all 10 of 50 videos of 900 frames
(81 s against 264 s), and 51 of 81 reads of 1,000 tasks (254.5 s against
266.8 s); slower for the one of 2,000 (8.3 s against 7.8 s) and 16 of 22
of 10,000 (736 s against 688 s). Label Studio also advises snapshots for
large projects.

Reading a project in parts by task id (``ids[]``, at most 998 a request:
Django refuses more query fields), to convert one part while Label Studio
exports the next, costs more than it could save: 10,000 tasks took 18.0 to
20.4 s in parts against 16.8 s in one export, after 8.6 s to list their ids
(``bench/results/export-reads-2026-12-02T04-03-06Z.md``)."""


class ProjectExport:
    """A complete read of a project (every task with its annotations,
    skipped ones included), begun as it is made.

    Label Studio builds it (the longest wait of a load) in a thread of this
    process, while the caller goes on; :meth:`tasks` reads it. A project of
    at most :data:`SYNCHRONOUS_MAX_TASKS` tasks is read with the synchronous
    export, a larger one (or one whose synchronous export fails) with a
    snapshot export: open-source Label Studio builds a snapshot inside the
    request; where it builds it as a background job (Label Studio
    Enterprise) the first answer is ``in_progress``, and the snapshot is
    polled until it is done, within the export's time. :meth:`close` deletes
    the snapshot, read or not.

    Args:
        connection: the connection to Label Studio
        project_id: the project
        num_tasks: about how many tasks it has (the time allowed grows with it)
    """

    def __init__(self, connection: Connection, project_id: int, num_tasks: int):
        self._connection, self.project_id = connection, project_id
        self._timeout = connection.timeout + _SECONDS_PER_TASK * num_tasks
        self.synchronous = num_tasks <= SYNCHRONOUS_MAX_TASKS
        """Whether the synchronous export is read (else a snapshot); final once
        :meth:`tasks` has begun."""
        self._released = False  # its deletion is under way (or it was never made)
        self._deleted = None
        self._abandoned = False  # closed unread: stop polling for it
        self.started: datetime | None = None
        """The server's clock (UTC) when the read began: every change before
        it is in the export. Known once :meth:`tasks` has begun."""
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="labelstudio-export")
        self._made = self._pool.submit(self._make)

    def _make(self) -> dict | list:
        if self.synchronous:
            try:
                return self._read_synchronously()
            except LabelStudioError as error:  # turned off, or too slow: the snapshot
                if self._abandoned or error.status in (401, 403) or isinstance(error, NotReached):
                    raise  # what a snapshot would meet too
                logger.warning(
                    "Label Studio's synchronous export of project %s failed, so a snapshot "
                    "export is read instead. The error: %s",
                    self.project_id,
                    error,
                )
                self.synchronous = False
        return self._make_snapshot()

    def _read_synchronously(self) -> list:
        sent = time.monotonic()
        tasks = self._connection.request(
            "GET",
            f"api/projects/{self.project_id}/export",
            f"export project {self.project_id}",
            timeout=self._timeout,
            params={"exportType": "JSON", "download_all_tasks": "true"},
        )
        if not isinstance(tasks, list):
            raise LabelStudioError(
                f"The export of project {self.project_id} is not a list of tasks: {tasks!r:.200}"
            )
        # built inside the request, so no earlier than when it arrived
        self.started = _arrived_by(self._connection, sent)
        if self.started is None:
            raise no_server_date(self._connection.url)
        return tasks

    def _make_snapshot(self) -> dict:
        sent = time.monotonic()
        snapshot = self._connection.request(
            "POST",
            f"api/projects/{self.project_id}/exports/",
            f"export project {self.project_id}",
            timeout=self._timeout,
            idempotent=True,  # a second snapshot harms nothing
            json={"title": "fiftyone-load"},
        )
        # when the server made it, else when the request had arrived
        started = _parse_time(snapshot.get("created_at")) or _arrived_by(self._connection, sent)
        try:
            if started is None:
                raise no_server_date(self._connection.url)
            self.started = started
            return _wait(
                self._connection, self.project_id, snapshot, self._timeout, lambda: self._abandoned
            )
        except BaseException:
            self._delete(snapshot)
            raise

    def tasks(self) -> Iterator[dict]:
        """The project's tasks (a snapshot's as they stream in; the snapshot
        is deleted in the thread once they are read). Raises the
        :class:`LabelStudioError` of making it."""
        made = self._made.result()
        if self.synchronous:
            self._released = True  # nothing to delete
            yield from made
            return
        try:
            with self._connection.stream(
                "GET",
                f"api/projects/{self.project_id}/exports/{made['id']}/download",
                f"download the export of project {self.project_id}",
                timeout=self._timeout,
                params={"exportType": "JSON"},
            ) as response:
                yield from iter_json_array(response.iter_text(chunk_size=1 << 20))
        finally:
            if not self._released:  # not closed already (a generator is closed late)
                self._released = True
                self._deleted = self._pool.submit(self._delete, made)

    def close(self) -> None:
        """Deletes a snapshot: waits for its deletion once it was read;
        one never read is deleted in the thread once made (Label Studio
        answers the request that makes it), without waiting."""
        if not self._released:
            self._released = True
            self._abandoned = True
            self._deleted = self._pool.submit(self._delete_made)  # runs after _make
        elif self._deleted is not None:
            self._deleted.result()
        self._pool.shutdown(wait=False)

    def _delete_made(self) -> None:
        if self._made.exception() is None and not self.synchronous:
            self._delete(self._made.result())

    def _delete(self, snapshot: dict) -> None:
        try:
            self._connection.request(
                "DELETE",
                f"api/projects/{self.project_id}/exports/{snapshot['id']}",
                f"delete the export of project {self.project_id}",
            )
        except LabelStudioError as error:  # left in the project's exports, harmless
            logger.warning("%s", error)


def _arrived_by(connection: Connection, sent: float) -> datetime | None:
    """The server's clock no earlier than when the request sent at ``sent``
    (``time.monotonic()``) arrived: its answer's date less the time the
    request took. None if the answer had no date."""
    answered = connection.server_date
    return answered and answered - timedelta(seconds=time.monotonic() - sent)


def _parse_time(stamp) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    # Label Studio keeps UTC (Django's USE_TZ); a stamp without a zone is that
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _wait(connection, project_id, snapshot, timeout, abandoned) -> dict:
    deadline = time.monotonic() + timeout
    wait = _FIRST_POLL
    while snapshot.get("status") in _PENDING:
        if abandoned():
            raise LabelStudioError(f"The export of project {project_id} was no longer needed")
        if time.monotonic() + wait > deadline:
            raise LabelStudioError(
                f"Label Studio did not finish exporting project {project_id} within "
                f"{timeout:.0f} s (status {snapshot.get('status')!r}); try loading again, or "
                "allow more time with timeout=..."
            )
        time.sleep(wait)
        wait = min(2 * wait, _MAX_POLL)
        snapshot = connection.request(
            "GET",
            f"api/projects/{project_id}/exports/{snapshot['id']}",
            f"read the export of project {project_id}",
        )
    if snapshot.get("status") != "completed":
        raise LabelStudioError(
            f"Label Studio could not export project {project_id} (status "
            f"{snapshot.get('status')!r}); try loading again."
        )
    return snapshot


def iter_json_array(chunks: Iterable[str]) -> Iterator:
    """The items of a JSON array, parsed as its text arrives.

    Holds only the text of the items not yet complete, so a large export never
    sits in memory whole.

    Example:
        >>> list(iter_json_array(['[{"a": 1}, {"b"', ': [2]}]']))
        [{'a': 1}, {'b': [2]}]
    """
    decoder = json.JSONDecoder()
    buffer, position, started = "", 0, False
    # an unfinished item is parsed again only once its text has doubled, so
    # that a huge task costs a few parses, not one per chunk
    pending, pending_size, retry_at = [], 0, 0
    for chunk in itertools.chain(chunks, [None]):
        end_of_text = chunk is None
        if chunk:
            pending.append(chunk)
            pending_size += len(chunk)
        if len(buffer) - position + pending_size < retry_at and not end_of_text:
            continue
        buffer = buffer[position:] + "".join(pending)
        pending, pending_size, position = [], 0, 0
        while True:
            position = _skip(buffer, position, "," if started else "[")
            if position < len(buffer) and buffer[position] == "]":
                return
            try:
                item, end = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError:
                if end_of_text:
                    raise LabelStudioError(
                        "The Label Studio export ended in the middle of a task; try loading again."
                    ) from None
                retry_at = 2 * (len(buffer) - position)
                break
            started, position, retry_at = True, end, 0
            yield item


def _skip(text: str, position: int, separator: str) -> int:
    """Skips whitespace and at most one ``separator``."""
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    if position < len(text) and text[position] == separator:
        position += 1
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
    return position

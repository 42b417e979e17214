"""Reading samples from the database while Label Studio is busy."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

T = TypeVar("T")

logger = logging.getLogger(__name__)


class Prefetch:
    """Reads ``ids`` a chunk at a time in a thread, until the first
    :meth:`read`, so that a load reads the dataset while Label Studio builds
    its export (the longest wait of a load) instead of after it.

    Holds no more than ``ids`` (the caller bounds them). A read that fails in
    the thread is only logged: :meth:`read` then reads those ids itself and
    raises where the caller sees it.

    Example:
        >>> prefetch = Prefetch(lambda ids: {i: i.upper() for i in ids}, ["a", "b"], chunk=1)
        >>> prefetch.read(["b", "c"])
        {'b': 'B', 'c': 'C'}
    """

    def __init__(self, read: Callable[[list], dict], ids: Sequence, chunk: int):
        self._read = read
        self._read_ahead: dict = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(list(ids), chunk), name="labelstudio-prefetch", daemon=True
        )
        self._thread.start()

    def _run(self, ids: list, chunk: int) -> None:
        for start in range(0, len(ids), chunk):
            if self._stop.is_set():
                return
            try:
                self._read_ahead.update(self._read(ids[start : start + chunk]))
            except Exception:
                logger.debug(
                    "Reading samples ahead failed; they are read when needed", exc_info=True
                )
                return

    def read(self, ids: Sequence) -> dict:
        """``read(ids)``, from what was read ahead where it can."""
        self.close()
        found = {i: self._read_ahead.pop(i) for i in ids if i in self._read_ahead}
        missing = [i for i in ids if i not in found]
        if missing:
            found.update(self._read(missing))
        return found

    def close(self) -> None:
        """Stops reading ahead, after the chunk being read."""
        self._stop.set()
        self._thread.join()


def read_ahead(items: Iterable[T]) -> Iterator[T]:
    """Yields ``items``, making the next one in a thread while the caller
    works on the current one (never more than one ahead): a request reads
    and converts the next batch of samples while Label Studio imports the
    last. An error making an item is raised where that item would have been
    yielded; the thread stops when the caller stops iterating.

    Example:
        >>> list(read_ahead(iter([1, 2, 3])))
        [1, 2, 3]
    """
    made: queue.Queue = queue.Queue()
    stop = threading.Event()
    done = object()

    def make() -> None:
        try:
            for item in items:
                made.put((item, None))
                made.join()  # until the caller takes it
                if stop.is_set():
                    return
            made.put((done, None))
        except BaseException as error:  # raised in the caller's thread
            made.put((done, error))

    thread = threading.Thread(target=make, name="labelstudio-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = made.get()
            made.task_done()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # an item made after the caller stopped
            try:
                made.get(timeout=0.05)
                made.task_done()
            except queue.Empty:
                pass

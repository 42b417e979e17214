"""Reading samples from the database while Label Studio is busy."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Callable, Generic, Iterable, Iterator, Sequence, TypeVar

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


class ReadAhead(Generic[T]):
    """The items of ``items``, made in a thread from construction on, never
    more than one ahead of the caller: a request makes its first batch of
    tasks while Label Studio makes the project, and each next one while it
    imports the last. An error making an item is raised where that item
    would have been yielded. Iterate once; the thread stops when the
    iteration ends or :meth:`close` is called (also when nothing was taken).

    Example:
        >>> with ReadAhead(iter([1, 2, 3])) as items:
        ...     list(items)
        [1, 2, 3]
    """

    _DONE = object()

    def __init__(self, items: Iterable[T]):
        self._made: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._make, args=(items,), name="labelstudio-read-ahead", daemon=True
        )
        self._thread.start()

    def _make(self, items: Iterable[T]) -> None:
        try:
            for item in items:
                self._made.put((item, None))
                self._made.join()  # until the caller takes it
                if self._stop.is_set():
                    return
            self._made.put((self._DONE, None))
        except BaseException as error:  # raised in the caller's thread
            self._made.put((self._DONE, error))

    def __iter__(self) -> Iterator[T]:
        try:
            while not self._stop.is_set():
                item, error = self._made.get()
                self._made.task_done()
                if error is not None:
                    raise error
                if item is self._DONE:
                    return
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stops making items, after the one being made."""
        self._stop.set()
        while self._thread.is_alive():  # an item made after the caller stopped
            try:
                self._made.get(timeout=0.05)
                self._made.task_done()
            except queue.Empty:
                pass

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""Progress of long backend work, reported to whoever started it.

The operators run the same ``annotate()`` / ``load_annotations()`` as Python
users; they pass ``ctx.set_progress`` down through this context variable
rather than through the run's config, which is stored with the run.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

logger = logging.getLogger(__name__)

Reporter = Callable[[float, str], None]

_REPORTER: ContextVar[Reporter | None] = ContextVar("labelstudio_progress", default=None)


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Sends ``report(fraction, label)`` calls made inside the block to ``reporter``."""
    token = _REPORTER.set(reporter)
    try:
        yield
    finally:
        _REPORTER.reset(token)


def report(fraction: float, label: str) -> None:
    """Reports progress (0 to 1) with a label a person can read."""
    reporter = _REPORTER.get()
    if reporter is None:
        logger.info(label)
    else:
        reporter(min(max(fraction, 0.0), 1.0), label)

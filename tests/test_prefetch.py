"""The load's read-ahead of samples: same answers as reading directly, a
bounded amount read, and database errors raised where the caller sees them."""

from __future__ import annotations

import threading

import pytest
from fiftyone_labelstudio.backend.prefetch import Prefetch


def test_reads_ahead_and_answers_like_a_direct_read():
    calls = []
    done = threading.Event()

    def read(ids):
        calls.append(list(ids))
        if len(calls) == 3:
            done.set()
        return {i: i * 2 for i in ids}

    prefetch = Prefetch(read, range(5), chunk=2)
    assert done.wait(10)
    assert prefetch.read([4, 1, 7]) == {4: 8, 1: 2, 7: 14}
    assert calls == [[0, 1], [2, 3], [4], [7]]
    assert prefetch.read([0, 4]) == {0: 0, 4: 8}  # 4 was handed out: read again


def test_stops_reading_ahead_at_the_first_read():
    release = threading.Event()
    calls = []

    def read(ids):
        calls.append(list(ids))
        if len(calls) == 1:
            release.wait(10)
        return dict.fromkeys(ids, True)

    prefetch = Prefetch(read, range(100), chunk=10)
    threading.Timer(0.2, release.set).start()
    assert prefetch.read([50]) == {50: True}
    assert calls == [list(range(10)), [50]]


def test_a_failed_read_ahead_is_raised_by_read():
    def read(ids):
        raise ConnectionError("database down")

    prefetch = Prefetch(read, range(3), chunk=3)
    with pytest.raises(ConnectionError, match="database down"):
        prefetch.read([1])

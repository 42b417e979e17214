"""The load's read-ahead of samples and the request's of task batches: same
answers as reading directly, a bounded amount read, database errors raised
where the caller sees them, and each batch handed on as soon as it is full."""

from __future__ import annotations

import threading

import pytest
from fiftyone_labelstudio.backend import tasks
from fiftyone_labelstudio.backend.prefetch import Prefetch, ReadAhead


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


def test_the_next_batch_is_made_while_the_caller_sends_this_one():
    made = []
    second_made = threading.Event()

    def batches():
        for n in range(3):
            made.append(n)
            if n == 1:
                second_made.set()
            yield n

    sent = []
    for batch in ReadAhead(batches()):
        if batch == 0:  # the caller is busy with batch 0: batch 1 gets made meanwhile
            assert second_made.wait(10)
        sent.append(batch)
    assert sent == made == [0, 1, 2]


def test_an_error_making_a_batch_is_raised_in_its_place_and_a_stop_stops_the_thread():
    def batches():
        yield 1
        raise ValueError("sample 2 is unreadable")

    got = []
    with pytest.raises(ValueError, match="sample 2"):
        for batch in ReadAhead(batches()):
            got.append(batch)
    assert got == [1]

    made = []

    def endless():
        while True:
            made.append(len(made))
            yield made[-1]

    for batch in ReadAhead(endless()):
        if batch == 2:
            break  # e.g. Label Studio refused the import
    count = len(made)
    assert not any(t.name == "labelstudio-read-ahead" for t in threading.enumerate())
    assert count <= 4 and len(made) == count  # one batch ahead at most, and no more made


def test_a_full_import_batch_goes_before_the_next_task_is_made():
    # the next task's sample may still be unread: a full batch must not wait on it
    made = []

    def task_stream():
        while True:
            made.append(len(made))
            yield {"data": {"image": f"/data/{len(made)}.png"}}

    batches = tasks._batches(task_stream())
    assert len(next(batches)) == len(made) == tasks.TASKS_PER_IMPORT
    assert len(next(batches)) == tasks.TASKS_PER_IMPORT
    assert len(made) == 2 * tasks.TASKS_PER_IMPORT


def test_a_read_ahead_closed_before_anything_was_taken_stops_its_thread():
    made = []

    def endless():
        while True:
            made.append(len(made))
            yield made[-1]

    with ReadAhead(endless()):
        pass  # e.g. Label Studio could not make the project
    count = len(made)
    assert not any(t.name == "labelstudio-read-ahead" for t in threading.enumerate())
    assert count <= 2 and len(made) == count

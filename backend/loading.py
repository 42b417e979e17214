"""Reading a run's finished work: which annotation of each task counts, and
its conversion into FiftyOne labels, sample by sample.

Only completed annotations count: predictions never, skipped (cancelled)
annotations never. Of several, the most recently updated wins (or the
earliest, if the run says so). A sample whose task has no such annotation,
or whose task was deleted in Label Studio, loads nothing.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from ..conversions import FieldSchema, Frame, LoadedSample, labels_of, load_sample
from .dataset_io import SampleValues, settle_mask_file
from .stored_labels import same_label
from .tasks import SAMPLE_ID

logger = logging.getLogger(__name__)

ANNOTATION_CHOICES = ("latest", "earliest")
STATES = ("loaded", "skipped", "not_annotated", "missing")
_CHUNK = 1000
_MASK_TYPES = ("instance", "instances", "segmentation")


@dataclass
class LoadReport:
    """What one load found and did.

    Tasks: ``loaded`` (a completed annotation was loaded), ``skipped`` (its
    annotators skipped it), ``not_annotated``, ``missing`` (the sample's task
    is gone from Label Studio); labels: ``added``, ``edited``, ``deleted``;
    ``unexpected`` results fit no field of the run and ``problems`` are
    malformed regions, both skipped with a warning.
    """

    loaded: int = 0
    skipped: int = 0
    not_annotated: int = 0
    missing: int = 0
    added: int = 0
    edited: int = 0
    deleted: int = 0
    unexpected: int = 0
    problems: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class SampleLoad:
    """What a load found for one sample of the run.

    Args:
        state: one of :data:`STATES`
        current: the sample as the dataset holds it now (read for loaded samples)
        loaded: the labels its annotation holds (loaded samples only)
        task_id: its Label Studio task
    """

    state: str
    current: SampleValues | None = None
    loaded: LoadedSample | None = None
    task_id: int | None = None


@dataclass
class TaskLoads:
    """Every sample of a run with what its task holds, and the report."""

    samples: dict[str, SampleLoad]
    report: LoadReport = dataclass_field(default_factory=LoadReport)


def choose_annotation(annotations: Sequence[dict], choice: str = "latest") -> dict | None:
    """The completed annotation that counts, or None.

    Example:
        >>> a = [{"id": 1, "updated_at": "2026-01-02T00:00:00Z", "result": []},
        ...      {"id": 2, "updated_at": "2026-01-03T00:00:00Z", "was_cancelled": True}]
        >>> choose_annotation(a)["id"]
        1
    """
    completed = [
        a for a in annotations if not a.get("was_cancelled") and a.get("result") is not None
    ]
    if not completed:
        return None
    pick = max if choice == "latest" else min
    return pick(completed, key=_updated)


def _updated(annotation: dict) -> tuple[str, int]:
    stamp = annotation.get("updated_at") or annotation.get("created_at") or ""
    return str(stamp), annotation.get("id") or 0


def load_tasks(
    tasks: Iterable[dict],
    sample_ids: Sequence[str],
    fields: Sequence[FieldSchema],
    read_samples: Callable[[list[str]], Mapping[str, SampleValues]],
    choice: str = "latest",
    progress: Callable[[int], None] = lambda done: None,
) -> TaskLoads:
    """Converts the exported tasks of a run, a chunk at a time.

    Args:
        tasks: the project's tasks, as exported (with annotations)
        sample_ids: the samples the run sent
        fields: the run's fields whose controls the project still has
        read_samples: ``(sample ids) -> {sample id: SampleValues}``, the
            current state of those samples (their labels are the originals
            that untouched regions come back as)
        choice: which completed annotation counts
        progress: told how many tasks were read so far
    """
    sent = set(sample_ids)
    samples: dict[str, SampleLoad] = {}
    stamps: dict[str, str] = {}  # sample id -> updated_at of the annotation loaded
    report = LoadReport()
    done = 0
    for chunk in _chunks(tasks, _CHUNK):
        picks = {}
        for task in chunk:
            sample_id = (task.get("data") or {}).get(SAMPLE_ID)
            if sample_id not in sent:
                logger.warning("Task %s holds no sample of this run; ignored", task.get("id"))
                continue
            annotations = task.get("annotations") or []
            annotation = choose_annotation(annotations, choice)
            if annotation is None:
                if sample_id not in samples:
                    cancelled = any(a.get("was_cancelled") for a in annotations)
                    state = "skipped" if cancelled else "not_annotated"
                    samples[sample_id] = SampleLoad(state, task_id=task.get("id"))
                continue
            stamp = str(annotation.get("updated_at") or "")
            if stamps.get(sample_id, "") > stamp:
                continue  # a duplicate task of this sample with an older annotation
            stamps[sample_id] = stamp
            picks[sample_id] = (task, annotation)
        if picks:
            current = read_samples(list(picks))
            for sample_id, (task, annotation) in picks.items():
                samples[sample_id] = _convert(
                    sample_id, task, annotation, current.get(sample_id), fields, report
                )
        done += len(chunk)
        progress(done)

    for sample_id in sent:
        samples.setdefault(sample_id, SampleLoad("missing"))
    for load in samples.values():
        setattr(report, load.state, getattr(report, load.state) + 1)
    if report.missing:
        logger.warning(
            "%d samples of this run have no task in Label Studio any more (deleted there?); "
            "their labels are left as they are",
            report.missing,
        )
    return TaskLoads(samples, report)


def _convert(sample_id, task, annotation, current, fields, report) -> SampleLoad:
    current = current or SampleValues(None, None, {})
    frame = Frame(current.width or 0, current.height or 0, sample_id)
    originals = {
        f.name: {label.id: label for label in labels_of(current.values.get(f.name), f)}
        for f in fields
        if f.label_type != "scalar"
    }
    loaded = load_sample(annotation["result"], fields, frame, originals)
    for f in fields:
        if f.label_type == "scalar":
            continue
        labels = loaded.values.get(f.name) or {}
        for label_id, label in labels.items():
            original = originals[f.name].get(label_id)
            if original is not None and label is not original and same_label(label, original):
                labels[label_id] = original  # rebuilt, but the same: unchanged
            elif f.label_type in _MASK_TYPES:
                settle_mask_file(label)
    for problem in loaded.problems:
        logger.warning(
            "Task %s, region %s of '%s': skipped: %s",
            task.get("id"),
            problem.region_id,
            problem.from_name,
            problem.message,
        )
    report.problems += len(loaded.problems)
    report.unexpected += sum(len(stray.results) for stray in loaded.unexpected)
    return SampleLoad("loaded", current, loaded, task.get("id"))


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk

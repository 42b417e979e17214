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
from datetime import datetime, timezone
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from ..conversions import FieldSchema, LoadedSample, family_of, labels_of, load_sample
from ..conversions.attributes import ANNOTATED_AT, ANNOTATOR
from ..conversions.base import MALFORMED, label_id_of, sent_results, split_region_id
from .dataset_io import SampleValues, settle_mask_file
from .sent_labels import LeftAlone
from .stored_labels import StoredLabelIndex, same_label
from .tasks import SAMPLE_ID

logger = logging.getLogger(__name__)

ANNOTATION_CHOICES = ("latest", "earliest", "all")
"""Which completed annotation of a task loads: the most recently updated, the
first, or each annotator's (into fields of their own); or an annotator's
email: that annotator's latest."""
STATES = ("loaded", "skipped", "not_annotated", "missing")
_CHUNK = 1000
_MASK_TYPES = ("instance", "instances", "segmentation")
"""The attributes of a loaded label that say who made it and when."""


@dataclass
class LoadReport:
    """What one load found and did.

    Tasks: ``loaded`` (a completed annotation was loaded), ``skipped`` (its
    annotators skipped it), ``not_annotated``, ``missing`` (the sample's task
    is gone from Label Studio); labels: ``added``, ``edited``, ``deleted``,
    and ``kept`` (edited in FiftyOne since the request or a load, and not
    changed by their annotators since: their FiftyOne edits stay);
    ``unexpected`` results fit no field of the run and ``problems`` are
    malformed regions, both skipped with a warning; ``changed`` tasks were
    read (all of them, or those changed since the last load).
    """

    loaded: int = 0
    skipped: int = 0
    not_annotated: int = 0
    missing: int = 0
    added: int = 0
    edited: int = 0
    deleted: int = 0
    kept: int = 0
    unexpected: int = 0
    problems: int = 0
    changed: int = 0

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
        by_annotator: with ``annotation_choice="all"``, ``{annotator: labels}``
            of each annotator's annotation
        annotator, annotated_at: who completed the annotation loaded, and when
    """

    state: str
    current: SampleValues | None = None
    loaded: LoadedSample | None = None
    task_id: int | None = None
    by_annotator: dict[str, LoadedSample] = dataclass_field(default_factory=dict)
    annotator: str | None = None
    annotated_at: datetime | None = None


@dataclass
class TaskLoads:
    """The samples whose tasks a load read, with what those hold; each task's
    ``[sample id, state]``; the report; and ``{field: {label id:
    fingerprint}}`` of the regions of the labels the annotations changed
    (see :class:`References`)."""

    samples: dict[str, SampleLoad]
    tasks: dict[str, list] = dataclass_field(default_factory=dict)
    report: LoadReport = dataclass_field(default_factory=LoadReport)
    written: dict[str, dict[str, str]] = dataclass_field(default_factory=dict)


@dataclass
class References:
    """What a load compares annotations with, to tell the annotators' edits
    from edits made in FiftyOne (see :mod:`.sent_labels`).

    Args:
        sent: ``(task) -> results`` it was sent with (:class:`.sent_labels.SentResults`)
        sent_at: when the run sent its samples (naive UTC, as FiftyOne's
            ``last_modified_at``): the labels of samples modified since are
            compared; None for none
        written: ``{field: {label id: fingerprint}}`` of the regions earlier
            loads wrote labels from
        record: whether the load notes the fingerprints of the labels it
            gives (``TaskLoads.written``), for a load into the fields themselves
    """

    sent: Callable[[Mapping], list]
    sent_at: datetime | None
    written: Mapping[str, Mapping[str, str]] = dataclass_field(default_factory=dict)
    record: bool = True


def choose_annotation(
    annotations: Sequence[dict], choice: str = "latest", annotators: Mapping[Any, str] = {}
) -> dict | None:
    """The completed annotation that counts, or None.

    Example:
        >>> a = [{"id": 1, "updated_at": "2026-01-02T00:00:00Z", "result": [], "completed_by": 7},
        ...      {"id": 2, "updated_at": "2026-01-03T00:00:00Z", "was_cancelled": True}]
        >>> choose_annotation(a)["id"], choose_annotation(a, "bob@x.org", {7: "alice@x.org"})
        (1, None)
    """
    completed = [
        a for a in annotations if not a.get("was_cancelled") and a.get("result") is not None
    ]
    if choice not in ("latest", "earliest", "all"):
        completed = [a for a in completed if annotator_of(a, annotators) == choice]
    if not completed:
        return None
    pick = min if choice == "earliest" else max
    return pick(completed, key=_updated)


def by_annotator(annotations: Sequence[dict], annotators: Mapping[Any, str]) -> dict[str, dict]:
    """Each annotator's latest completed annotation: ``{annotator: annotation}``."""
    latest: dict[str, dict] = {}
    for annotation in annotations:
        if annotation.get("was_cancelled") or annotation.get("result") is None:
            continue
        who = annotator_of(annotation, annotators)
        if who not in latest or _updated(annotation) > _updated(latest[who]):
            latest[who] = annotation
    return latest


def annotator_of(annotation: Mapping, annotators: Mapping[Any, str]) -> str:
    """Who completed an annotation: the user's email where known, else their id.

    Example:
        >>> annotator_of({"completed_by": 3}, {3: "ann@x.org"}), annotator_of({"completed_by": 4}, {})
        ('ann@x.org', 'user 4')
    """
    who = annotation.get("completed_by")
    if isinstance(who, Mapping):
        who = who.get("email") or who.get("id")
    return annotators.get(who) or (who if isinstance(who, str) else f"user {who}")


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
    annotators: Mapping[Any, str] = {},
    references: References | None = None,
) -> TaskLoads:
    """Converts a run's tasks, a chunk at a time.

    Args:
        tasks: tasks of the project, as exported (with annotations): all of
            them, or those changed since the last load
        sample_ids: the samples the run sent
        fields: the run's fields whose controls the project still has
        read_samples: ``(sample ids) -> {sample id: SampleValues}``, the
            current state of those samples (their labels are the originals
            that untouched regions come back as)
        choice: which completed annotation counts (:data:`ANNOTATION_CHOICES`,
            or an annotator's email)
        progress: told how many tasks were read so far
        annotators: ``{user id: email}`` of the server's users
        references: what annotations are compared with: a label of a
            sample modified since the request, whose regions the annotator
            left as the field last got them, keeps what the dataset holds (an
            edit made in FiftyOne meanwhile is not undone)

    Returns:
        the :class:`TaskLoads` of the samples whose tasks were read
    """
    run_samples = set(sample_ids)
    loads = TaskLoads({})
    stamps: dict[str, str] = {}  # sample id -> updated_at of the annotation loaded
    done = 0
    for chunk in _chunks(tasks, _CHUNK):
        picks = {}
        for task in chunk:
            sample_id = (task.get("data") or {}).get(SAMPLE_ID)
            if sample_id not in run_samples:
                continue  # another run's, in a project runs share
            annotations = task.get("annotations") or []
            if choice == "all":
                chosen = by_annotator(annotations, annotators)
                annotation = max(chosen.values(), key=_updated, default=None)
            else:
                annotation = choose_annotation(annotations, choice, annotators)
            if annotation is None:
                cancelled = any(a.get("was_cancelled") for a in annotations)
                state = "skipped" if cancelled else "not_annotated"
                loads.tasks[str(task.get("id"))] = [sample_id, state]
                if sample_id not in loads.samples:
                    loads.samples[sample_id] = SampleLoad(state, task_id=task.get("id"))
                continue
            loads.tasks[str(task.get("id"))] = [sample_id, "loaded"]
            stamp = str(annotation.get("updated_at") or "")
            if stamps.get(sample_id, "") > stamp:
                continue  # a duplicate task of this sample with an older annotation
            stamps[sample_id] = stamp
            picks[sample_id] = (task, chosen if choice == "all" else {None: annotation})
        if picks:
            current = read_samples(list(picks))
            gone = [sample_id for sample_id in picks if sample_id not in current]
            if gone:
                logger.warning(
                    "%d annotated samples of the run are no longer in the dataset (deleted "
                    "since the request, e.g. %s): their annotations are not loaded",
                    len(gone),
                    gone[0],
                )
            for sample_id, (task, chosen) in picks.items():
                if sample_id not in current:
                    continue
                load = SampleLoad("loaded", current[sample_id], task_id=task.get("id"))
                if None in chosen:
                    load.annotator = annotator_of(chosen[None], annotators)
                    load.annotated_at = _when(chosen[None])
                for who, annotation in chosen.items():
                    loaded = _convert(task, annotation, load, fields, loads, annotators, references)
                    if who is None:
                        load.loaded = loaded
                    else:
                        load.by_annotator[who] = loaded
                loads.samples[sample_id] = load
        done += len(chunk)
        progress(done)
    return loads


def tally(report: LoadReport, tasks: Mapping[str, list], sample_ids: Sequence[str]) -> None:
    """Counts the run's samples by the state of their tasks: ``loaded`` if any
    of its tasks loaded, else ``skipped``, else ``not_annotated``; a sample
    without a task is ``missing``."""
    best: dict[str, str] = {}
    for sample_id, state in tasks.values():
        if STATES.index(state) < STATES.index(best.get(sample_id, "missing")):
            best[sample_id] = state
    for sample_id in sample_ids:
        state = best.get(sample_id, "missing")
        setattr(report, state, getattr(report, state) + 1)
    if report.missing:
        logger.warning(
            "%s of this run %s no task in Label Studio any more (deleted there?); "
            "their labels are left as they are",
            "1 sample" if report.missing == 1 else f"{report.missing} samples",
            "has" if report.missing == 1 else "have",
        )


def _convert(
    task, annotation, load: SampleLoad, fields, loads: TaskLoads, annotators, references=None
) -> LoadedSample:
    """One annotation's labels; the new and edited ones record who made them
    and when (``annotator``, ``annotated_at``). With ``references``, a label
    of a sample modified since the request, which its annotator left as the
    field last got it, stays as the sample holds it; the fingerprints of the
    labels that differ from what was sent are noted in ``loads.written``."""
    report = loads.report
    current = load.current or SampleValues(None, None, {})
    sample_id = str(task["data"][SAMPLE_ID])
    frame = current.frame(sample_id)
    originals = index_labels(sample_id, current, fields)
    loaded = load_sample(annotation["result"], fields, frame, originals)
    who, when = annotator_of(annotation, annotators), _when(annotation)
    modified = current.modified_at
    compared = (
        references is not None
        and references.sent_at is not None
        and modified is not None
        and modified > references.sent_at
    )
    alone = None

    def left_alone() -> LeftAlone:  # made when first needed
        nonlocal alone
        if alone is None:
            sent = partial(references.sent, task)
            alone = LeftAlone(annotation, sent, references.written, _label_id_of(fields, frame))
        return alone

    for f in fields:
        if f.label_type == "scalar":
            continue
        noted = references is not None and references.record and not f.is_frame_field
        for labels, before in label_dicts(loaded.values.get(f.name), originals[f.name], f):
            for label_id, label in labels.items():
                original = before.get(label_id)
                if original is not None and label is not original and same_label(label, original):
                    labels[label_id] = original  # rebuilt, but the same: unchanged
                    continue
                if label is original:
                    continue
                if compared and original is not None and noted and left_alone()(f.name, label_id):
                    labels[label_id] = original  # edited in FiftyOne since, not by the annotator
                    report.kept += 1
                    continue
                label[ANNOTATOR], label[ANNOTATED_AT] = who, when
                if original is not None and same_label(label, original):
                    labels[label_id] = original  # loaded before, by the same annotation
                elif f.label_type in _MASK_TYPES:
                    settle_mask_file(label)
                if noted:
                    made = left_alone().fingerprint(label_id)
                    if made is not None:
                        loads.written.setdefault(f.name, {})[label_id] = made
    _check_frames_count(task, annotation, frame)
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
    return loaded


def _label_id_of(fields: Sequence[FieldSchema], frame) -> Callable[[dict], str | None]:
    """``(result) -> label id`` a region loads as, for :class:`LeftAlone`:
    the one its id holds, or (drawn in Label Studio, a single part) the one
    derived from it; None for results of other controls."""
    field_of = {}
    for f in fields:
        field_of[f.control] = f.name
        field_of.update((a.control(f.control), f.name) for a in f.attributes)

    def label_id(result: dict) -> str | None:
        region_id = str(result.get("id"))
        own, _ = split_region_id(region_id)  # of a part too: the parts of one label
        name = field_of.get(result.get("from_name"))
        if own is not None or name is None:
            return own
        return label_id_of(region_id, frame, name)

    return label_id


def index_labels(sample_id: str, sample: SampleValues, fields: Sequence[FieldSchema]) -> dict:
    """``{field: label index}`` of a sample's labels, the originals its
    regions load against (:func:`label_index`), made once and kept with the
    sample; each label's sent results are made too where its field's family
    compares them (``Family.compares_sent``). A load does this for the
    samples it reads ahead, while Label Studio exports: 22 to 39% of
    converting tasks of ten boxes (``bench/convert.py``)."""
    if sample.originals is None:
        frame = sample.frame(sample_id)
        sample.originals = {}
        for f in fields:
            if f.label_type == "scalar":
                continue
            index = sample.originals[f.name] = label_index(sample.values.get(f.name), f)
            family = family_of(f)
            if family.compares_sent and not f.is_frame_field:
                for label in index.values():
                    try:
                        sent_results(label, family.export, f, frame, index)
                    except MALFORMED:
                        pass  # no export takes it: a region of it is a problem when converted
    return sample.originals


def label_index(value: Any, field: FieldSchema) -> dict:
    """A field value's labels by id, ``{label id: label}``; of a frame-level
    field, ``{frame number: {label id: label}}``."""
    if field.is_frame_field:
        return StoredLabelIndex(
            (n, {label.id: label for label in labels}) for n, labels in (value or {}).items()
        )
    return StoredLabelIndex((label.id, label) for label in labels_of(value, field))


def label_dicts(loaded, originals, field: FieldSchema):
    """The ``({label id: label}, {label id: original})`` pairs of a field's
    loaded labels: one, or one per frame of a frame-level field."""
    if not loaded:
        return []
    if field.is_frame_field:
        return [(labels, originals.get(n, {})) for n, labels in loaded.items()]
    return [(loaded, originals)]


def _check_frames_count(task, annotation, frame) -> None:
    """Warns where Label Studio's editor counted another number of frames in
    a video than FiftyOne's metadata: its frame numbers may not be FiftyOne's."""
    if not frame.frames_count:
        return
    counts = {
        r["value"].get("framesCount")
        for r in annotation["result"]
        if isinstance(r, dict) and isinstance(r.get("value"), dict)
    } - {None, frame.frames_count}
    if counts:
        logger.warning(
            "Sample %s (task %s): Label Studio's editor counts %s frames where FiftyOne's "
            "metadata.total_frame_count is %d; frame numbers may differ (recompute the "
            "metadata with compute_metadata(overwrite=True), or re-encode the video with a "
            "constant frame rate)",
            frame.key,
            task.get("id"),
            sorted(counts),
            frame.frames_count,
        )


def _when(annotation: Mapping) -> datetime | None:
    stamp = annotation.get("updated_at") or annotation.get("created_at")
    if not stamp:
        return None
    when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).astimezone(timezone.utc)
    # as FiftyOne's database keeps it: naive UTC, whole milliseconds
    return when.replace(tzinfo=None, microsecond=when.microsecond // 1000 * 1000)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk

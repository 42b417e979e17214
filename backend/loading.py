"""Reading a run's finished work back: which annotation of each task counts,
its conversion to FiftyOne labels, and a report of what changed.

Only completed annotations count: predictions never, skipped (cancelled)
annotations never. Of several, the most recently updated wins (or the
earliest, if the run says so). A sample whose task has no such annotation, or
whose task was deleted in Label Studio, loads nothing and keeps its labels.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Collection, Iterable, Iterator, Mapping, Sequence

from ..conversions import FieldSchema, Frame, family_of, labels_of, load_sample
from .stored_labels import as_label
from .tasks import SAMPLE_ID

logger = logging.getLogger(__name__)

ANNOTATION_CHOICES = ("latest", "earliest")
_CHUNK = 1000


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
class Loaded:
    """Labels in the form ``AnnotationBackend.download_annotations`` returns
    them, ``{field: sample ids}`` the merge must leave alone, and the report."""

    annotations: dict[str, dict[str, dict]]
    held: dict[str, set[str]]
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
    return str(annotation.get("updated_at") or annotation.get("created_at") or ""), annotation.get(
        "id"
    ) or 0


def load_tasks(
    tasks: Iterable[dict],
    sample_ids: Sequence[str],
    fields: Sequence[FieldSchema],
    id_map: Mapping[str, Mapping[str, Any]],
    read_samples,
    choice: str = "latest",
    in_place: Collection[str] = (),
) -> Loaded:
    """Converts the exported tasks of a run.

    Args:
        tasks: the project's tasks, as exported (with annotations)
        sample_ids: the samples the run sent
        fields: the run's fields
        id_map: the run's ``{field: {sample id: label id(s)}}`` of existing labels
        read_samples: ``(sample ids) -> {sample id: (width, height, {field: value})}``,
            the current state of those samples
        choice: which completed annotation counts
        in_place: the fields loaded into themselves (not into a ``dest_field``):
            where such a field comes back unchanged, the sample is held rather
            than merged, as merging it changes nothing but costs FiftyOne a
            read and a write of the sample
    """
    annotations = {f.name: {family_of(f).anno_type: {}} for f in fields}
    held = {f.name: set() for f in fields}
    report = LoadReport()
    sent = set(sample_ids)
    seen: dict[str, str] = {}  # sample id -> updated_at of the annotation loaded
    states: dict[str, str] = {}
    for chunk in _chunks(tasks, _CHUNK):
        picks = {}
        for task in chunk:
            sample_id = (task.get("data") or {}).get(SAMPLE_ID)
            if sample_id not in sent:
                logger.warning("Task %s holds no sample of this run; ignored", task.get("id"))
                continue
            annotation = choose_annotation(task.get("annotations") or [], choice)
            if annotation is None:
                cancelled = any(a.get("was_cancelled") for a in task.get("annotations") or [])
                states.setdefault(sample_id, "skipped" if cancelled else "not_annotated")
                continue
            stamp = str(annotation.get("updated_at") or "")
            if sample_id in seen and seen[sample_id] >= stamp:
                continue  # a duplicate task of this sample with an older annotation
            seen[sample_id] = stamp
            states[sample_id] = "loaded"
            picks[sample_id] = (task, annotation)
        if picks:
            current = read_samples(list(picks))
            _convert(picks, fields, id_map, current, annotations, report, held, set(in_place))

    for sample_id in sent:
        state = states.get(sample_id, "missing")
        setattr(report, state, getattr(report, state) + 1)
    if report.missing:
        logger.warning(
            "%d samples of this run have no task in Label Studio any more (deleted there?); "
            "their labels were left as they are",
            report.missing,
        )
    not_loaded = {sample_id for sample_id in sent if states.get(sample_id) != "loaded"}
    for samples in held.values():
        samples |= not_loaded
    return Loaded(annotations, held, report)


def _convert(picks, fields, id_map, current, annotations, report, held, in_place) -> None:
    by_name = {f.name: f for f in fields}
    for sample_id, (task, annotation) in picks.items():
        width, height, values = current.get(sample_id, (None, None, {}))
        frame = Frame(width or 0, height or 0, sample_id)
        originals = {
            f.name: {label.id: label for label in labels_of(values.get(f.name), f)}
            for f in fields
            if f.label_type != "scalar"
        }
        loaded = load_sample(annotation["result"], fields, frame, originals)
        for problem in loaded.problems:
            logger.warning(
                "Task %s, region %s of '%s': skipped: %s",
                task.get("id"),
                problem.region_id,
                problem.from_name,
                problem.message,
            )
        report.problems += len(loaded.problems)

        broken = {problem.from_name for problem in loaded.problems}
        for f in fields:
            value = loaded.values[f.name]
            before = values.get(f.name)
            if f.label_type == "scalar" and value is None and f.name in broken:
                value = before  # a malformed result is skipped, not read as cleared
            sent = id_map.get(f.name, {}).get(sample_id)
            if f.label_type == "scalar":
                changes = _scalar_changes(before, value, sent is not None)
            else:
                changes = _label_changes(originals[f.name], set(_ids(sent)), value)
            report.added += changes[0]
            report.edited += changes[1]
            report.deleted += changes[2]
            if not any(changes) and f.name in in_place:
                held[f.name].add(sample_id)
            elif f.label_type == "scalar" and value is not None:
                annotations[f.name]["scalar"][sample_id] = value
            elif f.label_type != "scalar" and value:
                labels = {label_id: as_label(label) for label_id, label in value.items()}
                annotations[f.name][family_of(f).anno_type][sample_id] = labels

        for stray in loaded.unexpected:
            report.unexpected += len(stray.results)
            if stray.from_name in by_name and stray.anno_type and stray.labels is not None:
                # FiftyOne's `unexpected` option decides what becomes of them
                annotations[stray.from_name].setdefault(stray.anno_type, {})[sample_id] = (
                    stray.labels
                )
            else:
                logger.warning(
                    "Task %s: %d results of control %r (type %r) fit no field of this run; skipped",
                    task.get("id"),
                    len(stray.results),
                    stray.from_name,
                    stray.result_type,
                )


def _label_changes(
    current: Mapping[str, Any], sent_ids: set, loaded: Mapping
) -> tuple[int, int, int]:
    """``(added, edited, deleted)`` as FiftyOne's merge will make them: it
    deletes the labels the run sent that the annotation lacks, adds those the
    run did not send, and overwrites the others; a label that came back
    untouched is the very object that was read."""
    added = len(set(loaded) - sent_ids)
    deleted = len((sent_ids & set(current)) - set(loaded))
    edited = sum(
        1
        for label_id, label in loaded.items()
        if label_id in sent_ids and label_id in current and label is not current[label_id]
    )
    return added, edited, deleted


def _scalar_changes(before: Any, after: Any, sent: bool) -> tuple[int, int, int]:
    if before is None:
        return int(after is not None), 0, 0
    if after is None:
        return 0, 0, int(sent)
    return 0, int(before != after), 0


def _ids(value: Any) -> list:
    if value is None or value is True:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk

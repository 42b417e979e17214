"""What a load writes, with FiftyOne's merge rules (:mod:`.merge`): for each
target field (the run's own, a ``dest_field``, or a field for labels of an
unexpected type), the samples whose value changes and their new values, and
the labels the run knows afterwards (its ``id_map``)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import fiftyone.core.labels as fol

from ..conversions import FieldSchema, labels_of
from .dataset_io import as_stored_list, label_class
from .loading import TaskLoads, label_index
from .merge import Merged, merge_label, merge_labels, merge_scalar

logger = logging.getLogger(__name__)

UNEXPECTED = ("keep", "ignore", "return")
"""What becomes of labels of another type than their field's (FiftyOne's ``unexpected``)."""


@dataclass(frozen=True)
class Target:
    """Where the labels of one run field go: ``dest`` (the field itself, a
    ``dest_field``, for unexpected labels a field named after their type, or
    with ``annotation_choice="all"`` a field of one ``annotator``'s)."""

    source: FieldSchema
    dest: str
    annotator: str | None = None

    @property
    def in_place(self) -> bool:
        return self.dest == self.source.name

    @property
    def dest_schema(self) -> FieldSchema:
        return FieldSchema(self.dest, self.source.label_type, scalar_type=self.source.scalar_type)


def targets(fields: Sequence[FieldSchema], dest_field: Any) -> list[Target]:
    """Each field's destination, by FiftyOne's rules for ``dest_field``: a
    string names the new field of a one-field run (and is ignored, with a
    warning, for a run of several fields), a dict maps run fields to fields.

    Example:
        >>> [t.dest for t in targets([FieldSchema("gt", "detections")], "reviewed")]
        ['reviewed']
    """
    if isinstance(dest_field, str):
        if len(fields) == 1:
            return [Target(fields[0], dest_field)]
        logger.warning(
            "Ignoring dest_field=%r: the run has %d fields; give a dict {run field: new field}",
            dest_field,
            len(fields),
        )
        dest_field = None
    if dest_field is not None and not isinstance(dest_field, Mapping):
        raise ValueError(
            f"dest_field={dest_field!r} must be a field name or a dict {{run field: new field}}"
        )
    mapping = dict(dest_field or {})
    unknown = sorted(set(mapping) - {f.name for f in fields})
    if unknown:
        raise ValueError(
            f"dest_field names {unknown}, which are not fields of this run; use some of "
            f"{[f.name for f in fields]}"
        )
    found = [Target(f, mapping.get(f.name, f.name)) for f in fields]
    for target in found:
        if target.source.is_frame_field != target.dest.startswith("frames."):
            level = "frame-level" if target.source.is_frame_field else "sample-level"
            raise ValueError(
                f"dest_field: '{target.source.name}' is a {level} field, and so must be its "
                f"destination, not '{target.dest}'"
                + (" (name it 'frames.<name>')" if target.source.is_frame_field else "")
            )
    return found


def annotator_field(field: str, annotator: str) -> str:
    """The field an annotator's labels of a run field load into.

    Example:
        >>> annotator_field("boxes", "Ann.Lee@example.com")
        'boxes_ann_lee_example_com'
    """
    return f"{field}_" + re.sub(r"[^a-z0-9]+", "_", annotator.lower()).strip("_")


def annotator_targets(fields: Sequence[FieldSchema], loads: TaskLoads) -> list[Target]:
    """A target per run field and annotator who completed an annotation."""
    found = sorted({who for load in loads.samples.values() for who in load.by_annotator})
    return [Target(f, annotator_field(f.name, who), who) for f in fields for who in found]


@dataclass
class Plan:
    """What a load writes: ``writes[field] = (label type, {sample id: value})``,
    the run's known label ids after it (``id_map`` entries), and the labels
    of unexpected types a caller asked to have returned."""

    writes: dict[str, tuple[str, dict]] = field(default_factory=dict)
    known: dict[str, dict[str, Any]] = field(default_factory=dict)
    returned: dict[str, dict[str, dict]] = field(default_factory=dict)


# -- planning -------------------------------------------------------------------


def plan_load(
    loads: TaskLoads,
    targets_: Sequence[Target],
    id_map: Mapping[str, Mapping[str, Any]],
    unexpected: str = "keep",
) -> Plan:
    """The writes a load makes, with FiftyOne's merge rules (:mod:`.merge`),
    and the report's label counts."""
    plan = Plan()
    report = loads.report
    for target in targets_:
        for sample_id, load in loads.samples.items():
            loaded = _labels_for(target, load)
            if loaded is _NOTHING:
                continue
            _merge_into(plan, report, target.dest_schema, sample_id, load, loaded, id_map)

    by_name = {t.source.name: t.source for t in targets_}
    # FiftyOne returns a field's unexpected labels under its destination
    dest_of = {t.source.name: t.dest for t in targets_ if t.annotator is None}
    for sample_id, load in loads.samples.items():
        for stray in load.loaded.unexpected if load.loaded else ():
            if stray.from_name not in by_name or stray.anno_type is None or stray.labels is None:
                logger.warning(
                    "Task %s: %d results of control %r (type %r) fit no field of this run; skipped",
                    load.task_id,
                    len(stray.results),
                    stray.from_name,
                    stray.result_type,
                )
            elif unexpected == "keep":
                dest = FieldSchema(stray.anno_type, stray.anno_type)
                _merge_into(plan, report, dest, sample_id, load, stray.labels, id_map)
            elif unexpected == "return":
                returned = plan.returned.setdefault(
                    dest_of.get(stray.from_name, stray.from_name), {}
                )
                returned.setdefault(stray.anno_type, {})[sample_id] = stray.labels
    return plan


_NOTHING = object()


def _labels_for(target: Target, load) -> Any:
    """What the annotation gives a target: the loaded labels, or, for a
    sample without a completed annotation loaded into another field, the
    labels as they are."""
    source = target.source
    if target.annotator is not None:
        mine = load.by_annotator.get(target.annotator)
        return _NOTHING if mine is None else mine.values.get(source.name)
    if load.state == "loaded":
        return load.loaded.values.get(source.name)
    if target.in_place or load.current is None:
        return _NOTHING
    value = load.current.values.get(source.name)
    if source.label_type == "scalar":
        return value
    return label_index(value, source)


def _merge_into(plan, report, dest: FieldSchema, sample_id, load, loaded, id_map) -> None:
    if dest.is_frame_field:
        _merge_frames(plan, report, dest, sample_id, load, loaded, id_map)
        return
    current = load.current.values.get(dest.name) if load.current else None
    known_ids = recorded_ids(id_map.get(dest.name, {}).get(sample_id))
    if dest.label_type == "scalar":
        merged = merge_scalar(current, loaded, sample_id in id_map.get(dest.name, {}))
    elif issubclass(label_class(dest.label_type), fol._HasLabelList):
        merged = merge_labels(labels_of(current, dest), set(known_ids), loaded or {})
    else:
        merged = merge_label(current, set(known_ids), loaded or {})
    report.added += merged.added
    report.edited += merged.edited
    report.deleted += merged.deleted
    if merged.changed:
        plan.writes.setdefault(dest.name, (dest.label_type, {}))[1][sample_id] = _value_of(
            merged, dest, current
        )
        if dest.label_type == "scalar" and load.annotator is not None:
            # a scalar has no attributes: who set it, and when, are fields beside it
            for suffix, value in (
                ("annotator", load.annotator),
                ("annotated_at", load.annotated_at),
            ):
                plan.writes.setdefault(f"{dest.name}_{suffix}", ("scalar", {}))[1][sample_id] = (
                    value
                )
    known = _known_after(dest, known_ids, current, loaded, merged)
    if known is not None:
        plan.known.setdefault(dest.name, {})[sample_id] = known


def _merge_frames(plan, report, dest: FieldSchema, sample_id, load, loaded, id_map) -> None:
    """:func:`_merge_into` for a frame-level field, frame by frame: its value
    is ``{frame number: labels}``, and the run knows ``{frame id: [label
    ids]}`` per sample, as FiftyOne records a video's labels."""
    current = (load.current.values.get(dest.name) if load.current else None) or {}
    frame_ids = load.current.frame_ids if load.current else {}
    numbers = {frame_id: n for n, frame_id in frame_ids.items()}
    known = id_map.get(dest.name, {}).get(sample_id) or {}
    loaded = loaded or {}
    changes, known_after = {}, {}
    for n in sorted({*current, *loaded, *(numbers[f] for f in known if f in numbers)}):
        frame_id = frame_ids.get(n)
        known_ids = recorded_ids(known.get(frame_id))
        merged = merge_labels(list(current.get(n, ())), set(known_ids), loaded.get(n) or {})
        report.added += merged.added
        report.edited += merged.edited
        report.deleted += merged.deleted
        if merged.changed:
            changes[n] = as_stored_list(merged.labels, like=current.get(n))
        after = _known_after(dest, known_ids, current.get(n), loaded.get(n), merged)
        if after and frame_id is not None:
            known_after[frame_id] = after
    if changes:
        plan.writes.setdefault(dest.name, (dest.label_type, {}))[1][sample_id] = changes
    if known_after or known:
        plan.known.setdefault(dest.name, {})[sample_id] = known_after


def _value_of(merged: Merged, dest: FieldSchema, current: Any) -> Any:
    if dest.label_type != "scalar" and issubclass(label_class(dest.label_type), fol._HasLabelList):
        return as_stored_list(merged.labels, like=current)
    return merged.labels[0] if merged.labels else None


def _known_after(dest, known_ids, current, loaded, merged) -> Any:
    """The run's ``id_map`` entry after the merge: what it knew, less what the
    annotation deleted, plus what it added; None where nothing is known."""
    if dest.label_type == "scalar":
        return True if merged.labels else (True if known_ids or current is not None else None)
    kept = {label.id for label in merged.labels}
    present = {label.id for label in labels_of(current, dest)}
    ids = [i for i in known_ids if i in kept or i not in present]
    ids += [i for i in (loaded or {}) if i in kept and i not in ids]
    if issubclass(label_class(dest.label_type), fol._HasLabelList):
        return ids
    return ids[0] if ids else None


def recorded_ids(value: Any) -> list:
    """The label ids of one ``id_map`` entry (a list of ids, one id, or
    none).

    Example:
        >>> recorded_ids("a1"), recorded_ids(["a1", "b2"]), recorded_ids(None)
        (['a1'], ['a1', 'b2'], [])
    """
    if value is None or value is True:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]

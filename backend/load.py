"""Loading a run: the whole path from Label Studio's export to the dataset.

Two entry points share it:

- :func:`load_annotations`, the plugin's own load (the operator's, and the
  fast one for Python): it knows its destination fields, computes per field
  the labels added, edited and deleted, and writes only the samples that
  changed, one bulk write per field, under the run's lock.
- :func:`download_annotations`, behind FiftyOne's ``dataset.load_annotations()``:
  it returns every sample's labels in the form FiftyOne's merge takes, and
  FiftyOne writes them (sample by sample).

Both give the same dataset. A sample whose task has no completed annotation
(not annotated yet, skipped, or deleted in Label Studio) holds its labels as
they are: they stay unchanged in their own field, and are copied into a
``dest_field`` (FiftyOne's merge deletes any label the run sent that a
backend does not return, so the labels are returned as they are).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

import fiftyone.core.annotation as foan
import fiftyone.core.labels as fol

from ..conversions import FieldSchema, family_of, field_schemas, has_control, labels_of
from . import projects, run_lock
from .client import NotFoundError
from .dataset_io import (
    all_slices,
    as_stored_list,
    ensure_image_sizes,
    label_class,
    read_samples,
    write_field,
)
from .loading import TaskLoads, load_tasks
from .merge import Merged, merge_label, merge_labels, merge_scalar
from .prefetch import Prefetch
from .progress import report as report_progress
from .stored_labels import as_label

logger = logging.getLogger(__name__)

UNEXPECTED = ("keep", "ignore", "return")
_CHUNK = 1000
_PREFETCH = 2 * _CHUNK  # samples a load reads while Label Studio exports: bounds the memory


@dataclass(frozen=True)
class Target:
    """Where the labels of one run field go: ``dest`` (the field itself, a
    ``dest_field``, or for unexpected labels a field named after their type)."""

    source: FieldSchema
    dest: str

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
    return [Target(f, mapping.get(f.name, f.name)) for f in fields]


@dataclass
class Plan:
    """What a load writes: ``writes[field] = (label type, {sample id: value})``,
    the run's known label ids after it (``id_map`` entries), and the labels
    of unexpected types a caller asked to have returned."""

    writes: dict[str, tuple[str, dict]] = field(default_factory=dict)
    known: dict[str, dict[str, Any]] = field(default_factory=dict)
    returned: dict[str, dict[str, dict]] = field(default_factory=dict)


# -- reading --------------------------------------------------------------------


def read_run(connection, results, dataset, fields, extra_fields=(), choice=None) -> TaskLoads:
    """Exports the run's project and converts every task; the dataset is read
    while Label Studio builds the export. Raises :class:`NotFoundError` when
    the project is gone; fields whose control the labeling config lost are
    left out, with a warning."""
    sample_ids = results.sample_ids
    report_progress(0.0, f"Exporting project {results.project_id} from Label Studio")
    exported = projects.export_tasks(connection, results.project_id, len(sample_ids))

    def read(ids):
        ensure_image_sizes(dataset, ids)
        return read_samples(dataset, ids, [*fields, *extra_fields])

    ahead = Prefetch(read, sample_ids[:_PREFETCH], _CHUNK)
    try:
        return load_tasks(
            exported,
            sample_ids,
            fields,
            ahead.read,
            choice or results.config.annotation_choice,
            lambda done: report_progress(
                0.1 + 0.7 * done / max(len(sample_ids), 1),
                f"Converted {done} of {len(sample_ids)} tasks",
            ),
        )
    finally:
        ahead.close()


def live_fields(connection, results, label_schema, scalar_types) -> tuple[list, list]:
    """``(fields, gone)``: the run's fields whose control the project's
    labeling config still has, and those it lost (edited in Label Studio)."""
    fields = field_schemas(label_schema, scalar_types)
    label_config = projects.label_config(connection, results.project_id)
    if label_config is None:
        raise NotFoundError(
            f"Project {results.project_id} of run '{results.key}' no longer exists in Label "
            f"Studio at {connection.url}, so its annotations cannot be loaded; nothing was "
            f"changed. Delete the run with dataset.delete_annotation_run('{results.key}')."
        )
    gone = [f for f in fields if not has_control(label_config, f)]
    for f in gone:
        logger.warning(
            "The labeling config of project %s has no %s control named '%s' any more (edited "
            "in Label Studio?); the labels of field '%s' are left as they are",
            results.project_id,
            family_of(f).control,
            f.name,
            f.name,
        )
    return [f for f in fields if f not in gone], gone


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
                returned = plan.returned.setdefault(stray.from_name, {})
                returned.setdefault(stray.anno_type, {})[sample_id] = stray.labels
    return plan


_NOTHING = object()


def _labels_for(target: Target, load) -> Any:
    """What the annotation gives a target: the loaded labels, or, for a
    sample without a completed annotation loaded into another field, the
    labels as they are."""
    source = target.source
    if load.state == "loaded":
        return load.loaded.values.get(source.name)
    if target.in_place or load.current is None:
        return _NOTHING
    value = load.current.values.get(source.name)
    if source.label_type == "scalar":
        return value
    return {label.id: label for label in labels_of(value, source)}


def _merge_into(plan, report, dest: FieldSchema, sample_id, load, loaded, id_map) -> None:
    current = load.current.values.get(dest.name) if load.current else None
    known_ids = _ids(id_map.get(dest.name, {}).get(sample_id))
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
    known = _known_after(dest, known_ids, current, loaded, merged)
    if known is not None:
        plan.known.setdefault(dest.name, {})[sample_id] = known


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


def _ids(value: Any) -> list:
    if value is None or value is True:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# -- the plugin's load ----------------------------------------------------------


def load_annotations(
    samples,
    anno_key: str,
    dest_field: Any = None,
    unexpected: str = "keep",
    cleanup: bool = False,
    annotation_choice: str | None = None,
    **credentials,
) -> dict:
    """Loads a run's annotations into the dataset, writing only what changed.

    The plugin's own counterpart of FiftyOne's ``dataset.load_annotations()``,
    with the same ``dest_field`` and ``unexpected`` (``"keep"``, ``"ignore"``
    or ``"return"``) and the same result in the dataset, but written in bulk:
    a load costs about what reading the export costs, however many labels the
    annotators edited.

    Args:
        samples: the dataset (or a view of it) the run belongs to
        anno_key: the run
        dest_field (None): a new field for a one-field run, or ``{run field:
            field}``; by default each field loads into itself
        unexpected ("keep"): labels of another type than their field's go
            into a field named after their type (``"keep"``), are dropped
            (``"ignore"``), or are returned (``"return"``)
        cleanup (False): delete the Label Studio project afterwards
        annotation_choice (None): ``"latest"`` or ``"earliest"`` completed
            annotation of a task; by default the run's own
        **credentials: ``url``, ``api_key`` (never stored)

    Returns:
        the load report (``loaded``, ``skipped``, ``not_annotated``,
        ``missing`` tasks; ``added``, ``edited``, ``deleted`` labels;
        ``unexpected`` and ``problems`` regions), plus ``unexpected_labels``
        ``{field: {type: {sample id: labels}}}`` when ``unexpected="return"``

    Raises:
        ValueError: bad ``dest_field``, ``unexpected`` or ``annotation_choice``,
            before anything is read
        LabelStudioError: the server failed; nothing was written
        RunBusy: another load of the run is running
    """
    from .annotation_backend import scalar_types
    from .loading import ANNOTATION_CHOICES

    dataset = samples._root_dataset
    if unexpected not in UNEXPECTED:
        raise ValueError(f"unexpected={unexpected!r} is not one of {', '.join(UNEXPECTED)}")
    if annotation_choice is not None and annotation_choice not in ANNOTATION_CHOICES:
        raise ValueError(
            f"annotation_choice={annotation_choice!r} is not one of {', '.join(ANNOTATION_CHOICES)}"
        )
    results = load_run_results(dataset, anno_key, **credentials)
    schema = results.config.label_schema
    all_targets = targets(field_schemas(schema, scalar_types(dataset, schema)), dest_field)

    token = run_lock.acquire(dataset, anno_key)
    try:
        api = results.connect_to_api()
        fields, gone = live_fields(api.connection, results, schema, scalar_types(dataset, schema))
        live = [t for t in all_targets if t.source in fields]
        extra = [t.dest_schema for t in live if not t.in_place]
        loads = read_run(api.connection, results, dataset, fields, extra, annotation_choice)
        if extra:
            _read_unloaded(dataset, loads, [*fields, *extra])
        plan = plan_load(loads, live, results.id_map, unexpected)
        report_progress(0.85, "Writing the changed labels into the dataset")
        for dest, (label_type, values) in plan.writes.items():
            write_field(dataset, dest, label_type, values)
        record_load(dataset, results, loads, plan.known)
    finally:
        run_lock.release(dataset, anno_key, token)
    if cleanup:
        results.cleanup()
    outcome = dict(results.last_load)
    if unexpected == "return":
        outcome["unexpected_labels"] = plan.returned or None
    report_progress(1.0, "Loaded")
    return outcome


def _read_unloaded(dataset, loads: TaskLoads, fields) -> None:
    """Reads the samples that loaded nothing, for destinations other than
    their own field (which receive their labels as they are)."""
    ids = [sid for sid, load in loads.samples.items() if load.current is None]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for sample_id, values in read_samples(dataset, chunk, fields).items():
            loads.samples[sample_id].current = values


def record_load(dataset, results, loads: TaskLoads, known) -> None:
    """Saves the run with what the load knows now and its report."""
    for dest, entries in known.items():
        results.id_map.setdefault(dest, {}).update(entries)
    results.last_load = {
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **loads.report.as_dict(),
    }
    logger.info("Loaded run '%s': %s", results.key, loads.report.as_dict())
    type(results.backend).save_run_results(dataset, results.key, results)


def load_run_results(dataset, anno_key: str, **credentials):
    """A run's results as stored now, connected with these credentials.

    FiftyOne caches results per process and hands back the cached object
    without applying new credentials, and another process (the App, a
    delegated worker) may have loaded the run since. Without a key, the one
    this process used for the run before is used, as FiftyOne's own
    ``load_annotations()`` does.
    """
    cached = getattr(dataset, foan.AnnotationMethod._results_cache_field()).pop(anno_key, None)
    credentials = {k: v for k, v in credentials.items() if v is not None}
    if cached is not None and "api_key" not in credentials and cached.config.api_key:
        # the key this process already used for the run (kept in memory only)
        credentials.update(url=credentials.get("url") or cached.config.url)
        credentials["api_key"] = cached.config.api_key
    return dataset.load_annotation_results(anno_key, **credentials)


# -- FiftyOne's load ------------------------------------------------------------


def download_annotations(api, results) -> dict:
    """The labels of every sample of the run, in the form FiftyOne's
    ``load_annotations()`` merges (``{field: {type: {sample id: {label id:
    label}}}}``): what its task holds, or the labels as they are where the
    task has no completed annotation (FiftyOne deletes the labels of a sample
    it gets nothing for)."""
    from .annotation_backend import scalar_types

    dataset = results.samples._root_dataset
    token = run_lock.acquire(dataset, results.key)
    try:
        # another process (the App, a delegated worker) may have loaded the
        # run since FiftyOne cached these results
        config = results.config
        stored = load_run_results(dataset, results.key, url=config.url, api_key=config.api_key)
        results.id_map, results.sample_ids = stored.id_map, stored.sample_ids
        schema = results.config.label_schema
        types = scalar_types(dataset, schema)
        fields, gone = live_fields(api.connection, results, schema, types)
        loads = read_run(api.connection, results, dataset, fields, gone)
        _read_unloaded(dataset, loads, [*fields, *gone])
        plan = plan_load(loads, targets(fields, None), results.id_map, "return")
        annotations = {}
        for f in [*fields, *gone]:
            anno_type = family_of(f).anno_type
            annotations[f.name] = {anno_type: _fiftyone_labels(f, loads, f in gone)}
        for name, kinds in plan.returned.items():
            annotations[name].update(kinds)
        results.last_load = {
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **loads.report.as_dict(),
        }
        results._not_merged = _not_merged(loads, fields)
    finally:
        run_lock.release(dataset, results.key, token)
    report_progress(0.9, "Merging the labels into the dataset")
    return annotations


NOT_MERGED = {
    "detection": ("rotation", "rotated_box"),
    "detections": ("rotation", "rotated_box"),
    "instance": ("mask_path",),
    "instances": ("mask_path",),
    "segmentation": ("mask_path",),
}
"""What FiftyOne's merge does not copy onto a label it keeps (it copies the
class, ``index``, geometry and the attributes a run declares): the rotated
rectangle (see :mod:`conversions.geometry`) and where an edited mask is now
stored (see :func:`.dataset_io.settle_mask_file`)."""


def _not_merged(loads: TaskLoads, fields: Sequence[FieldSchema]) -> dict[str, dict]:
    """``{label id: {attribute: value}}`` of the edited labels whose
    :data:`NOT_MERGED` attributes changed."""
    changes: dict[str, dict] = {}
    for load in loads.samples.values():
        if load.state != "loaded":
            continue
        for f in fields:
            names = NOT_MERGED.get(f.label_type)
            if not names:
                continue
            before = {old.id: old for old in labels_of(load.current.values.get(f.name), f)}
            for label_id, label in (load.loaded.values.get(f.name) or {}).items():
                original = before.get(label_id)
                if original is None or label is original:
                    continue  # added whole by FiftyOne's merge, or untouched
                changed = {
                    name: _attribute(label, name)
                    for name in names
                    if _attribute(label, name) != _attribute(original, name)
                }
                if changed:
                    changes[label_id] = changed
    return changes


def _attribute(label: Any, name: str) -> Any:
    return label.get_attribute_value(name, None)


def write_what_fiftyone_does_not(dataset, results) -> None:
    """After FiftyOne's merge (from the backend's ``save_run_results``),
    writes the :data:`NOT_MERGED` attributes of the labels the annotators
    edited, wherever the merge put them (their field, or a ``dest_field``,
    which FiftyOne records in the run's ``id_map``)."""
    changes = getattr(results, "_not_merged", None)
    results._not_merged = None
    if not changes:
        return
    collection = all_slices(dataset)
    schema = results.config.label_schema
    for name in [*schema, *(k for k in results.id_map if k not in schema)]:
        field = collection.get_field(name)
        document_type = getattr(field, "document_type", None)
        if document_type is None or not issubclass(document_type, fol.Label):
            continue
        prefix = name
        if issubclass(document_type, fol._HasLabelList):
            prefix = f"{name}.{document_type._LABEL_LIST_FIELD}"
        held = set(
            collection.filter_labels(name, _id_in(changes)).values(f"{prefix}.id", unwind=True)
        )
        by_attribute: dict[str, dict] = {}
        for label_id in held & set(changes):
            for attribute, value in changes[label_id].items():
                by_attribute.setdefault(attribute, {})[label_id] = value
        for attribute, values in by_attribute.items():
            collection.set_label_values(f"{prefix}.{attribute}", values)


def _id_in(ids) -> Any:
    from bson import ObjectId
    from fiftyone import ViewField as F

    return F("_id").is_in([ObjectId(i) for i in ids])


def _fiftyone_labels(f: FieldSchema, loads: TaskLoads, gone: bool) -> dict:
    found = {}
    for sample_id, load in loads.samples.items():
        if load.state == "loaded" and not gone:
            value = load.loaded.values.get(f.name)
        elif load.current is not None:
            value = load.current.values.get(f.name)
            if f.label_type != "scalar":
                value = {label.id: label for label in labels_of(value, f)}
        else:
            continue
        if f.label_type == "scalar":
            if value is not None:
                found[sample_id] = value
        elif value:
            found[sample_id] = {label_id: as_label(label) for label_id, label in value.items()}
    return found


def current_key(dataset, key: str, run_id: str) -> str | None:
    """The run's key now: it may have been renamed while it was loading."""
    runs = dataset.list_annotation_runs()
    if key in runs:
        return key
    for other in runs:
        doc = foan.AnnotationMethod._get_run_doc(dataset, other)
        if (doc.results_meta or {}).get("run_id") == run_id:
            return other
    return None

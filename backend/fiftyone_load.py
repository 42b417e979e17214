"""FiftyOne's own ``dataset.load_annotations()`` on this backend: the labels
every sample of the run holds, in the form FiftyOne's merge takes; and the
attributes its merge does not copy, written after it.

It is always a full load (FiftyOne does not tell a backend where it will
merge to, so unchanged tasks cannot be left out); the plugin's own
:func:`.load.load_annotations` reads only what changed. Fields of a type
FiftyOne's merge does not know (temporal detections) are written here, into
themselves.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

import fiftyone.core.labels as fol

from ..conversions import FieldSchema, family_of
from ..conversions.attributes import ANNOTATED_AT, ANNOTATOR
from ..conversions.schema import VIDEO_TYPES
from . import run_lock
from .collector import cycle_collection_paused
from .dataset_io import all_slices, write_field
from .load import (
    begin_export,
    live_fields,
    load_run_results,
    note_written,
    read_run,
    read_unloaded,
)
from .loading import TaskLoads, label_dicts, label_index
from .plan import plan_load, recorded_ids, targets
from .progress import report as report_progress
from .stored_labels import as_label


def download_annotations(api, results) -> dict:
    """The labels of every sample of the run, in the form FiftyOne's
    ``load_annotations()`` merges (``{field: {type: {sample id: {label id:
    label}}}}``): what its task holds, or the labels as they are where the
    task has no completed annotation (FiftyOne deletes the labels of a sample
    it gets nothing for)."""
    from .annotation_backend import scalar_types

    dataset = results.samples._root_dataset
    token = run_lock.acquire(dataset, results.key)
    export = None
    try:
        # another process (the App, a delegated worker) may have loaded the
        # run since FiftyOne cached these results
        config = results.config
        stored = load_run_results(dataset, results.key, url=config.url, api_key=config.api_key)
        results.id_map, results.sample_ids = stored.id_map, stored.sample_ids
        results.loaded_regions = stored.loaded_regions
        schema = results.config.label_schema
        types = scalar_types(dataset, schema)
        choice = config.take_choice_of_load()
        if choice == "all":
            raise ValueError(
                "annotation_choice='all' loads each annotator's labels into fields of their "
                "own, which FiftyOne's load_annotations() cannot make; load this run with "
                f"fiftyone_labelstudio.load_annotations(dataset, {results.key!r})"
            )
        export = begin_export(api.connection, results)
        fields, gone = live_fields(api.connection, results, schema, types)
        with cycle_collection_paused():  # a load makes millions of objects
            loads, state = read_run(
                api.connection, results, dataset, fields, gone, choice=choice, export=export
            )
            read_unloaded(dataset, loads, [*fields, *gone], results.sample_ids)
            plan = plan_load(loads, targets(fields, None), results.id_map, "return")
        annotations = {}
        for f in [*fields, *gone]:
            if f.label_type in VIDEO_TYPES:
                continue  # FiftyOne's merge does not know the type: written below
            anno_type = family_of(f).anno_type
            recorded = results.id_map.get(f.name, {})
            annotations[f.name] = {anno_type: _fiftyone_labels(f, loads, f in gone, recorded)}
        for f in fields:
            if f.label_type in VIDEO_TYPES and f.name in plan.writes:
                write_field(dataset, f.name, *plan.writes[f.name])
                results.id_map.setdefault(f.name, {}).update(plan.known.get(f.name, {}))
        for name, kinds in plan.returned.items():
            annotations[name].update(kinds)
        results.last_load = {
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **loads.report.as_dict(),
        }
        results._not_merged = _not_merged(loads, fields)
        results._written = loads.written
        # FiftyOne may merge into a dest_field: the next plugin load reads everything
        results.load_state = None
    finally:
        if export is not None:
            export.close()
        run_lock.release(dataset, results.key, token)
    report_progress(0.9, "Merging the labels into the dataset")
    return annotations


_WHO = (ANNOTATOR, ANNOTATED_AT)
NOT_MERGED = {
    "detection": ("rotation", "rotated_box", *_WHO),
    "detections": ("rotation", "rotated_box", *_WHO),
    "instance": ("mask_path", *_WHO),
    "instances": ("mask_path", *_WHO),
    "segmentation": ("mask_path", *_WHO),
    "polygon": _WHO,
    "polygons": _WHO,
    "polyline": _WHO,
    "polylines": _WHO,
    "keypoint": _WHO,
    "keypoints": _WHO,
    "classification": _WHO,
    "classifications": _WHO,
}
"""What FiftyOne's merge does not copy onto a label it keeps (it copies the
class, ``index``, geometry and the attributes a run declares): the rotated
rectangle (see :mod:`conversions.geometry`) and where an edited mask is now
stored (see :func:`.dataset_io.settle_mask_file`); and who edited a label, when."""


def _not_merged(loads: TaskLoads, fields: Sequence[FieldSchema]) -> dict[str, dict]:
    """``{label id: {attribute: value}}`` of the edited labels whose
    :data:`NOT_MERGED` attributes changed."""
    changes: dict[str, dict] = {}
    for load in loads.samples.values():
        if load.state != "loaded" or load.current is None:  # deleted from the dataset
            continue
        for f in fields:
            names = NOT_MERGED.get(f.label_type)
            if not names:
                continue
            loaded = load.loaded.values.get(f.name)
            originals = label_index(load.current.values.get(f.name), f)
            for labels, before in label_dicts(loaded, originals, f):
                for label_id, label in labels.items():
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
    edited, where the merge put them: the fields it merged into (their own,
    or a ``dest_field``), as it names them to the results' ``_update_id_map``."""
    changes = getattr(results, "_not_merged", None)
    merged = getattr(results, "_merged_fields", ())
    written = getattr(results, "_written", None)
    results._not_merged, results._merged_fields, results._written = None, (), None
    if written is not None:  # the fields merged into themselves
        note_written(results, written, merged)
    if not changes:
        return
    collection = all_slices(dataset)
    if results._is_frames:  # a frames view's merge names frame fields without the prefix
        merged = [n if n.startswith("frames.") else "frames." + n for n in merged]
    for name in dict.fromkeys(merged):
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


def _fiftyone_labels(f: FieldSchema, loads: TaskLoads, gone: bool, recorded: dict) -> dict:
    """``{sample id: {label id: label}}``, a scalar per sample, or of a
    frame-level field ``{sample id: {frame id: {label id: label}}}``.

    A sample that loaded nothing gives its labels as they are, only those the
    run's ``id_map`` (``recorded``: the field's, by sample) holds: FiftyOne's
    merge adds any other as new, a second copy of a label its view filtered
    out or one added since the request."""
    found = {}
    for sample_id, load in loads.samples.items():
        if load.state == "loaded" and not gone:
            value = load.loaded.values.get(f.name)
        elif load.current is not None:
            value = load.current.values.get(f.name)
            if f.label_type != "scalar":
                value = _recorded_only(label_index(value, f), recorded.get(sample_id), f)
        else:
            continue
        if f.label_type == "scalar":
            if value is not None:
                found[sample_id] = value
        elif f.is_frame_field:
            frame_ids = load.current.frame_ids
            found[sample_id] = {
                frame_ids[n]: {label_id: as_label(label) for label_id, label in labels.items()}
                for n, labels in (value or {}).items()
                if n in frame_ids
            }
        elif value:
            found[sample_id] = {label_id: as_label(label) for label_id, label in value.items()}
    return found


def _recorded_only(index: dict, recorded, f: FieldSchema) -> dict:
    """The labels of ``index`` (``{label id: label}``, of a frame-level field
    ``{frame number: {label id: label}}``) whose ids ``recorded`` (a sample's
    ``id_map`` entry: ids, one id, or ``{frame id: ids}``) holds.

    Example:
        >>> f = FieldSchema("boxes", "detections", [])
        >>> _recorded_only({"a": 1, "b": 2}, ["b"], f)
        {'b': 2}
    """
    entries = recorded.values() if f.is_frame_field and recorded else [recorded]
    ids = {i for entry in entries for i in recorded_ids(entry)}
    if f.is_frame_field:
        return {n: {i: v for i, v in labels.items() if i in ids} for n, labels in index.items()}
    return {i: v for i, v in index.items() if i in ids}

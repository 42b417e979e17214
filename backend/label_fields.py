"""The label fields a collection already has, as the label schema check
(:func:`conversions.schema.schema_problem`) and the request form see them,
and the custom attributes their labels carry."""

from __future__ import annotations

from typing import Iterable

import fiftyone.core.aggregations as foa
import fiftyone.core.fields as fof
import fiftyone.core.labels as fol
import fiftyone.core.media as fom
import fiftyone.utils.annotations as foua

from ..conversions.attributes import recommended_attribute
from ..conversions.schema import RESERVED_FIELDS, VIDEO_TYPES, level_problem

_SCALAR_FIELDS = (fof.IntField, fof.FloatField, fof.StringField, fof.BooleanField)
_TYPES_BY_DOCUMENT = (
    (fol.Detection, ["detection", "instance"]),
    (fol.Detections, ["detections", "instances"]),
    (fol.Polyline, ["polygon", "polyline"]),
    (fol.Polylines, ["polygons", "polylines"]),
    (fol.Classification, ["classification"]),
    (fol.Classifications, ["classifications"]),
    (fol.Keypoint, ["keypoint"]),
    (fol.Keypoints, ["keypoints"]),
    (fol.Segmentation, ["segmentation"]),
    (fol.TemporalDetection, ["temporal_detection"]),
    (fol.TemporalDetections, ["temporal_detections"]),
)


def existing_types(field) -> list[str] | None:
    """The label types an existing field can be annotated as, or None.

    Example:
        >>> existing_types(fof.EmbeddedDocumentField(fol.Detections))
        ['detections', 'instances']
    """
    if isinstance(field, _SCALAR_FIELDS):
        return ["scalar"]
    if not isinstance(field, fof.EmbeddedDocumentField):
        return None
    for document_type, label_types in _TYPES_BY_DOCUMENT:
        if issubclass(field.document_type, document_type):
            return label_types
    return None


def existing_fields(samples, names: Iterable[str]) -> dict[str, list[str] | None]:
    """``{field: the label types it can hold, or None}`` of those of ``names``
    the samples have (the rest are new fields)."""
    found = {}
    for name in names:
        field = samples.get_field(name) if isinstance(name, str) and name else None
        if field is not None:
            found[name] = existing_types(field)
    return found


_CONTAINERS = (fof.ListField, fof.DictField, fof.EmbeddedDocumentField)
# a value of each stored type, for the backend's ``recommend_attr_tool``
_EXAMPLE_VALUES = ((fof.BooleanField, True), (fof.IntField, 0), (fof.FloatField, 0.0))


def existing_attributes(samples, name: str) -> dict | None:
    """What FiftyOne's ``annotate(attributes=True)`` finds on an existing
    label field's labels: ``{attribute: spec}`` (as the backend's
    ``recommend_attr_tool`` gives it), in name order, from one aggregation of
    the attribute names and types (FiftyOne builds every label to find them:
    81% of a 450,000-box video request). An attribute holding only ``None``
    is not one; one holding several types is ``float`` if all are numbers,
    else text (FiftyOne takes the type of the first value it meets). None
    where FiftyOne's own inference must decide: not a label field, a
    segmentation, or labels with the deprecated ``attributes`` dict.
    """
    field = samples.get_field(name)
    label_types = existing_types(field) if field is not None else None
    if not label_types or label_types[0] in ("scalar", "segmentation", *VIDEO_TYPES):
        return None
    label_class, path = samples._get_label_field_path(name)
    single = fol._LABEL_LIST_TO_SINGLE_MAP.get(label_class, label_class)
    found, legacy = samples.aggregate(
        [foa.Schema(path, dynamic_only=True), foa.Schema(path + ".attributes")]
    )
    if legacy:
        return None
    attributes = {}
    for attribute, stored in sorted(found.items()):
        if stored is None or attribute in single._fields:
            continue
        stored = stored if isinstance(stored, list) else [stored]
        if any(isinstance(s, _CONTAINERS) for s in stored):
            continue  # no control edits a list or dict: kept as it is
        example = next((v for t, v in _EXAMPLE_VALUES if all(isinstance(s, t) for s in stored)), "")
        attributes[attribute] = recommended_attribute(attribute, example)
    if foua._is_trackable_field(samples, name, label_types[0]):
        attributes.pop("keyframe", None)  # a track's keyframes, as FiftyOne drops them
    return attributes


def unlisted_classes(samples, fields) -> str | None:
    """The error for labels of existing fields whose class the field's
    classes lack, or which have none: Label Studio would show them without a
    class, or (where it validates predictions) refuse the whole import. None
    if there are none."""
    counted = [
        f
        for f in fields
        if f.classes
        and f.label_type not in ("scalar", "segmentation")
        and samples.get_field(f.name) is not None
    ]
    for f in counted:
        _, path = samples._get_label_field_path(f.name, "label")
        counts = samples.exists(f.name).count_values(path)
        unlisted = {c: n for c, n in counts.items() if c not in f.classes}
        if unlisted:
            count = sum(unlisted.values())
            return (
                f"{count} {'label' if count == 1 else 'labels'} of '{f.name}' "
                f"{'has' if count == 1 else 'have'} a class its classes do not "
                f"list ({', '.join(repr(c) for c in sorted(unlisted, key=str))}): Label Studio "
                "would show them without one, or refuse them. Add those classes to the "
                "field's classes, or leave those labels out of the view (filter_labels)"
            )
    return None


def supported_fields(view) -> dict[str, tuple[str, list[str]]]:
    """Existing fields Label Studio can annotate: ``{field: (type, classes)}``,
    classes as observed (or the dataset's ``classes`` / mask targets)."""
    found = {}
    schema = dict(view.get_field_schema())
    if view.media_type == fom.VIDEO:
        frame_schema = view.get_frame_field_schema() or {}
        schema.update({f"frames.{name}": field for name, field in frame_schema.items()})
    for name, field in schema.items():
        allowed = existing_types(field)
        if allowed is None or name in RESERVED_FIELDS:
            continue
        if level_problem(name, allowed[0], view.media_type):
            continue  # e.g. a video's frame-level keypoints: not a track of boxes
        if allowed == ["segmentation"]:
            targets = view.mask_targets.get(name) or view.default_mask_targets or {}
            found[name] = ("segmentation", [str(v) for v in targets.values()])
        elif allowed == ["scalar"]:
            found[name] = ("scalar", [])
        else:
            classes = view.classes.get(name) or view.default_classes
            if not classes:
                _, path = view._get_label_field_path(name, "label")
                classes = [c for c in view.distinct(path) if c is not None]
            found[name] = (allowed[0], list(classes))
    return found

"""One sample's labels <-> one task's results, for every field of a run."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Mapping, Sequence

import fiftyone.core.labels as fol

from .attributes import attribute_results
from .base import MALFORMED, FieldSchema, Frame, Problem, split_region_id
from .schema import family_of, family_of_result


@dataclass
class Unexpected:
    """Results that fit no field of the run (an unknown control, or a control
    of another type than the field's), read by the family of their type where
    one reads them.

    Args:
        from_name: the control they came from
        result_type: their Label Studio type
        anno_type: FiftyOne's type of ``labels`` (``"detections"``, ``"scalar"``,
            ...), or None when no family reads them
        labels: ``{label id: label}``, a scalar, or None
        results: the results themselves
    """

    from_name: Any
    result_type: Any
    anno_type: str | None
    labels: Any
    results: list[dict]


@dataclass
class LoadedSample:
    """What one annotation holds for a sample.

    Args:
        values: ``{field: {label id: label}}``, or ``{field: value}`` for scalars
            (None when the annotation has no value)
        unexpected: results that fit no field
        problems: regions skipped because they are malformed
    """

    values: dict[str, Any]
    unexpected: list[Unexpected] = dataclass_field(default_factory=list)
    problems: list[Problem] = dataclass_field(default_factory=list)


def labels_of(value: Any, field: FieldSchema) -> list:
    """The labels (or the scalar) a field value holds, as a list; a value
    that is a list already (labels read without their container) as it is.

    Example:
        >>> labels_of(fol.Detections(detections=[fol.Detection()]), FieldSchema("gt", "detections"))[0].__class__.__name__
        'Detection'
    """
    if value is None:
        return []
    if field.is_frame_field:
        return value  # {frame number: labels}
    if field.label_type != "scalar" and isinstance(value, fol._HasLabelList):
        return list(value[value._LABEL_LIST_FIELD])
    if field.label_type != "scalar" and isinstance(value, list):
        return value
    return [value]


def export_sample(
    values: Mapping[str, Any], fields: Sequence[FieldSchema], frame: Frame
) -> tuple[list[dict], list[Problem]]:
    """The Label Studio results for one sample's field values.

    Args:
        values: ``{field: value as FiftyOne stores it}`` (a label, a label list
            such as ``Detections``, a scalar, or None); masks must be loaded
            into ``mask`` (not only on disk at ``mask_path``)
        fields: the run's fields
        frame: the sample's image

    Returns:
        ``(results, problems)``: problems name what could not be sent

    Raises:
        ValueError: naming the sample and field of a label no export takes
            (a box stored without its ``bounding_box``, say)
    """
    results: list[dict] = []
    problems: list[Problem] = []
    for field in fields:
        labels = labels_of(values.get(field.name), field)
        family = family_of(field)
        try:
            field_results, field_problems = _export(family, labels, field, frame)
        except MALFORMED as error:
            raise ValueError(
                f"Sample {frame.key}: {_unsendable(labels, field, frame)} of '{field.name}' "
                f"cannot be sent to Label Studio ({type(error).__name__}: {error}); give it a "
                "complete, finite geometry (a box its bounding_box), or leave it out of the view"
            ) from error
        results.extend(field_results)
        problems.extend(field_problems)
        if field.attributes:
            by_id = {label.id: label for label in _every(labels, field)}
            for region in field_results:
                label = by_id.get(split_region_id(region["id"])[0] or region["id"])
                if label is not None:
                    results += attribute_results(
                        region, label, field.attributes, _labels_key(family)
                    )
    return results, problems


def _export(family, labels, field: FieldSchema, frame: Frame) -> tuple[list, list]:
    """``family.export``, which raises ValueError where a result holds a
    coordinate JSON cannot carry (NaN, infinite)."""
    results, problems = family.export(labels, field, frame)
    if not all(_finite(result["value"]) for result in results):
        raise ValueError("a coordinate is not a finite number")
    return results, problems


def _finite(value: Any) -> bool:
    """Whether every float of a result's value is finite (a brush RLE holds
    only ints).

    Example:
        >>> _finite({"x": 1.5, "points": [[0.0, float("nan")]]})
        False
    """
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for k, v in value.items() if k != "rle")
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _unsendable(labels, field: FieldSchema, frame: Frame) -> str:
    """Names the first label its family's export fails on (sent one at a
    time, only once the whole field failed)."""
    by_frame = labels.items() if field.is_frame_field else [(None, labels)]
    for number, group in by_frame:
        for label in group:
            try:
                _export(
                    family_of(field), [label] if number is None else {number: [label]}, field, frame
                )
            except MALFORMED:
                return f"label {label.id} ({getattr(label, 'label', None)!r})"
    return "a label"


def _every(labels, field: FieldSchema) -> list:
    """A field's labels as :func:`.labels_of` gives them, in one list (a
    frame-level field's are by frame)."""
    if field.is_frame_field:
        return [label for frame_labels in labels.values() for label in frame_labels]
    return labels


def _labels_key(family) -> str:
    """The key of a region's class in its result's value."""
    return "labels" if family.result_type == "videorectangle" else family.result_type


def load_sample(
    results: Sequence[Any],
    fields: Sequence[FieldSchema],
    frame: Frame,
    originals: Mapping[str, Mapping[str, Any]] | None = None,
) -> LoadedSample:
    """FiftyOne labels from the results of one annotation of one task.

    Args:
        results: the annotation's ``result`` list
        fields: the run's fields
        frame: the task's image
        originals: ``{field: {label id: label}}`` of the sample's labels, so that
            what Label Studio does not carry (attributes, instance boxes,
            dtypes) comes back unchanged

    Returns:
        a :class:`LoadedSample`; malformed regions become problems and results
        that fit no field become unexpected, the rest loads
    """
    originals = originals or {}
    by_name = {field.control: field for field in fields}
    controls = {a.control(f.control): (f, a) for f in fields for a in f.attributes}
    routed: dict[str, list[dict]] = defaultdict(list)
    strays: dict[tuple[Any, Any], list[dict]] = defaultdict(list)
    attributes: dict[tuple[str, str], dict] = defaultdict(dict)
    problems: list[Problem] = []
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("value"), dict):
            if not (isinstance(result, dict) and result.get("type") == "relation"):
                problems.append(Problem(f"not a region: {str(result)[:200]}"))
            continue
        from_name = result.get("from_name")
        field = by_name.get(from_name)
        if from_name in controls:
            field, attribute = controls[from_name]
            attributes[(field.name, str(result.get("id")))][attribute.name] = result["value"]
        elif field is not None and family_of(field).result_type == result.get("type"):
            routed[field.name].append(result)
        else:
            strays[(from_name, result.get("type"))].append(result)
    for name, regions in list(routed.items()):
        # each region with the values of its attribute controls
        routed[name] = [
            {**r, "attributes": attributes[(name, str(r.get("id")))]}
            if (name, str(r.get("id"))) in attributes
            else r
            for r in regions
        ]

    values = {}
    for field in fields:
        field_originals = originals.get(field.name, {})
        values[field.name], field_problems = family_of(field).load(
            routed[field.name], field, frame, field_originals
        )
        problems.extend(field_problems)
        # a label some region of which is malformed stays as it was, whole:
        # skipping the region must not delete or truncate it
        for problem in field_problems:
            label_id, _ = split_region_id(str(problem.region_id))
            if label_id in field_originals:
                values[field.name][label_id] = field_originals[label_id]

    unexpected = []
    for (from_name, result_type), stray in strays.items():
        reader = family_of_result(result_type, str(from_name))
        if reader is None:
            unexpected.append(Unexpected(from_name, result_type, None, None, stray))
            continue
        labels, reader_problems = family_of(reader).load(stray, reader, frame, {})
        problems.extend(reader_problems)
        anno_type = family_of(reader).anno_type
        unexpected.append(Unexpected(from_name, result_type, anno_type, labels, stray))
    return LoadedSample(values, unexpected, problems)

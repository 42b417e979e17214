"""Detections <-> ``RectangleLabels``.

FiftyOne's relative ``[x, y, w, h]`` is Label Studio's percent ``x, y, width,
height``. A rotated rectangle keeps its angle in the ``rotation`` attribute
(degrees, clockwise) and the unrotated box in ``rotated_box`` (rotated about
its centre), while ``bounding_box`` is the axis-aligned box around it, so
that FiftyOne draws a box covering what the annotator drew; see
:mod:`.geometry`. A label with a ``rotation`` but no ``rotated_box`` (as
FiftyOne's CVAT integration makes them) is its ``bounding_box`` rotated about
its centre.

Geometry that comes back exactly as it was sent is the label's own, even where
it pokes out of the image; edited geometry is normalised and clipped to it.
"""

from __future__ import annotations

from typing import Any, Mapping

import fiftyone.core.labels as fol

from .attributes import apply_attributes
from .base import (
    Family,
    FieldSchema,
    Frame,
    Problem,
    convert_each,
    describe_result,
    is_finite_number,
    label_id_of,
    label_to_edit,
    make_result,
    matches_sent,
    one_label,
    result_size,
    sent_results,
)
from .geometry import (
    RegionError,
    axis_aligned_box,
    check_inside,
    label_studio_rectangle,
    normalized_rectangle,
    number,
    rotated_rectangle,
)

ROTATION = "rotation"
ROTATED_BOX = "rotated_box"
_GEOMETRY = ("x", "y", "width", "height", "rotation")


def export_detections(
    labels: list[fol.Detection], field: FieldSchema, frame: Frame
) -> tuple[list[dict], list[Problem]]:
    results = []
    for label in labels:
        value = dict(zip(_GEOMETRY, rectangle_of(label, frame)))
        value["rectanglelabels"] = [label.label]
        results.append(
            make_result(field, frame, "rectanglelabels", value, label.id, label.confidence)
        )
    return results, []


def rectangle_of(label: Any, frame: Frame) -> tuple[float, float, float, float, float]:
    """Label Studio's ``(x, y, width, height, rotation)`` of a detection."""
    rotation = label.get_attribute_value(ROTATION, None)
    if not is_finite_number(rotation) or rotation == 0:
        x, y, w, h = label.bounding_box
        return 100 * x, 100 * y, 100 * w, 100 * h, 0
    box = label.get_attribute_value(ROTATED_BOX, None)
    if not (isinstance(box, (list, tuple)) and len(box) == 4 and all(map(is_finite_number, box))):
        box = label.bounding_box
    return (*label_studio_rectangle(box, rotation, (frame.width, frame.height)), rotation)


def load_detections(
    results: list[dict],
    field: FieldSchema,
    frame: Frame,
    originals: Mapping[str, fol.Detection],
) -> tuple[dict[str, fol.Detection], list[Problem]]:
    def convert(result: dict) -> fol.Detection:
        label_id = label_id_of(str(result["id"]), frame, field.name)
        original = originals.get(label_id)
        value = result["value"]
        sent_as, sent = None, None
        if original is not None:
            sent_as = sent_results(original, export_detections, field, frame, originals)
            sent = tuple(map(sent_as[0]["value"].get, _GEOMETRY))
        same_geometry = sent is not None and _same_geometry(value, sent)
        if same_geometry and matches_sent([result], sent_as, original, field):
            return original
        label = label_to_edit(original, fol.Detection, label_id, originals)
        label.label = one_label(value, "rectanglelabels")
        if not same_geometry:
            set_geometry(label, value, result_size(result, frame), sent)
        if is_finite_number(result.get("score")):
            label.confidence = result["score"]
        apply_attributes(label, [result], field.attributes, original)
        return label

    problems: list[Problem] = []
    labels = convert_each(results, convert, describe_result, problems)
    return {label.id: label for label in labels}, problems


def _same_geometry(value: dict, sent: tuple) -> bool:
    """Whether the rectangle is exactly as it was sent (its class or score may differ)."""
    return [value.get(key, 0 if key == "rotation" else None) for key in _GEOMETRY] == list(sent)


def set_geometry(label: fol.Detection, value: dict, size: tuple[int, int], sent=None) -> None:
    """The rectangle as the annotator drew it: negative sizes normalised,
    overshoot clipped, a rotated one as its covering box plus ``rotated_box``;
    of a box that was axis-aligned and stays so, what was not changed keeps
    its own float (a box moved keeps its size bit for bit)."""
    x, y, width, height = (number(value[key], key) for key in _GEOMETRY[:4])
    rotation = number(value.get("rotation", 0), "rotation")
    x, y, width, height = normalized_rectangle(x, y, width, height, rotation, size)
    if width == 0 or height == 0:
        raise RegionError(f"empty rectangle: width={width:g}, height={height:g}")
    if rotation % 360 == 0:
        for name, edge in (
            ("x", x),
            ("y", y),
            ("x + width", x + width),
            ("y + height", y + height),
        ):
            check_inside(edge, name)
        box = axis_aligned_box((x, y), (x + width, y + height))
        if sent is not None and sent[4] == 0:
            inside = [0.0 <= edge <= 100.0 for edge in (x, y, x + width, y + height)]
            unclipped = (inside[0], inside[1], inside[0] and inside[2], inside[1] and inside[3])
            for i, (drawn, before) in enumerate(zip((x, y, width, height), sent)):
                if drawn == before and unclipped[i]:
                    box[i] = label.bounding_box[i]
        label.bounding_box = box
        if label.has_attribute(ROTATION):
            label[ROTATION] = rotation
        if label.has_attribute(ROTATED_BOX):
            label[ROTATED_BOX] = None
        return
    label.bounding_box, label[ROTATED_BOX] = rotated_rectangle(x, y, width, height, rotation, size)
    label[ROTATION] = rotation


DETECTIONS = Family(
    control="RectangleLabels",
    result_type="rectanglelabels",
    anno_type="detections",
    export=export_detections,
    load=load_detections,
    compares_sent=True,
)

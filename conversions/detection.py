"""Detections <-> ``RectangleLabels``.

FiftyOne's relative ``[x, y, w, h]`` is Label Studio's percent ``x, y, width,
height``. Label Studio rotates a rectangle by ``rotation`` degrees (clockwise)
about its top-left corner ``(x, y)``; FiftyOne has no rotated boxes, so the
box stays the unrotated one and the angle is the label's ``rotation``
attribute, in the same degrees, sent back as it came.
"""

from __future__ import annotations

from typing import Mapping

import fiftyone.core.labels as fol

from .base import (
    Family,
    FieldSchema,
    Frame,
    Problem,
    RegionError,
    convert_each,
    copy_label,
    describe_result,
    from_percent,
    is_as_sent,
    label_id_of,
    make_result,
    one_label,
    percent,
)

ROTATION = "rotation"


def export_detections(
    labels: list[fol.Detection], field: FieldSchema, frame: Frame
) -> tuple[list[dict], list[Problem]]:
    results = []
    for label in labels:
        x, y, w, h = label.bounding_box
        value = {
            "x": 100 * x,
            "y": 100 * y,
            "width": 100 * w,
            "height": 100 * h,
            "rotation": label.get_attribute_value(ROTATION, 0) or 0,
            "rectanglelabels": [label.label],
        }
        results.append(
            make_result(field, frame, "rectanglelabels", value, label.id, label.confidence)
        )
    return results, []


def load_detections(
    results: list[dict],
    field: FieldSchema,
    frame: Frame,
    originals: Mapping[str, fol.Detection],
) -> tuple[dict[str, fol.Detection], list[Problem]]:
    def convert(result: dict) -> fol.Detection:
        label_id = label_id_of(str(result["id"]), frame, field.name)
        original = originals.get(label_id)
        if original is not None and is_as_sent([result], original, export_detections, field, frame):
            return original
        value = result["value"]
        rotation = value.get("rotation", 0)
        if isinstance(rotation, bool) or not isinstance(rotation, (int, float)):
            raise RegionError(f"rotation={rotation!r} is not a number")
        x, y = percent(value["x"], "x"), percent(value["y"], "y")
        width = percent(value["width"], "width")
        height = percent(value["height"], "height")
        if width <= 0 or height <= 0:
            raise RegionError(f"empty rectangle: width={width}, height={height}")
        if rotation == 0:
            percent(x + width, "x + width")
            percent(y + height, "y + height")

        label = copy_label(original) if original is not None else fol.Detection(id=label_id)
        label.label = one_label(value, "rectanglelabels")
        label.bounding_box = from_percent(
            [x, y, width, height], original.bounding_box if original is not None else None
        )
        if rotation or label.has_attribute(ROTATION):
            label.set_attribute_value(ROTATION, rotation)
        if result.get("score") is not None:
            label.confidence = result["score"]
        return label

    problems: list[Problem] = []
    labels = convert_each(results, convert, describe_result, problems)
    return {label.id: label for label in labels}, problems


DETECTIONS = Family(
    control="RectangleLabels",
    result_type="rectanglelabels",
    anno_type="detections",
    export=export_detections,
    load=load_detections,
)

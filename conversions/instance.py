"""Instance segmentations (Detections with masks) <-> ``BrushLabels``.

Label Studio holds a brush region as a mask over the whole image; FiftyOne holds
an instance as a box plus a mask inside it. A label is rendered into the image
as FiftyOne renders it (box corners truncated to pixels, mask resized to the
box); a region whose pixels are exactly that rendering is the untouched label
and comes back as it was, box and mask bit for bit. An edited region gets the
tight box around its pixels.
"""

from __future__ import annotations

from typing import Mapping

import fiftyone.core.labels as fol
import numpy as np

from .attributes import apply_attributes, attributes_as_sent
from .base import (
    Family,
    FieldSchema,
    Frame,
    Problem,
    RegionError,
    convert_each,
    describe_result,
    is_finite_number,
    label_id_of,
    label_to_edit,
    make_result,
    one_label,
    resize_nearest,
    result_size,
)
from .rle import mask_to_rle, rle_to_mask


def export_instances(
    labels: list[fol.Detection], field: FieldSchema, frame: Frame
) -> tuple[list[dict], list[Problem]]:
    results, problems = [], []
    for label in labels:
        mask = render_instance(label, frame.width, frame.height)
        if not mask.any():
            problems.append(
                Problem("instance has no pixels inside the image", label.id, field.name)
            )
            continue
        value = {"format": "rle", "rle": mask_to_rle(mask), "brushlabels": [label.label]}
        results.append(make_result(field, frame, "brushlabels", value, label.id, label.confidence))
    return results, problems


def load_instances(
    results: list[dict],
    field: FieldSchema,
    frame: Frame,
    originals: Mapping[str, fol.Detection],
) -> tuple[dict[str, fol.Detection], list[Problem]]:
    def convert(result: dict) -> fol.Detection:
        value = result["value"]
        width, height = result_size(result, frame)
        mask = rle_to_mask(value["rle"], height, width)
        if not mask.any():
            raise RegionError("the brush mask is empty")

        label_id = label_id_of(str(result["id"]), frame, field.name)
        original = originals.get(label_id)
        name, score = one_label(value, "brushlabels"), result.get("score")
        # the editor may re-encode an untouched mask: compare pixels, not bytes
        untouched = original is not None and np.array_equal(
            render_instance(original, width, height), mask
        )
        if (
            untouched
            and name == original.label
            and (not is_finite_number(score) or score == original.confidence)
            and attributes_as_sent(original, [result], field.attributes)
        ):
            return original
        label = label_to_edit(original, fol.Detection, label_id, originals)
        if not untouched:
            dtype = (
                original.mask.dtype if original is not None and original.mask is not None else bool
            )
            label.bounding_box, label.mask = _box_and_crop(mask, dtype)
        label.label = name
        if is_finite_number(score):
            label.confidence = score
        apply_attributes(label, [result], field.attributes, original)
        return label

    problems: list[Problem] = []
    labels = convert_each(results, convert, describe_result, problems)
    return {label.id: label for label in labels}, problems


def render_instance(label: fol.Detection, width: int, height: int) -> np.ndarray:
    """The ``height x width`` boolean mask FiftyOne draws for an instance.

    A detection without a mask fills its box.

    Example:
        >>> d = fol.Detection(bounding_box=[0.25, 0.5, 0.5, 0.5], mask=np.eye(2, dtype=bool))
        >>> render_instance(d, 4, 4).astype(int).tolist()
        [[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    """
    x, y, w, h = label.bounding_box
    x0, y0 = int(width * x), int(height * y)
    box_w, box_h = int(width * (x + w)) - x0, int(height * (y + h)) - y0
    canvas = np.zeros((height, width), dtype=bool)
    if box_w <= 0 or box_h <= 0:
        return canvas
    if label.mask is None:
        patch = np.ones((box_h, box_w), dtype=bool)
    else:
        patch = resize_nearest(np.asarray(label.mask).astype(bool), box_h, box_w)
    # the part of the box inside the image
    top, left = max(0, -y0), max(0, -x0)
    bottom, right = min(box_h, height - y0), min(box_w, width - x0)
    if bottom > top and right > left:
        canvas[y0 + top : y0 + bottom, x0 + left : x0 + right] = patch[top:bottom, left:right]
    return canvas


def _box_and_crop(mask: np.ndarray, dtype) -> tuple[list[float], np.ndarray]:
    """Relative tight box around a full-image mask, and the mask inside it."""
    height, width = mask.shape
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    box = [x0 / width, y0 / height, (x1 - x0) / width, (y1 - y0) / height]
    return [float(v) for v in box], mask[y0:y1, x0:x1].astype(dtype)


INSTANCES = Family(
    control="BrushLabels",
    result_type="brushlabels",
    anno_type="detections",
    export=export_instances,
    load=load_instances,
)

"""Semantic segmentation <-> ``BrushLabels``, one region per mask target.

The region of target ``v`` holds the pixels whose value is ``v`` (an integer,
or an ``"#rrggbb"`` colour for RGB masks); loading paints each region's pixels
with its target's value, in result order, on a zero background. A mask whose
regions are exactly what was sent comes back as it was (same array, dtype and
size, even where the mask is not the image's size).
"""

from __future__ import annotations

from typing import Any, Mapping

import fiftyone.core.labels as fol
import numpy as np

from .base import (
    Family,
    FieldSchema,
    Frame,
    Problem,
    RegionError,
    convert_each,
    derived_label_id,
    describe_result,
    label_to_edit,
    make_result,
    one_label,
    part_region_id,
    resize_nearest,
    result_size,
    split_region_id,
)
from .rle import mask_to_rle, rle_to_mask


def export_segmentation(
    labels: list[fol.Segmentation], field: FieldSchema, frame: Frame
) -> tuple[list[dict], list[Problem]]:
    if not labels or labels[0].mask is None:
        return [], []
    label = labels[0]
    mask = resize_nearest(np.asarray(label.mask), frame.height, frame.width)
    results, problems = [], []
    for k, (target, name) in enumerate(field.mask_targets.items()):
        pixels = _pixels_of(mask, target)
        if is_background(target) or not pixels.any():
            continue
        value = {"format": "rle", "rle": mask_to_rle(pixels), "brushlabels": [name]}
        results.append(make_result(field, frame, "brushlabels", value, part_region_id(label.id, k)))
    unmapped = _unmapped_values(mask, field.mask_targets)
    if unmapped:
        problems.append(
            Problem(
                f"mask values {unmapped} have no mask target, so they cannot be sent; "
                "add them to the field's mask_targets",
                label.id,
                field.name,
            )
        )
    return results, problems


def load_segmentation(
    results: list[dict],
    field: FieldSchema,
    frame: Frame,
    originals: Mapping[str, fol.Segmentation],
) -> tuple[dict[str, fol.Segmentation], list[Problem]]:
    if not results:
        return {}, []
    targets = {name: target for target, name in field.mask_targets.items()}
    is_rgb = any(isinstance(target, str) for target in targets.values())

    def convert(result: dict) -> tuple[Any, np.ndarray]:
        name = one_label(result["value"], "brushlabels")
        if name not in targets:
            raise RegionError(f"class {name!r} is not a mask target of this field")
        width, height = result_size(result, frame)
        if (width, height) != (frame.width, frame.height):
            raise RegionError(
                f"brush size {width}x{height} differs from the image's {frame.width}x{frame.height}"
            )
        return targets[name], rle_to_mask(result["value"]["rle"], height, width)

    problems: list[Problem] = []
    regions = convert_each(results, convert, describe_result, problems)
    if not regions:
        return {}, problems

    label_id = _label_id(results, frame, field, originals)
    original = originals.get(label_id)
    dtype = _dtype(original, targets, is_rgb)
    shape = (frame.height, frame.width, 3) if is_rgb else (frame.height, frame.width)
    mask = np.zeros(shape, dtype=dtype)
    for target, pixels in regions:
        mask[pixels] = _color(target) if is_rgb else target

    if original is not None and original.mask is not None:
        if np.array_equal(
            resize_nearest(np.asarray(original.mask), frame.height, frame.width), mask
        ):
            return {label_id: original}, problems
    label = label_to_edit(original, fol.Segmentation, label_id, originals)
    label.mask = mask
    return {label_id: label}, problems


def _label_id(results, frame, field, originals) -> str:
    """A field holds one segmentation per image: the one the regions came from,
    else the one the sample has, else a new one."""
    for result in results:
        label_id, _ = split_region_id(str(result.get("id", "")))
        if label_id is not None:
            return label_id
    if len(originals) == 1:
        return next(iter(originals))
    return derived_label_id(frame, field.name)


def _dtype(original, targets, is_rgb) -> np.dtype:
    if original is not None and original.mask is not None:
        return np.asarray(original.mask).dtype
    if is_rgb:
        return np.dtype(np.uint8)
    return np.dtype(np.uint8 if max(targets.values(), default=0) <= 255 else np.uint16)


def _color(target: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` -> ``(r, g, b)``."""
    text = target.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def is_background(target: Any) -> bool:
    return target == 0 or (isinstance(target, str) and _color(target) == (0, 0, 0))


def _pixels_of(mask: np.ndarray, target: Any) -> np.ndarray:
    if isinstance(target, str):
        return np.all(mask == np.array(_color(target), dtype=mask.dtype), axis=-1)
    return mask == target


def _unmapped_values(mask: np.ndarray, mask_targets: Mapping[Any, str]) -> list:
    if mask.ndim == 3:
        colors = {tuple(int(c) for c in color) for color in np.unique(mask.reshape(-1, 3), axis=0)}
        known = {_color(t) for t in mask_targets if isinstance(t, str)} | {(0, 0, 0)}
        return ["#%02x%02x%02x" % color for color in sorted(colors - known)]
    values = {int(v) for v in np.unique(mask)}
    return sorted(values - set(mask_targets) - {0})


SEGMENTATION = Family(
    control="BrushLabels",
    result_type="brushlabels",
    anno_type="segmentation",
    export=export_segmentation,
    load=load_segmentation,
    classes=lambda field: tuple(
        name for target, name in field.mask_targets.items() if not is_background(target)
    ),
)

"""Keypoints <-> ``KeyPointLabels``.

Label Studio has one region per point, so point ``i`` of keypoint ``K`` is
region ``K_i``; a missing point (NaN) has no region. Loading regroups the points
into the same keypoint, in the same order, with missing points still NaN.
Points drawn in Label Studio form one new keypoint per class, in the order
they were drawn.
"""

from __future__ import annotations

import math
from typing import Mapping

import fiftyone.core.labels as fol

from .base import (
    Family,
    FieldSchema,
    Frame,
    Part,
    Problem,
    convert_each,
    describe_result,
    is_finite_number,
    label_to_edit,
    make_result,
    one_label,
    part_region_id,
    regroup,
    relative_point,
    split_region_id,
    untouched_parts,
    with_attributes,
)

POINT_WIDTH = 0.5
"""Size of a drawn point, in percent of the image width: only how the editor shows it."""

MISSING = [math.nan, math.nan]


def export_keypoints(
    labels: list[fol.Keypoint], field: FieldSchema, frame: Frame
) -> tuple[list[dict], list[Problem]]:
    results, problems = [], []
    for label in labels:
        if _sends_nothing(label):
            problems.append(Problem(_NOT_SENT.format(label.id, label.label), None, field.name))
        confidence = label.confidence or []
        for i, (x, y) in enumerate(label.points):
            if not _visible(x, y):
                continue
            value = {
                "x": 100 * x,
                "y": 100 * y,
                "width": POINT_WIDTH,
                "keypointlabels": [label.label],
            }
            score = confidence[i] if i < len(confidence) else None
            results.append(
                make_result(
                    field, frame, "keypointlabels", value, part_region_id(label.id, i), score
                )
            )
    return results, problems


_NOT_SENT = "keypoint {} ({!r}) has no visible point: not sent, and kept as it is"


def _visible(x: float, y: float) -> bool:
    return not (math.isnan(x) or math.isnan(y))


def _sends_nothing(label: fol.Keypoint) -> bool:
    """Whether no point of a keypoint is visible (COCO's ``num_keypoints=0``).

    Example:
        >>> _sends_nothing(fol.Keypoint(points=[(math.nan, math.nan)]))
        True
    """
    return not any(_visible(x, y) for x, y in label.points or [])


def load_keypoints(
    results: list[dict],
    field: FieldSchema,
    frame: Frame,
    originals: Mapping[str, fol.Keypoint],
) -> tuple[dict[str, fol.Keypoint], list[Problem]]:
    def convert(result: dict) -> Part:
        value = result["value"]
        label_id, index = split_region_id(str(result["id"]))
        if index is None:
            label_id = None
        point = relative_point((value["x"], value["y"]), _point_of(originals.get(label_id), index))
        return Part(label_id, one_label(value, "keypointlabels"), index, result, point)

    problems: list[Problem] = []
    loaded, results = untouched_parts(results, originals, export_keypoints, field, frame)
    parts = convert_each(results, convert, describe_result, problems)
    for label_id, original, label, members in regroup(parts, frame, field.name, originals):
        indices = [i if part.index is None else part.index for i, part in enumerate(members)]
        size = max(len(original.points) if original is not None else 0, max(indices) + 1)
        keypoint = label_to_edit(original, fol.Keypoint, label_id, originals)
        keypoint.label = label
        points = [list(MISSING) for _ in range(size)]
        for i, part in zip(indices, members):
            points[i] = part.geometry
        keypoint.points = points
        scores = {
            i: p.result["score"]
            for i, p in zip(indices, members)
            if is_finite_number(p.result.get("score"))
        }
        if scores:
            confidence = list(keypoint.confidence or [])
            confidence += [math.nan] * (size - len(confidence))
            for i, score in scores.items():
                confidence[i] = score
            keypoint.confidence = confidence
        if with_attributes(keypoint, members, field, original, problems):
            loaded[label_id] = keypoint
        elif original is not None:
            loaded[label_id] = original
    return loaded, problems


def _point_of(keypoint, index):
    if keypoint is None or index is None or index >= len(keypoint.points):
        return None
    return keypoint.points[index]


KEYPOINTS = Family(
    control="KeyPointLabels",
    result_type="keypointlabels",
    anno_type="keypoints",
    export=export_keypoints,
    load=load_keypoints,
    compares_sent=True,
    sends_nothing=_sends_nothing,
)

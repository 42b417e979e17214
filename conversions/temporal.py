"""Temporal detections <-> ``TimelineLabels``.

A ``TemporalDetection``'s ``support`` ``[first, last]`` (1-based, inclusive
frame numbers) is a region's range ``{"start": first, "end": last}`` (Label
Studio's ranges are 1-based and inclusive too). A region the annotator gave
several ranges becomes one temporal detection per range; the first keeps the
region's id.
"""

from __future__ import annotations

from typing import Any, Mapping

import fiftyone.core.labels as fol

from .base import (
    Family,
    FieldSchema,
    Frame,
    Problem,
    convert_each,
    copy_label,
    derived_label_id,
    describe_result,
    is_finite_number,
    label_id_of,
    make_result,
    one_label,
)
from .geometry import RegionError


def export_temporal(
    labels: list[fol.TemporalDetection], field: FieldSchema, frame: Frame
) -> tuple[list[dict], list[Problem]]:
    results = []
    for label in labels:
        first, last = label.support
        value = {"ranges": [{"start": first, "end": last}], "timelinelabels": [label.label]}
        results.append(
            make_result(field, frame, "timelinelabels", value, label.id, label.confidence)
        )
    return results, []


def load_temporal(
    results: list[dict],
    field: FieldSchema,
    frame: Frame,
    originals: Mapping[str, fol.TemporalDetection],
) -> tuple[dict[str, fol.TemporalDetection], list[Problem]]:
    def convert(result: dict) -> list[fol.TemporalDetection]:
        value = result["value"]
        name = one_label(value, "timelinelabels")
        ranges = value.get("ranges")
        if not isinstance(ranges, list) or not ranges:
            raise RegionError("'ranges' holds no range")
        labels = []
        for k, span in enumerate(ranges):
            support = _support(span, frame)
            label_id = label_id_of(str(result["id"]), frame, field.name)
            if k:
                label_id = derived_label_id(frame, field.name, result["id"], k)
            original = originals.get(label_id)
            if (
                original is not None
                and list(original.support) == support
                and original.label == name
            ):
                labels.append(original)
                continue
            if original is None:  # FiftyOne validates support as the label is made
                label = fol.TemporalDetection(id=label_id, label=name, support=support)
            else:
                label = copy_label(original)
                label.label, label.support = name, support
            if is_finite_number(result.get("score")):
                label.confidence = result["score"]
            labels.append(label)
        return labels

    problems: list[Problem] = []
    loaded = {}
    for labels in convert_each(results, convert, describe_result, problems):
        for label in labels:
            loaded[label.id] = label
    return loaded, problems


def _support(span: Any, frame: Frame) -> list[int]:
    if not isinstance(span, Mapping):
        raise RegionError(f"range {span!r} is not {{'start', 'end'}}")
    first, last = span.get("start"), span.get("end")
    for name, value in (("start", first), ("end", last)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RegionError(f"range {name}={value!r} is not a frame number")
    if first < 1 or last < first or (frame.frames_count and last > frame.frames_count):
        raise RegionError(
            f"range {first}-{last} is not within the video's frames 1-{frame.frames_count}"
        )
    return [first, last]


TEMPORAL_DETECTIONS = Family(
    control="TimelineLabels",
    result_type="timelinelabels",
    anno_type="temporal_detections",
    export=export_temporal,
    load=load_temporal,
)

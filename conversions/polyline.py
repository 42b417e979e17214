"""Polylines <-> ``PolygonLabels`` (filled) and ``VectorLabels`` (open lines).

A FiftyOne polyline may hold several shapes; Label Studio draws one shape per
region, so shape ``k`` of label ``L`` is region ``L_k`` and all shapes come
back, in order, into the same label. An open line is a ``VectorLabels`` region
(Label Studio >= 1.23) whose ``closed`` flag is the polyline's.
"""

from __future__ import annotations

from typing import Mapping

import fiftyone.core.labels as fol

from .base import (
    Family,
    FieldSchema,
    Frame,
    Part,
    Problem,
    RegionError,
    convert_each,
    derived_label_id,
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


def export_polygons(
    labels: list[fol.Polyline], field: FieldSchema, frame: Frame
) -> tuple[list[dict], list[Problem]]:
    return _export(labels, field, frame, "polygonlabels", _polygon_value)


def export_polylines(
    labels: list[fol.Polyline], field: FieldSchema, frame: Frame
) -> tuple[list[dict], list[Problem]]:
    return _export(labels, field, frame, "vectorlabels", _vector_value)


def _export(labels, field, frame, result_type, make_value):
    problems = [
        Problem(_NOT_SENT.format(label.id, label.label), None, field.name)
        for label in labels
        if _sends_nothing(label)
    ]
    results = [
        make_result(
            field,
            frame,
            result_type,
            make_value(shape, label),
            part_region_id(label.id, k),
            label.confidence,
        )
        for label in labels
        for k, shape in enumerate(label.points)
    ]
    return results, problems


_NOT_SENT = "polyline {} ({!r}) has no points: not sent, and kept as it is"


def _sends_nothing(label: fol.Polyline) -> bool:
    return not label.points


def _polygon_value(shape, label) -> dict:
    return {
        "points": [[100 * x, 100 * y] for x, y in shape],
        "closed": True,
        "polygonlabels": [label.label],
    }


def _vector_value(shape, label) -> dict:
    vertices = [
        {"id": f"p{i}", "x": 100 * x, "y": 100 * y, "isBezier": False}
        for i, (x, y) in enumerate(shape)
    ]
    for previous, vertex in zip(vertices, vertices[1:]):
        vertex["prevPointId"] = previous["id"]
    return {"vertices": vertices, "closed": bool(label.closed), "vectorlabels": [label.label]}


def load_polygons(
    results: list[dict],
    field: FieldSchema,
    frame: Frame,
    originals: Mapping[str, fol.Polyline],
) -> tuple[dict[str, fol.Polyline], list[Problem]]:
    def read(value: dict, original: list | None) -> tuple[list[list[float]], bool]:
        points = value["points"]
        if not isinstance(points, list) or len(points) < 3:
            raise RegionError("a polygon needs at least 3 points")
        return _shape(points, original), True

    return _load(results, field, frame, originals, "polygonlabels", read, export_polygons)


def load_polylines(
    results: list[dict],
    field: FieldSchema,
    frame: Frame,
    originals: Mapping[str, fol.Polyline],
) -> tuple[dict[str, fol.Polyline], list[Problem]]:
    def read(value: dict, original: list | None) -> tuple[list[list[float]], bool]:
        vertices = _vertex_order(value["vertices"])
        if len(vertices) < 2:
            raise RegionError("a line needs at least 2 vertices")
        points = [(v["x"], v["y"]) for v in vertices]
        return _shape(points, original), bool(value.get("closed", False))

    return _load(results, field, frame, originals, "vectorlabels", read, export_polylines)


def _load(results, field, frame, originals, labels_key, read, export):
    filled = export is export_polygons
    problems: list[Problem] = []
    loaded, results = untouched_parts(results, originals, export, field, frame)

    def convert(result: dict) -> Part:
        region_id = str(result["id"])
        label_id, index = split_region_id(region_id)
        if label_id is None:
            # a shape drawn in Label Studio is a polyline of its own
            label_id = derived_label_id(frame, field.name, region_id)
        index = index or 0
        original = originals.get(label_id)
        shape = (
            original.points[index]
            if original is not None and index < len(original.points)
            else None
        )
        geometry = read(result["value"], shape)
        return Part(label_id, one_label(result["value"], labels_key), index, result, geometry)

    parts = convert_each(results, convert, describe_result, problems)
    for label_id, original, label, members in regroup(parts, frame, field.name, originals):
        polyline = label_to_edit(original, fol.Polyline, label_id, originals)
        if original is None:
            polyline.filled = polyline.closed = filled
        polyline.label = label
        polyline.points = [part.geometry[0] for part in members]
        if not filled:
            polyline.closed = any(part.geometry[1] for part in members)
        scores = [p.result["score"] for p in members if is_finite_number(p.result.get("score"))]
        if scores:
            polyline.confidence = scores[0]
        if with_attributes(polyline, members, field, original, problems):
            loaded[label_id] = polyline
        elif original is not None:
            loaded[label_id] = original
    return loaded, problems


def _shape(points: list, original: list | None) -> list[list[float]]:
    if original is None or len(original) != len(points):
        return [relative_point(point) for point in points]
    return [relative_point(point, reference) for point, reference in zip(points, original)]


def _vertex_order(vertices: list[dict]) -> list[dict]:
    """Vertices along the line: following ``prevPointId`` where the editor set
    it, else in list order."""
    if not isinstance(vertices, list):
        raise RegionError("'vertices' must be a list")
    by_previous = {v.get("prevPointId"): v for v in vertices if v.get("prevPointId")}
    starts = [v for v in vertices if not v.get("prevPointId")]
    if len(starts) != 1 or len(by_previous) != len(vertices) - 1:
        return vertices
    ordered = starts
    while ordered[-1].get("id") in by_previous and len(ordered) < len(vertices):
        ordered.append(by_previous[ordered[-1]["id"]])
    return ordered if len(ordered) == len(vertices) else vertices


POLYGONS = Family(
    control="PolygonLabels",
    result_type="polygonlabels",
    anno_type="polylines",
    export=export_polygons,
    load=load_polygons,
    compares_sent=True,
    sends_nothing=_sends_nothing,
)

POLYLINES = Family(
    control="VectorLabels",
    result_type="vectorlabels",
    anno_type="polylines",
    export=export_polylines,
    load=load_polylines,
    compares_sent=True,
    sends_nothing=_sends_nothing,
    # without it, the editor saves an accepted closed line as open
    tag_attributes=lambda field: {"closable": "true"},
)

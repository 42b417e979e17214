"""Label Studio's own labeling editor, driven in headless Chromium like an
annotator, on a project this plugin made; then the annotations are loaded
into FiftyOne and the dataset is checked against what the editor submitted.

Task 1 (320x240): the pre-annotations are accepted, then one box is moved
and resized, one rotated, one relabelled cat -> dog, one deleted, a polygon
vertex dragged; a rectangle, a polygon, a line, two key points and a brush
stroke are drawn; the TextArea and the Number are filled; submitted.
Task 2 (240x320) is skipped in the labeling stream; task 3 is left alone.

``RECORD_EDITOR_FIXTURES=1 .venv/bin/python -m pytest tests/test_label_studio_editor.py``
also (re)writes ``tests/assets/<control>/<case>.json`` from what the editor
submitted (see tests/assets/README.md); a normal run writes only
screenshots, to tests/artifacts/editor/.
"""

from __future__ import annotations

import json
import math
import os
import types
import uuid

import fiftyone as fo
import fiftyone.core.labels as fol
import numpy as np
import pytest
from annotator import Annotator
from app import CHROMIUM, CHROMIUM_ARGS
from fiftyone_labelstudio.conversions.rle import rle_to_mask
from labels_equal import assert_values_equal
from ls_editor import SLOW, Editor
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSETS = os.path.join(ROOT, "tests", "assets")
RECORD = os.environ.get("RECORD_EDITOR_FIXTURES") == "1"
LABEL_STUDIO_VERSION = "1.23.2"
KEY = "editor"

SCHEMA = {
    "boxes": {"type": "detections", "classes": ["cat", "dog"]},
    "regions": {"type": "polygons", "classes": ["lake", "field"]},
    "lines": {"type": "polylines", "classes": ["road", "river"]},
    "poses": {"type": "keypoints", "classes": ["person", "face"]},
    "masks": {"type": "instances", "classes": ["cat", "dog"]},
    "caption": {"type": "scalar"},
    "count": {"type": "scalar"},
}
FIELDS = list(SCHEMA)
SCALAR_TYPES = {"caption": "str", "count": "int"}
CONTROLS = {
    "boxes": "rectanglelabels",
    "regions": "polygonlabels",
    "lines": "vectorlabels",
    "poses": "keypointlabels",
    "masks": "brushlabels",
    "caption": "textarea",
    "count": "number",
}
SIZES = [(320, 240), (240, 320), (320, 240)]
NAN = math.nan

# What the annotator does on task 1, in fractions of the image.
MOVE_BY = (30, 30)  # displayed pixels
RESIZE_BY = (30, 25)
ROTATE_BY = 25.0  # degrees, clockwise
VERTEX_BY = (25, -20)
NEW_BOX = [(0.45, 0.62), (0.60, 0.75)]
NEW_POLYGON = [(0.05, 0.62), (0.20, 0.60), (0.18, 0.75), (0.07, 0.76)]
NEW_LINE = [(0.25, 0.62), (0.32, 0.72), (0.40, 0.64)]
NEW_POINTS = [(0.88, 0.50), (0.92, 0.55)]
STROKE = [(0.45, 0.85), (0.52, 0.87), (0.60, 0.88)]
CAPTION = "two dogs and a cat"
COUNT = 12


# -- the dataset ------------------------------------------------------------------


def ellipse(height, width):
    yy, xx = np.mgrid[0:height, 0:width]
    return ((yy - height / 2 + 0.5) / (height / 2)) ** 2 + (
        (xx - width / 2 + 0.5) / (width / 2)
    ) ** 2 <= 1


def labels_of_sample(width, height, shift=0.0):
    """Labels laid out with empty space where task 1's regions are drawn.
    ``shift`` moves everything a little (other samples)."""

    def box(x, y, w, h):
        return [x + shift, y + shift, w, h]

    def shape(points):
        return [[x + shift, y + shift] for x, y in points]

    mask_box = box(0.72, 0.62, 0.20, 0.20)
    mask_w = int(width * (mask_box[0] + mask_box[2])) - int(width * mask_box[0])
    mask_h = int(height * (mask_box[1] + mask_box[3])) - int(height * mask_box[1])
    return {
        "boxes": fol.Detections(
            detections=[
                fol.Detection(label="cat", bounding_box=box(0.05, 0.08, 0.15, 0.15)),  # moved
                fol.Detection(label="dog", bounding_box=box(0.28, 0.30, 0.14, 0.20)),  # rotated
                fol.Detection(label="cat", bounding_box=box(0.50, 0.08, 0.12, 0.15)),  # relabelled
                fol.Detection(label="dog", bounding_box=box(0.70, 0.08, 0.12, 0.15)),  # deleted
                fol.Detection(
                    label="cat", bounding_box=box(0.85, 0.30, 0.10, 0.12), confidence=0.9
                ),  # untouched
            ]
        ),
        "regions": fol.Polylines(
            polylines=[
                fol.Polyline(
                    label="lake",
                    points=[shape([(0.05, 0.40), (0.20, 0.38), (0.15, 0.55)])],
                    closed=True,
                    filled=True,
                ),  # a vertex dragged
                fol.Polyline(
                    label="field",
                    points=[shape([(0.50, 0.30), (0.62, 0.32), (0.56, 0.45)])],
                    closed=True,
                    filled=True,
                ),  # untouched
            ]
        ),
        "lines": fol.Polylines(
            polylines=[
                fol.Polyline(
                    label="road",
                    points=[shape([(0.05, 0.92), (0.20, 0.86), (0.35, 0.93)])],
                    closed=False,
                    filled=False,
                ),
                fol.Polyline(
                    label="river",
                    points=[shape([(0.70, 0.30), (0.80, 0.30), (0.80, 0.40), (0.70, 0.40)])],
                    closed=True,
                    filled=False,
                ),
            ]
        ),
        "poses": fol.Keypoints(
            keypoints=[
                fol.Keypoint(
                    label="person",
                    points=shape([(0.70, 0.50), (0.75, 0.53)])
                    + [[NAN, NAN]]
                    + shape([(0.80, 0.50)]),
                    confidence=[0.9, 0.8, NAN, 0.7],
                )
            ]
        ),
        "masks": fol.Detections(
            detections=[
                fol.Detection(label="cat", bounding_box=mask_box, mask=ellipse(mask_h, mask_w))
            ]
        ),
        "caption": "a cat",
        "count": 3,
    }


def build_dataset(folder):
    os.makedirs(folder, exist_ok=True)
    dataset = fo.Dataset(f"editor-{uuid.uuid4().hex[:12]}")
    samples = []
    for i, (width, height) in enumerate(SIZES):
        yy, xx = np.mgrid[0:height, 0:width]
        pixels = np.stack(
            [xx * 255 // width, yy * 255 // height, np.full_like(xx, 60 + 60 * i)], axis=-1
        ).astype(np.uint8)
        path = os.path.join(folder, f"image_{i}.png")
        Image.fromarray(pixels).save(path)
        sample = fo.Sample(filepath=path)
        sample.update_fields(labels_of_sample(width, height, shift=0.01 * i))
        samples.append(sample)
    dataset.add_samples(samples)
    dataset.compute_metadata()
    return dataset


def label_list(value):
    return list(value[value._LABEL_LIST_FIELD])


def assert_unchanged(actual, expected, path="value"):
    """``assert_values_equal`` for labels read back from the dataset, where a
    field the dataset's schema declares (such as ``rotation``, once a rotated
    box was loaded) shows as None on labels that never had it."""
    if hasattr(expected, "iter_fields") and hasattr(expected, "to_dict"):
        assert type(actual) is type(expected), f"{path}: {type(actual)} != {type(expected)}"
        held = {k: v for k, v in actual.iter_fields() if v is not None}
        wanted = {k: v for k, v in expected.iter_fields() if v is not None}
        assert held.keys() == wanted.keys(), f"{path}: fields {sorted(held)} != {sorted(wanted)}"
        for name, value in wanted.items():
            assert_unchanged(held[name], value, f"{path}.{name}")
    elif isinstance(expected, (list, tuple)) and not isinstance(expected, str):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), (
            f"{path}: {actual!r} != {expected!r}"
        )
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_unchanged(a, e, f"{path}[{i}]")
    else:
        assert_values_equal(actual, expected, path)


# -- the annotator's session ---------------------------------------------------------


@pytest.fixture(scope="module")
def run(label_studio):
    """Requests the run, annotates in the editor, loads; everything the tests read."""
    from playwright.sync_api import sync_playwright

    folder = os.path.join(label_studio.document_root, "editor-" + uuid.uuid4().hex[:8])
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED", "true")
        monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", label_studio.document_root)
        dataset = build_dataset(folder)
        try:
            results = dataset.annotate(
                KEY,
                backend="labelstudio",
                label_schema=SCHEMA,
                url=label_studio.url,
                api_key=label_studio.pat,
            )
            assert results.media_mode == "local_storage"
            state = types.SimpleNamespace(dataset=dataset, project_id=results.project_id)
            state.ids = dataset.values("id")
            state.before = {
                s.id: fo.Sample.from_dict(s.to_mongo_dict()) for s in dataset.select_fields(FIELDS)
            }
            annotator = Annotator(label_studio.url, label_studio.pat)
            state.task_ids, state.tasks, state.label_config = annotator.as_served(
                results.project_id, state.ids
            )

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                try:
                    context = browser.new_context(viewport={"width": 1600, "height": 1000})
                    context.set_default_timeout(SLOW)
                    editor = Editor(context.new_page(), label_studio.url)
                    try:
                        annotate_in_the_editor(editor, label_studio, state)
                    except BaseException:
                        editor.shot("failure")
                        raise
                finally:
                    browser.close()

            state.submitted = annotator.get(f"api/annotations/{state.submitted_id}")
            state.skipped = annotator.get(f"api/annotations/{state.skipped_id}")
            state.untouched_task = annotator.get(f"api/tasks/{state.task_ids[2]}")

            dataset.load_annotations(KEY, api_key=label_studio.pat)
            state.after = {s.id: s for s in dataset.select_fields(FIELDS)}
            if RECORD:
                write_fixtures(state)
            yield state
        finally:
            dataset.delete()


def annotate_in_the_editor(editor: Editor, label_studio, state) -> None:
    """What the annotator does, task by task."""
    sample = state.before[state.ids[0]]
    boxes = label_list(sample["boxes"])
    moved, rotated, relabelled, deleted = boxes[:4]
    lake = sample["regions"].polylines[0]
    # the regions listed: all the prediction's results but the TextArea's and the Number's
    predicted_regions = len(state.tasks[0]["predictions"][0]["result"]) - 2

    editor.login(label_studio.username, label_studio.password)

    # -- task 1: accept, edit, draw, submit
    editor.open_task(state.project_id, state.task_ids[0], regions=predicted_regions)
    editor.accept_prediction(regions=predicted_regions)
    editor.shot("task1-accepted")

    def at(point):
        return editor.at(*point)

    def corners(detection):
        x, y, w, h = detection.bounding_box
        return at((x, y)), at((x + w, y + h))

    # move, then resize by the bottom-right anchor
    (x0, y0), (x1, y1) = corners(moved)
    assert editor.select_region_at(((x0 + x1) / 2, (y0 + y1) / 2)) == moved.id
    editor.move(((x0 + x1) / 2, (y0 + y1) / 2), MOVE_BY)
    editor.resize((x1 + MOVE_BY[0], y1 + MOVE_BY[1]), RESIZE_BY)
    assert editor.selected_region_id() == moved.id

    # rotate by the transformer's rotation handle
    (x0, y0), (x1, y1) = corners(rotated)
    assert editor.select_region_at(((x0 + x1) / 2, (y0 + y1) / 2)) == rotated.id
    editor.rotate((x0, y0), (x1, y1), ROTATE_BY)
    editor.shot("task1-moved-resized-rotated")

    # relabel cat -> dog
    (x0, y0), (x1, y1) = corners(relabelled)
    assert editor.select_region_at(((x0 + x1) / 2, (y0 + y1) / 2)) == relabelled.id
    editor.choose_label("boxes", "dog")

    # delete
    (x0, y0), (x1, y1) = corners(deleted)
    assert editor.select_region_at(((x0 + x1) / 2, (y0 + y1) / 2)) == deleted.id
    editor.delete_selected()
    editor.unselect()

    # drag one polygon vertex, the polygon selected in the region list
    editor.leave_move_tool("regions", "lake")
    assert editor.select_region_in_list("lake") == f"{lake.id}_0"
    vertex = at(lake.points[0][1])
    editor.drag_vertex(vertex, (vertex[0] + VERTEX_BY[0], vertex[1] + VERTEX_BY[1]))
    editor.unselect()
    editor.shot("task1-edited")

    # draw: a rectangle, a polygon (by the label's hotkey), a line, key points, a stroke
    editor.draw_rectangle("boxes", "dog", at(NEW_BOX[0]), at(NEW_BOX[1]))
    editor.draw_polygon("regions", "field", [at(p) for p in NEW_POLYGON], hotkey=True)
    editor.draw_line("lines", "river", [at(p) for p in NEW_LINE])
    editor.place_keypoints("poses", "face", [at(p) for p in NEW_POINTS])
    editor.brush("masks", "dog", [at(p) for p in STROKE])
    editor.set_text("caption", CAPTION)
    editor.set_number("count", COUNT)
    editor.shot("task1-drawn")
    # one region deleted; a rectangle, a polygon, a line, the points and a stroke drawn
    editor.wait_for_regions(predicted_regions - 1 + 4 + len(NEW_POINTS))
    state.submitted_id = editor.submit()["id"]
    editor.shot("task1-submitted")

    # -- task 2: skipped in the labeling stream; then task 3 shows, left alone
    assert editor.open_stream(state.project_id) == state.task_ids[1]
    editor.shot("task2-stream")
    state.skipped_id = editor.skip()["id"]
    editor.wait_for_task(state.task_ids[2])
    editor.shot("task3-left-alone")


# -- reading what was submitted ----------------------------------------------------------


def results_of(annotation, field):
    return [r for r in annotation["result"] if r.get("from_name") == field]


def predicted_ids(state, field, task=0):
    return {
        r["id"] for r in state.tasks[task]["predictions"][0]["result"] if r["from_name"] == field
    }


def drawn(state, field):
    """The results of regions drawn in the editor (ids it made)."""
    return [
        r for r in results_of(state.submitted, field) if r["id"] not in predicted_ids(state, field)
    ]


def result_by_id(state, region_id):
    [result] = [r for r in state.submitted["result"] if r["id"] == region_id]
    return result


def close(actual, expected, tolerance=1e-9):
    return len(actual) == len(expected) and all(
        abs(a - e) <= tolerance for a, e in zip(np.ravel(actual), np.ravel(expected))
    )


# -- the tests ---------------------------------------------------------------------------


def test_edited_boxes_load_with_the_submitted_geometry_and_classes(run):
    before = {d.id: d for d in label_list(run.before[run.ids[0]]["boxes"])}
    after = {d.id: d for d in label_list(run.after[run.ids[0]]["boxes"])}
    moved, rotated, relabelled, deleted, untouched = before.values()

    value = result_by_id(run, moved.id)["value"]
    assert value["rotation"] == 0
    expected = [value["x"] / 100, value["y"] / 100, value["width"] / 100, value["height"] / 100]
    assert close(after[moved.id].bounding_box, expected), (after[moved.id].bounding_box, expected)
    assert after[moved.id].label == "cat"
    # the drag moved it and the anchor grew it
    assert expected[0] > moved.bounding_box[0] + 0.01 and expected[1] > moved.bounding_box[1] + 0.01
    assert expected[2] > moved.bounding_box[2] + 0.01 and expected[3] > moved.bounding_box[3] + 0.01

    assert after[relabelled.id].label == "dog"
    assert after[relabelled.id].bounding_box == relabelled.bounding_box

    assert deleted.id not in after
    assert_unchanged(after[untouched.id], untouched, "untouched box")

    [new] = drawn(run, "boxes")
    value = new["value"]
    [box] = [d for d in after.values() if d.id not in before]
    assert box.label == "dog" == value["rectanglelabels"][0]
    expected = [value["x"] / 100, value["y"] / 100, value["width"] / 100, value["height"] / 100]
    assert close(box.bounding_box, expected)
    (x0, y0), (x1, y1) = NEW_BOX
    assert close(expected, [x0, y0, x1 - x0, y1 - y0], tolerance=0.01)
    assert len(after) == len(before) - 1 + 1


def rotated_rectangle(value, width, height):
    """Corners (pixels) of a Label Studio rectangle: ``x, y`` is its top-left
    corner after rotating by ``rotation`` degrees clockwise about that corner."""
    theta = math.radians(value["rotation"])
    w, h = value["width"] / 100 * width, value["height"] / 100 * height
    x, y = value["x"] / 100 * width, value["y"] / 100 * height
    u = np.array([math.cos(theta), math.sin(theta)]) * w
    v = np.array([-math.sin(theta), math.cos(theta)]) * h
    origin = np.array([x, y])
    return np.array([origin, origin + u, origin + u + v, origin + v])


def test_a_rotated_box_keeps_its_angle_its_unrotated_box_and_its_bounds(run):
    rotated = label_list(run.before[run.ids[0]]["boxes"])[1]
    [detection] = [d for d in label_list(run.after[run.ids[0]]["boxes"]) if d.id == rotated.id]
    result = result_by_id(run, rotated.id)
    value, width, height = result["value"], result["original_width"], result["original_height"]
    theta = value["rotation"]
    assert abs(theta - ROTATE_BY) < 3 and theta != 0

    corners = rotated_rectangle(value, width, height)
    centre = corners.mean(axis=0)
    w, h = value["width"] / 100 * width, value["height"] / 100 * height
    expected_rotated_box = [
        (centre[0] - w / 2) / width,
        (centre[1] - h / 2) / height,
        value["width"] / 100,
        value["height"] / 100,
    ]
    low = np.clip(corners.min(axis=0) / [width, height], 0, 1)
    high = np.clip(corners.max(axis=0) / [width, height], 0, 1)
    expected_bounds = [low[0], low[1], high[0] - low[0], high[1] - low[1]]

    assert detection["rotation"] == theta
    assert close(detection["rotated_box"], expected_rotated_box), detection["rotated_box"]
    assert close(detection.bounding_box, expected_bounds), detection.bounding_box
    # rotating about the centre keeps the box the annotator started from
    assert close(expected_rotated_box, rotated.bounding_box, tolerance=1e-6)


def test_a_dragged_polygon_vertex_moves_and_the_rest_stays(run):
    before = {p.id: p for p in run.before[run.ids[0]]["regions"].polylines}
    after = {p.id: p for p in run.after[run.ids[0]]["regions"].polylines}
    lake, field = before.values()
    points = result_by_id(run, f"{lake.id}_0")["value"]["points"]
    moved = after[lake.id].points[0]
    assert close(moved[1], [points[1][0] / 100, points[1][1] / 100])
    assert moved[1][0] > lake.points[0][1][0] + 0.01 and moved[1][1] < lake.points[0][1][1] - 0.01
    assert moved[0] == lake.points[0][0] and moved[2] == lake.points[0][2]
    assert after[lake.id].label == "lake" and after[lake.id].closed and after[lake.id].filled
    assert_unchanged(after[field.id], field, "untouched polygon")

    [new] = drawn(run, "regions")
    [polygon] = [p for p in after.values() if p.id not in before]
    assert polygon.label == "field" and polygon.closed and polygon.filled
    expected = [[x / 100, y / 100] for x, y in new["value"]["points"]]
    assert close(polygon.points[0], expected)
    assert close(expected, NEW_POLYGON, tolerance=0.01)


def test_an_accepted_closed_polyline_comes_back_closed(run):
    river = run.before[run.ids[0]]["lines"].polylines[1]
    assert river.closed
    [after] = [p for p in run.after[run.ids[0]]["lines"].polylines if p.id == river.id]
    assert_unchanged(after, river, "untouched closed line")


def test_a_drawn_line_loads_open_and_the_accepted_open_line_is_unchanged(run):
    before = {p.id: p for p in run.before[run.ids[0]]["lines"].polylines}
    after = {p.id: p for p in run.after[run.ids[0]]["lines"].polylines}
    road = run.before[run.ids[0]]["lines"].polylines[0]
    assert_unchanged(after[road.id], road, "untouched open line")
    [new] = drawn(run, "lines")
    [line] = [p for p in after.values() if p.id not in before]
    assert line.label == "river" and not line.closed and not line.filled
    expected = [[v["x"] / 100, v["y"] / 100] for v in new["value"]["vertices"]]
    assert close(line.points[0], expected)
    assert close(expected, NEW_LINE, tolerance=0.01)


def test_drawn_key_points_make_one_keypoint_of_their_class(run):
    [person] = run.before[run.ids[0]]["poses"].keypoints
    after = {k.id: k for k in run.after[run.ids[0]]["poses"].keypoints}
    assert_unchanged(after[person.id], person, "untouched keypoint")
    news = drawn(run, "poses")
    [face] = [k for k in after.values() if k.id != person.id]
    assert face.label == "face" and len(news) == len(NEW_POINTS)
    expected = [[r["value"]["x"] / 100, r["value"]["y"] / 100] for r in news]
    assert close(face.points, expected)
    assert close(expected, NEW_POINTS, tolerance=0.01)


def test_a_brush_stroke_becomes_an_instance_with_its_pixels(run):
    [cat] = run.before[run.ids[0]]["masks"].detections
    after = {d.id: d for d in run.after[run.ids[0]]["masks"].detections}
    assert_unchanged(after[cat.id], cat, "untouched instance")
    [new] = drawn(run, "masks")
    [dog] = [d for d in after.values() if d.id != cat.id]
    assert dog.label == "dog"
    width, height = new["original_width"], new["original_height"]
    painted = rle_to_mask(new["value"]["rle"], height, width).astype(bool)
    x, y, w, h = dog.bounding_box
    x0, y0 = round(x * width), round(y * height)
    canvas = np.zeros((height, width), bool)
    canvas[y0 : y0 + dog.mask.shape[0], x0 : x0 + dog.mask.shape[1]] = dog.mask
    assert dog.mask.shape == (round(h * height), round(w * width))
    assert np.array_equal(canvas, painted)
    # the stroke went where the annotator painted
    (sx0, sy0), (sx1, sy1) = STROKE[0], STROKE[-1]
    assert sx0 - 0.05 < x < sx0 and x + w < sx1 + 0.05 and sy0 - 0.05 < y < sy1


def test_the_text_and_the_number_load_into_their_scalar_fields(run):
    sample = run.after[run.ids[0]]
    assert (
        sample["caption"] == CAPTION == results_of(run.submitted, "caption")[0]["value"]["text"][0]
    )
    assert sample["count"] == COUNT and isinstance(sample["count"], int)


def test_the_skipped_and_the_untouched_samples_are_unchanged(run):
    assert run.skipped["was_cancelled"] is True
    assert run.untouched_task["annotations"] == [] and run.untouched_task["drafts"] == []
    for sample_id in run.ids[1:]:
        for name in FIELDS:
            assert_unchanged(
                run.after[sample_id][name], run.before[sample_id][name], f"{sample_id}.{name}"
            )


# -- recording ------------------------------------------------------------------------------


def write_fixtures(state) -> None:
    """Writes tests/assets/<control>/<case>.json from what the editor submitted."""
    sample = state.before[state.ids[0]]
    width, height = SIZES[0]
    boxes = label_list(sample["boxes"])
    lake, field = sample["regions"].polylines
    road, river = sample["lines"].polylines
    [person] = sample["poses"].keypoints
    [cat] = sample["masks"].detections

    def ids_of(field_name):
        return [r["id"] for r in results_of(state.submitted, field_name)]

    def new_ids(field_name):
        return [r["id"] for r in drawn(state, field_name)]

    cases = {
        ("boxes", "accepted_untouched"): (
            "accepted the prediction; left this box (with a confidence) as it was",
            [boxes[4].id],
        ),
        ("boxes", "moved_resized"): (
            "selected the box by clicking it, dragged it by its inside, then dragged "
            "its bottom-right transformer anchor",
            [boxes[0].id],
        ),
        ("boxes", "rotated"): (
            f"selected the box by clicking it and dragged the transformer's rotation "
            f"handle about {ROTATE_BY:g} degrees clockwise",
            [boxes[1].id],
        ),
        ("boxes", "relabelled"): (
            "selected the box by clicking it and clicked the label button 'dog' (was 'cat')",
            [boxes[2].id],
        ),
        ("boxes", "deleted"): (
            "selected the box by clicking it and pressed Backspace; its id is in no result",
            [boxes[3].id],
        ),
        ("boxes", "drawn"): (
            "clicked the label button 'dog' and dragged a new rectangle on an empty spot",
            new_ids("boxes"),
        ),
        ("regions", "vertex_dragged"): (
            "selected the polygon by clicking inside it and dragged its second vertex",
            [f"{lake.id}_0"],
        ),
        ("regions", "accepted_untouched"): (
            "accepted the prediction; left this polygon as it was",
            [f"{field.id}_0"],
        ),
        ("regions", "drawn"): (
            "pressed the hotkey of label 'field', clicked 4 points, then the first point "
            "to close the polygon",
            new_ids("regions"),
        ),
        ("lines", "accepted_open"): (
            "accepted the prediction; left this open line as it was",
            [f"{road.id}_0"],
        ),
        ("lines", "accepted_closed"): (
            "accepted the prediction; left this closed FiftyOne polyline (sent with "
            "closed: true) as it was",
            [f"{river.id}_0"],
        ),
        ("lines", "drawn"): (
            "clicked the label button 'river', clicked 3 points, pressed Escape to finish "
            "the open line",
            new_ids("lines"),
        ),
        ("poses", "accepted_untouched"): (
            "accepted the prediction; left this keypoint (its third point missing) as it was",
            [r for r in ids_of("poses") if r.startswith(person.id)],
        ),
        ("poses", "drawn"): (
            "clicked the label button 'face' and clicked a point, twice",
            new_ids("poses"),
        ),
        ("masks", "accepted_untouched"): (
            "accepted the prediction; left this instance mask as it was",
            [cat.id],
        ),
        ("masks", "drawn"): (
            "clicked the label button 'dog' of the BrushLabels and painted one stroke",
            new_ids("masks"),
        ),
        ("caption", "edited"): (
            f"clicked the text's edit button, typed {CAPTION!r} over 'a cat', saved",
            ids_of("caption"),
        ),
        ("count", "edited"): (
            f"typed {COUNT} over 3 in the Number input",
            ids_of("count"),
        ),
    }
    for (field_name, case), (action, region_ids) in cases.items():
        value = sample[field_name]
        originals = (
            [label.to_dict(extended=True) for label in label_list(value)]
            if SCHEMA[field_name]["type"] != "scalar"
            else value
        )
        fixture = {
            "label_studio_version": LABEL_STUDIO_VERSION,
            "action": action,
            "image": {"width": width, "height": height},
            "sample_id": state.ids[0],
            "labeling_config": state.label_config,
            "fields": {field_name: SCHEMA[field_name]},
            "scalar_types": {k: v for k, v in SCALAR_TYPES.items() if k == field_name},
            "originals": {field_name: originals},
            "prediction": [
                r
                for r in state.tasks[0]["predictions"][0]["result"]
                if r["from_name"] == field_name
            ],
            "regions": region_ids,
            "result": results_of(state.submitted, field_name),
        }
        _write(os.path.join(ASSETS, CONTROLS[field_name], f"{case}.json"), fixture)

    width, height = SIZES[1]
    skipped = state.before[state.ids[1]]
    _write(
        os.path.join(ASSETS, "skip", "skipped_task.json"),
        {
            "label_studio_version": LABEL_STUDIO_VERSION,
            "action": "opened the task in the labeling stream (the editor made an annotation "
            "from the prediction) and clicked Skip",
            "image": {"width": width, "height": height},
            "sample_id": state.ids[1],
            "labeling_config": state.label_config,
            "fields": SCHEMA,
            "scalar_types": SCALAR_TYPES,
            "originals": {
                name: [label.to_dict(extended=True) for label in label_list(skipped[name])]
                if SCHEMA[name]["type"] != "scalar"
                else skipped[name]
                for name in FIELDS
            },
            "prediction": state.tasks[1]["predictions"][0]["result"],
            "was_cancelled": state.skipped["was_cancelled"],
            "result": state.skipped["result"],
        },
    )


def _write(path, fixture) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1, allow_nan=False)
        f.write("\n")

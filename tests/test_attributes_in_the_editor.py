"""Label attributes in Label Studio's own editor (1.23.2, headless Chromium),
on a project this plugin made, then in the FiftyOne App.

The run asks for ``boxes`` (detections bus/car) with every class's
``occluded`` / ``color`` / ``notes`` / read-only ``source`` and the cars'
``doors``, ``regions`` (polygons) with a float ``depth`` and ``poses``
(keypoints) with a ``visible`` checkbox; some labels carry values already.

Task 1: the pre-annotations are accepted; box A's color is changed in its
dropdown (its read-only source offers no way to change it); box B's notes
are deleted; box C gets ``occluded`` and its ``doors``; the lake's depth and
one point's ``visible`` are changed; a bus is drawn and given a color;
submitted; loaded with FiftyOne's ``dataset.load_annotations()``.
Task 2: one color changed and ``occluded`` set on a car that had none;
submitted; loaded with the plugin's own ``fiftyone_labelstudio.load_annotations``.
Then the FiftyOne App shows the edited values in the labels' tooltips.

Along the way the editor is checked to show each attribute control only while
a region it applies to is selected (per field, and for ``doors`` per class),
a ``select`` attribute as a dropdown and a read-only one locked.

``RECORD_EDITOR_FIXTURES=1`` also (re)writes ``tests/assets/attributes/*.json``
(see tests/assets/README.md). Screenshots: tests/artifacts/attributes/.
"""

from __future__ import annotations

import json
import os
import re
import types
import uuid

import fiftyone as fo
import fiftyone.core.labels as fol
import numpy as np
import pytest
from annotator import Annotator
from app import CHROMIUM, CHROMIUM_ARGS, app_env, in_thread, new_page, open_dataset, start_app
from fiftyone_labelstudio.conversions import field_schemas
from labels_equal import assert_values_equal
from ls_editor import SLOW, Editor
from PIL import Image
from test_label_studio_editor import assert_unchanged, label_list

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSETS = os.path.join(ROOT, "tests", "assets", "attributes")
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts", "attributes")
RECORD = os.environ.get("RECORD_EDITOR_FIXTURES") == "1"
LABEL_STUDIO_VERSION = "1.23.2"
KEY = "attrs_editor"
SIZE = (320, 240)

BOX_ATTRIBUTES = {
    "occluded": {"type": "occluded"},
    "color": {"type": "select", "values": ["red", "green", "blue"]},
    "notes": {"type": "text"},
    "source": {"type": "text", "read_only": True},
}
SCHEMA = {
    "boxes": {
        "type": "detections",
        "classes": ["bus", {"classes": ["car"], "attributes": {"doors": {"type": "int"}}}],
        "attributes": BOX_ATTRIBUTES,
    },
    "regions": {
        "type": "polygons",
        "classes": ["lake", "field"],
        "attributes": {"depth": {"type": "float"}},
    },
    "poses": {
        "type": "keypoints",
        "classes": ["person", "face"],
        "attributes": {"visible": {"type": "checkbox"}},
    },
}
FIELDS = list(SCHEMA)
HEADERS = {*BOX_ATTRIBUTES, "doors", "depth", "visible"}
"""The attribute controls' headers (the attributes' names)."""
CAR = HEADERS & {*BOX_ATTRIBUTES, "doors"}
BUS = CAR - {"doors"}

NEW_BOX = [(0.20, 0.62), (0.40, 0.80)]
DEPTH = 7.25
DOORS = 2


# -- the dataset ------------------------------------------------------------------


def labels_of_sample(shift=0.0):
    """Boxes A..E in a row (and E below A), two polygons and two keypoints,
    with room for the box drawn in task 1."""

    def box(x, y):
        return [x + shift, y + shift, 0.14, 0.16]

    def shape(points):
        return [[x + shift, y + shift] for x, y in points]

    return {
        "boxes": fol.Detections(
            detections=[
                fol.Detection(
                    label="car", bounding_box=box(0.05, 0.08), color="red", occluded=False,
                    doors=4, source="cam-1",
                ),  # A: color changed, source (read-only) edited
                fol.Detection(label="bus", bounding_box=box(0.28, 0.08), notes="dented", color="blue"),  # B: notes deleted
                fol.Detection(label="car", bounding_box=box(0.51, 0.08), color="green"),  # C: occluded, doors set
                fol.Detection(
                    label="bus", bounding_box=box(0.74, 0.08), confidence=0.8, occluded=True,
                    color="red", notes="two lines\nof notes", source="cam-2",
                ),  # D: untouched
                fol.Detection(label="car", bounding_box=box(0.05, 0.34)),  # E: untouched, no values
            ]
        ),
        "regions": fol.Polylines(
            polylines=[
                fol.Polyline(
                    label="lake", points=[shape([(0.30, 0.36), (0.45, 0.34), (0.40, 0.52)])],
                    closed=True, filled=True, depth=2.5,
                ),  # depth changed
                fol.Polyline(
                    label="field", points=[shape([(0.55, 0.36), (0.70, 0.38), (0.62, 0.52)])],
                    closed=True, filled=True, depth=1.125,
                ),  # untouched
            ]
        ),
        "poses": fol.Keypoints(
            keypoints=[
                fol.Keypoint(label="person", points=shape([(0.80, 0.40), (0.86, 0.45)]), visible=True),
                fol.Keypoint(label="face", points=shape([(0.80, 0.60), (0.86, 0.62)]), visible=False),
            ]
        ),
    }  # fmt: skip


def build_dataset(folder):
    """Two images; persistent, for the App reads it from its own process."""
    os.makedirs(folder, exist_ok=True)
    dataset = fo.Dataset(f"attrs-editor-{uuid.uuid4().hex[:10]}", persistent=True)
    width, height = SIZE
    samples = []
    for i in range(2):
        yy, xx = np.mgrid[0:height, 0:width]
        pixels = np.stack(
            [xx * 255 // width, yy * 255 // height, np.full_like(xx, 80 + 60 * i)], axis=-1
        ).astype(np.uint8)
        path = os.path.join(folder, f"image_{i}.png")
        Image.fromarray(pixels).save(path)
        sample = fo.Sample(filepath=path)
        sample.update_fields(labels_of_sample(shift=0.01 * i))
        samples.append(sample)
    dataset.add_samples(samples)
    dataset.compute_metadata()
    return dataset


def snapshot(dataset):
    return {s.id: fo.Sample.from_dict(s.to_mongo_dict()) for s in dataset.select_fields(FIELDS)}


# -- the annotator's sessions -------------------------------------------------------------


@pytest.fixture(scope="module")
def run(label_studio):
    """Requests the run, annotates both tasks in the editor, loads after each."""
    from fiftyone_labelstudio import load_annotations
    from playwright.sync_api import sync_playwright

    folder = os.path.join(label_studio.document_root, "attrs-" + uuid.uuid4().hex[:8])
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
            state = types.SimpleNamespace(dataset=dataset, project_id=results.project_id)
            state.ids = dataset.values("id")
            state.before = snapshot(dataset)
            state.label_schema = dataset.get_annotation_info(KEY).config.label_schema
            annotator = Annotator(label_studio.url, label_studio.pat)

            state.task_ids, state.tasks, state.label_config = annotator.as_served(
                results.project_id, state.ids
            )
            state.shown = {}

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                try:
                    context = browser.new_context(viewport={"width": 1600, "height": 1000})
                    context.set_default_timeout(SLOW)
                    editor = Editor(context.new_page(), label_studio.url, ARTIFACTS)
                    try:
                        editor.login(label_studio.username, label_studio.password)
                        annotate_task_1(editor, state)
                        state.submitted = annotator.get(f"api/annotations/{state.submitted_id}")
                        # FiftyOne's own load (task 2 is not annotated yet)
                        in_thread(dataset.load_annotations, KEY, api_key=label_studio.pat)
                        state.after_first = snapshot(dataset)
                        annotate_task_2(editor, state)
                    except BaseException:
                        editor.shot("failure")
                        raise
                finally:
                    browser.close()

            state.report = load_annotations(
                dataset, KEY, url=label_studio.url, api_key=label_studio.pat
            )
            state.after = snapshot(dataset)
            if RECORD:
                write_fixtures(state)
            yield state
        finally:
            dataset.delete()


def region_count(task) -> int:
    """The regions the editor lists for a task's prediction: one per region id."""
    return len({r["id"] for r in task["predictions"][0]["result"]})


def centre(editor, box):
    x, y, w, h = box
    return editor.at(x + w / 2, y + h / 2)


def attribute_headers(editor) -> set[str]:
    return set(editor.shown_headers()) & HEADERS


def annotate_task_1(editor: Editor, state) -> None:
    sample = state.before[state.ids[0]]
    a, b, c, _, _ = label_list(sample["boxes"])
    lake, _ = sample["regions"].polylines
    person, _ = sample["poses"].keypoints
    regions = region_count(state.tasks[0])
    shown = state.shown

    editor.open_task(state.project_id, state.task_ids[0], regions=regions)
    editor.accept_prediction(regions=regions)
    shown["nothing selected"] = attribute_headers(editor)
    editor.shot("task1-accepted")

    # A (car): the color, red -> green in its dropdown; what its read-only
    # source (and its notes, which it has not) lets the annotator do
    assert editor.select_region_at(centre(editor, a.bounding_box)) == a.id
    shown["car"] = attribute_headers(editor)
    state.a_before = {"color": editor.checked_choices("color"), "source": editor.texts("source")}
    state.dropdowns = {name: editor.is_dropdown(name) for name in ("color", "occluded")}
    editor.choose("color", "green")
    state.a_color = editor.checked_choices("color")
    state.source_actions = editor.text_actions("source")
    state.a_notes_actions = editor.text_actions("notes")
    editor.attribute("source").scroll_into_view_if_needed()
    editor.shot("task1-car-color-source")
    editor.show_image()

    # B (bus): no doors; its notes deleted
    assert editor.select_region_at(centre(editor, b.bounding_box)) == b.id
    shown["bus"] = attribute_headers(editor)
    state.b_notes_before = editor.texts("notes")
    state.b_notes_actions = editor.text_actions("notes")
    editor.attribute("notes").scroll_into_view_if_needed()
    editor.shot("task1-bus-selected")
    editor.delete_text("notes")

    # C (car): occluded, which it had not, and its doors
    assert editor.select_region_at(centre(editor, c.bounding_box)) == c.id
    state.c_before = {"occluded": editor.checked_choices("occluded")}
    editor.choose("occluded", "True")
    editor.set_number("boxes__doors__car", DOORS)

    # the lake's depth; the second point of the person not visible
    editor.unselect()
    assert editor.select_region_in_list("lake") == f"{lake.id}_0"
    shown["polygon"] = attribute_headers(editor)
    editor.set_number("regions__depth", DEPTH)
    editor.unselect()
    assert editor.select_region_in_list("person", nth=1) == f"{person.id}_1"
    shown["key point"] = attribute_headers(editor)
    state.point_before = editor.checked_choices("visible")
    editor.choose("visible", "False")
    editor.unselect()
    shown["unselected again"] = attribute_headers(editor)

    # a new bus, blue
    editor.draw_rectangle("boxes", "bus", editor.at(*NEW_BOX[0]), editor.at(*NEW_BOX[1]))
    (x0, y0), (x1, y1) = NEW_BOX
    state.new_id = editor.select_region_at(editor.at((x0 + x1) / 2, (y0 + y1) / 2))
    shown["drawn bus"] = attribute_headers(editor)
    editor.choose("color", "blue")
    editor.unselect()
    editor.wait_for_regions(regions + 1)
    editor.shot("task1-edited")
    state.submitted_id = editor.submit()["id"]


def annotate_task_2(editor: Editor, state) -> None:
    sample = state.before[state.ids[1]]
    _, _, c, _, e = label_list(sample["boxes"])
    regions = region_count(state.tasks[1])
    editor.open_task(state.project_id, state.task_ids[1], regions=regions)
    editor.accept_prediction(regions=regions)
    assert editor.select_region_at(centre(editor, c.bounding_box)) == c.id
    editor.choose("color", "blue")
    assert editor.select_region_at(centre(editor, e.bounding_box)) == e.id
    editor.choose("occluded", "False")
    editor.unselect()
    editor.shot("task2-edited")
    editor.submit()


# -- reading what was submitted ------------------------------------------------------------


def controls_of(field_name, schema=None):
    [field] = field_schemas({field_name: (schema or SCHEMA)[field_name]})
    return {a.control(field_name) for a in field.attributes}


def of_field(results, field_name, schema=None):
    """A field's results: its regions' and their attribute controls'."""
    names = {field_name} | controls_of(field_name, schema)
    return [r for r in results if r.get("from_name") in names]


def predicted(state, task=0):
    return state.tasks[task]["predictions"][0]["result"]


def boxes_of(samples, sample_id):
    return {d.id: d for d in label_list(samples[sample_id]["boxes"])}


def value(label, name):
    return label.get_attribute_value(name, None)


# -- the editor -------------------------------------------------------------------------------


def test_attribute_controls_show_only_for_a_selected_region_of_their_field_and_class(run):
    assert run.shown == {
        "nothing selected": set(),
        "car": CAR,
        "bus": BUS,
        "polygon": {"depth"},
        "key point": {"visible"},
        "unselected again": set(),
        "drawn bus": BUS,
    }


def test_the_editor_showed_the_values_the_plugin_sent(run):
    assert run.a_before == {"color": ["red"], "source": ["cam-1"]}
    assert run.b_notes_before == ["dented"]
    assert run.c_before == {"occluded": []}
    assert run.point_before == ["True"]


def control_tag(label_config, name):
    [tag] = re.findall(rf'<[A-Za-z]+ [^>]*name="{re.escape(name)}"[^>]*>', label_config)
    return tag


def test_a_select_attribute_is_a_dropdown_and_the_others_checkboxes(run):
    assert run.dropdowns == {"color": True, "occluded": False}
    color = control_tag(run.label_config, "boxes__color")
    assert 'layout="select"' in color and "showInline" not in color
    assert 'showInline="true"' in control_tag(run.label_config, "boxes__occluded")
    assert run.a_color == ["green"]
    a = label_list(run.before[run.ids[0]]["boxes"])[0]
    [submitted] = [
        r for r in run.submitted["result"] if r["from_name"] == "boxes__color" and r["id"] == a.id
    ]
    assert submitted["value"]["choices"] == ["green"]


def test_a_read_only_attribute_cannot_be_changed_and_loads_unchanged(run):
    """Label Studio 1.23.2 ignores ``readonly="true"`` on a control tag; the
    plugin marks each result of a read-only attribute ``"readonly": true``
    instead (after its region's own result): the editor shows the text with
    no edit or delete button and no input, submits it as sent, flag
    included, and the loads keep the label's value."""
    a = label_list(run.before[run.ids[0]]["boxes"])[0]
    assert "readonly" not in control_tag(run.label_config, "boxes__source")
    sent = predicted(run)
    for result in sent:
        read_only = result["from_name"] == "boxes__source"
        assert result.get("readonly", False) is read_only, result
    [region] = [i for i, r in enumerate(sent) if r["from_name"] == "boxes" and r["id"] == a.id]
    [source] = [
        i for i, r in enumerate(sent) if r["from_name"] == "boxes__source" and r["id"] == a.id
    ]
    assert region < source and sent[source]["value"]["text"] == ["cam-1"]

    assert run.a_before["source"] == ["cam-1"]
    assert run.source_actions == set()
    # text attributes that are not read-only: an input for a box without
    # notes, edit and delete buttons for one with
    assert run.a_notes_actions == {"type"} and run.b_notes_actions == {"edit", "delete"}

    [submitted] = [
        r for r in run.submitted["result"] if r["from_name"] == "boxes__source" and r["id"] == a.id
    ]
    assert submitted["value"]["text"] == ["cam-1"] and submitted["readonly"] is True
    assert all(
        r.get("readonly") is True
        for r in run.submitted["result"]
        if r["from_name"] == "boxes__source"
    )
    for loaded in (run.after_first, run.after):
        assert value(boxes_of(loaded, run.ids[0])[a.id], "source") == "cam-1"


def test_per_region_results_carry_their_regions_geometry(run):
    """Every result of a region holds the region's current geometry; those of
    untouched regions are what the plugin sent, plus ``origin``."""
    sent = {(r["id"], r["from_name"]): r for r in predicted(run)}
    regions = {
        r["id"]: r for r in run.submitted["result"] if r["from_name"] in FIELDS
    }  # the regions' own results
    for result in run.submitted["result"]:
        if result["from_name"] in FIELDS:
            continue
        region = regions[result["id"]]
        geometry = {k: v for k, v in region["value"].items() if not k.endswith("labels")}
        own = {k: v for k, v in result["value"].items() if k not in ("choices", "text", "number")}
        assert own == geometry, result
        original = sent.get((result["id"], result["from_name"]))
        if original is not None and result["origin"] == "prediction":
            assert {k: v for k, v in result.items() if k != "origin"} == original


# -- the dataset -----------------------------------------------------------------------------


def test_the_edited_cleared_and_per_class_values_load_with_fiftyones_load(run):
    sample_id = run.ids[0]
    before, after = boxes_of(run.before, sample_id), boxes_of(run.after_first, sample_id)
    a, b, c, d, e = before.values()

    assert value(after[a.id], "color") == "green"
    assert value(after[a.id], "source") == "cam-1"  # read-only: never loaded
    assert (value(after[a.id], "occluded"), value(after[a.id], "doors")) == (False, 4)
    assert after[a.id].bounding_box == a.bounding_box and after[a.id].label == "car"

    assert b.notes == "dented" and value(after[b.id], "notes") is None  # cleared
    assert value(after[b.id], "color") == "blue"

    assert value(after[c.id], "occluded") is True
    assert after[c.id]["doors"] == DOORS and type(after[c.id]["doors"]) is int
    assert value(after[c.id], "color") == "green"

    assert_unchanged(after[d.id], d, "untouched box with values")
    assert_unchanged(after[e.id], e, "untouched box without values")

    [new] = [box for box_id, box in after.items() if box_id not in before]
    assert new.label == "bus" and value(new, "color") == "blue"
    assert all(value(new, name) is None for name in ("occluded", "notes", "doors", "source"))
    assert set(after) == set(before) | {new.id}


def test_depth_and_visible_load_and_untouched_shapes_stay(run):
    sample_id = run.ids[0]
    lake, field = run.before[sample_id]["regions"].polylines
    regions = {p.id: p for p in run.after_first[sample_id]["regions"].polylines}
    assert regions[lake.id]["depth"] == DEPTH and type(regions[lake.id]["depth"]) is float
    assert regions[lake.id].points == lake.points
    assert_unchanged(regions[field.id], field, "untouched polygon")

    person, face = run.before[sample_id]["poses"].keypoints
    poses = {k.id: k for k in run.after_first[sample_id]["poses"].keypoints}
    assert poses[person.id]["visible"] is False  # set on one of its points
    assert poses[person.id].points == person.points
    assert_unchanged(poses[face.id], face, "untouched keypoint")


def test_a_task_not_annotated_yet_is_left_alone(run):
    sample_id = run.ids[1]
    for name in FIELDS:
        assert_unchanged(run.after_first[sample_id][name], run.before[sample_id][name], name)


def test_the_plugins_load_loads_the_second_task(run):
    assert run.report["loaded"] == 2, run.report
    assert run.report["problems"] == 0 and run.report["unexpected"] == 0, run.report
    sample_id = run.ids[1]
    before, after = boxes_of(run.before, sample_id), boxes_of(run.after, sample_id)
    a, b, c, d, e = before.values()
    assert value(after[c.id], "color") == "blue" and value(c, "color") == "green"
    assert value(after[e.id], "occluded") is False and value(e, "occluded") is None
    for box in (a, b, d):
        assert_unchanged(after[box.id], box, f"untouched box {box.id}")
    for name in ("regions", "poses"):
        assert_unchanged(run.after[sample_id][name], run.before[sample_id][name], name)


def test_loading_the_first_task_again_keeps_its_boxes_and_polygons(run):
    """The plugin's load after FiftyOne's reads every task again (a full load)."""
    assert run.report["incremental"] is False
    for name in ("boxes", "regions"):
        first = run.after_first[run.ids[0]][name]
        assert_values_equal(run.after[run.ids[0]][name], first, name)


def test_loading_the_first_task_again_keeps_its_keypoints(run):
    first = run.after_first[run.ids[0]]["poses"]
    assert_values_equal(run.after[run.ids[0]]["poses"], first, "poses")
    assert run.report["edited"] == 2, run.report  # task 2's two boxes, nothing of task 1


# -- the App ---------------------------------------------------------------------------------


def tooltip_of(page, point, label_id):
    """The attributes the modal's tooltip shows for the label ``label_id``,
    under ``point`` (page coordinates): ``{name: text}`` (whitespace runs as
    one space)."""
    from playwright.sync_api import expect

    page.mouse.move(5, 5)
    page.wait_for_timeout(200)
    page.mouse.move(*point, steps=5)
    tip = page.locator("[data-cy=sample-canvas-tooltip-content]")
    expect(tip.locator("[data-cy=attribute-id]")).to_have_text(label_id, timeout=SLOW)
    return {
        e.get_attribute("data-cy")[len("attribute-") :]: " ".join(e.inner_text().split())
        for e in tip.locator("[data-cy^=attribute-]").all()
    }


def test_the_edited_attributes_show_in_the_app(run, label_studio):
    from playwright.sync_api import sync_playwright

    env = app_env(label_studio)  # the plugin's secrets, as the App has them
    after = boxes_of(run.after, run.ids[0])
    a, b, c, d, _ = (after[box.id] for box in label_list(run.before[run.ids[0]]["boxes"]))
    os.makedirs(ARTIFACTS, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        server = None
        try:
            page = new_page(browser)
            server, url = start_app(
                env, name="app-server-attributes", sleep=lambda s: page.wait_for_timeout(s * 1000)
            )
            open_dataset(page, url, run.dataset.name)
            page.locator("[data-cy=looker]").first.click()
            container = page.locator("[data-cy=modal-looker-container]")
            container.wait_for(timeout=SLOW)
            page.locator("[data-cy=sample-canvas]").first.wait_for(timeout=SLOW)
            page.wait_for_timeout(1000)
            frame = container.bounding_box()
            width, height = SIZE
            scale = min(frame["width"] / width, frame["height"] / height)
            left = frame["x"] + (frame["width"] - width * scale) / 2
            top = frame["y"] + (frame["height"] - height * scale) / 2

            def at(box):
                x, y, w, h = box
                return left + (x + w / 2) * width * scale, top + (y + h / 2) * height * scale

            shown = {}
            for name, box in (("A", a), ("B", b), ("C", c), ("D", d)):
                shown[name] = tooltip_of(page, at(box.bounding_box), box.id)
                page.screenshot(path=os.path.join(ARTIFACTS, f"app-tooltip-{name}.png"))
        finally:
            browser.close()
            if server is not None:
                server.stop()

    assert shown["A"]["id"] == a.id and shown["A"]["color"] == "green"
    assert shown["A"]["doors"] == "4" and shown["A"]["source"] == "cam-1"
    assert shown["B"]["id"] == b.id and "notes" not in shown["B"]  # cleared: None
    assert shown["B"]["color"] == "blue"
    assert shown["C"]["id"] == c.id and shown["C"]["occluded"] == "True"
    assert shown["C"]["doors"] == str(DOORS)
    assert shown["D"]["id"] == d.id and shown["D"]["notes"] == "two lines of notes"


# -- recording ------------------------------------------------------------------------------


def write_fixtures(state) -> None:
    """Writes tests/assets/attributes/<case>.json from what the editor submitted."""
    sample = state.before[state.ids[0]]
    width, height = SIZE
    a, b, c, d, e = label_list(sample["boxes"])
    lake, field = sample["regions"].polylines
    person, face = sample["poses"].keypoints
    cases = {
        "boxes_accepted_untouched": (
            "boxes",
            "accepted the prediction; left these boxes as they were: one with a confidence and "
            "values of occluded, color, a two-line notes and the read-only source; one a car "
            "without any value",
            [d.id, e.id],
        ),
        "boxes_color_edited": (
            "boxes",
            "selected the car by clicking it, opened the dropdown under the header 'color' "
            "(was 'red') and picked 'green'",
            [a.id],
        ),
        "boxes_read_only_kept": (
            "boxes",
            "with the car selected, looked for a way to change its read-only 'source' text "
            "('cam-1', sent in a result with \"readonly\": true): it shows no edit or delete "
            "button and no input, so it was left as it was",
            [a.id],
        ),
        "boxes_notes_deleted": (
            "boxes",
            "selected the bus by clicking it and clicked the delete button of its 'notes' "
            "text ('dented'); the region has no boxes__notes result",
            [b.id],
        ),
        "boxes_occluded_and_doors_set": (
            "boxes",
            "selected the car (no occluded, no doors) by clicking it, checked 'True' under "
            f"'occluded' and typed {DOORS} in the cars' 'doors' Number",
            [c.id],
        ),
        "boxes_drawn_with_color": (
            "boxes",
            "clicked the label button 'bus', dragged a new rectangle on an empty spot, "
            "selected it by clicking it and picked 'blue' in the dropdown under 'color'",
            [state.new_id],
        ),
        "polygons_depth_edited": (
            "regions",
            f"selected the lake in the region list and typed {DEPTH} in its 'depth' Number "
            "(was 2.5)",
            [f"{lake.id}_0"],
        ),
        "polygons_accepted_untouched": (
            "regions",
            "accepted the prediction; left this polygon (depth 1.125) as it was",
            [f"{field.id}_0"],
        ),
        "keypoints_visible_edited": (
            "poses",
            "selected the second point of the person in the region list and checked 'False' "
            "under 'visible' (was 'True'); its first point left as it was",
            [f"{person.id}_1"],
        ),
        "keypoints_accepted_untouched": (
            "poses",
            "accepted the prediction; left both points of this keypoint (visible False) as "
            "they were",
            [f"{face.id}_0", f"{face.id}_1"],
        ),
    }
    for case, (field_name, action, region_ids) in cases.items():
        schema = state.label_schema
        fixture = {
            "label_studio_version": LABEL_STUDIO_VERSION,
            "action": action,
            "image": {"width": width, "height": height},
            "sample_id": state.ids[0],
            "labeling_config": state.label_config,
            "fields": {field_name: schema[field_name]},
            "scalar_types": {},
            "originals": {
                field_name: [
                    label.to_dict(extended=True) for label in label_list(sample[field_name])
                ]
            },
            "prediction": of_field(predicted(state), field_name, schema),
            "regions": region_ids,
            "result": of_field(state.submitted["result"], field_name, schema),
        }
        path = os.path.join(ASSETS, f"{case}.json")
        os.makedirs(ASSETS, exist_ok=True)
        with open(path, "w") as f:
            json.dump(fixture, f, indent=1, allow_nan=False)
            f.write("\n")

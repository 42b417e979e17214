"""What Label Studio 1.23.2's own editor submitted (tests/assets/, recorded by
tests/test_label_studio_editor.py and, for label attributes,
tests/test_attributes_in_the_editor.py; see tests/assets/README.md) through the
plugin's conversion core: no server, no browser, no database.

Each fixture holds one control's results of one submitted annotation, the
FiftyOne labels the sample had (``originals``, whose ids are the region ids)
and the region ids the annotator's action concerns (``regions``).
"""

from __future__ import annotations

import glob
import json
import math
import os
import re

import fiftyone.core.labels as fol
import numpy as np
import pytest
from fiftyone_labelstudio.backend.dataset_io import SampleValues, label_class
from fiftyone_labelstudio.backend.loading import index_labels
from fiftyone_labelstudio.backend.stored_labels import (
    StoredLabel,
    StoredLabelIndex,
    as_label,
    same_label,
    stored_value,
)
from fiftyone_labelstudio.conversions import (
    Frame,
    family_of,
    field_schemas,
    load_sample,
)
from fiftyone_labelstudio.conversions.detection import export_detections
from fiftyone_labelstudio.conversions.rle import rle_to_mask
from labels_equal import assert_values_equal

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
KEYS = {
    "label_studio_version",
    "action",
    "image",
    "labeling_config",
    "fields",
    "originals",
    "prediction",
    "result",
}
FIXTURES = sorted(
    os.path.relpath(path, ASSETS)[: -len(".json")]
    for path in glob.glob(os.path.join(ASSETS, "*", "*.json"))
    if not path.startswith(os.path.join(ASSETS, "video", ""))  # tests/test_video_editor_fixtures.py
)


def read(name: str) -> dict:
    with open(os.path.join(ASSETS, name + ".json")) as f:
        return json.load(f)


def label_from(data: dict):
    return getattr(fol, data["_cls"]).from_dict(data, extended=True)


class Loaded:
    """One fixture through ``load_sample``: ``labels`` ``{id: label}`` (or the
    scalar) of its field, ``originals`` ``{id: label}``, ``by_id`` its results.
    With ``stored``, the originals are given as the plugin's load reads them
    from the database (:class:`StoredLabelIndex`), and drawn labels are made
    as stored documents; with ``ahead`` too, indexed as a load indexes the
    samples it reads ahead, their sent results made before the task is
    converted (``index_labels``)."""

    def __init__(self, name: str, stored: bool = False, ahead: bool = False):
        self.fixture = fixture = read(name)
        self.fields = field_schemas(fixture["fields"], fixture.get("scalar_types"))
        [self.field] = self.fields
        raw = fixture["originals"][self.field.name]
        if self.field.label_type == "scalar":
            self.originals, originals = raw, {}
        else:
            self.originals = {label.id: label for label in map(label_from, raw)}
            if stored:
                self.originals = StoredLabelIndex(
                    (i, stored_label(label)) for i, label in self.originals.items()
                )
            if ahead:
                self.originals = indexed_ahead(fixture, self.fields, self.originals.values())
            originals = {self.field.name: self.originals}
        self.frame = Frame(
            fixture["image"]["width"], fixture["image"]["height"], fixture["sample_id"]
        )
        self.sample = load_sample(fixture["result"], self.fields, self.frame, originals)
        self.labels = self.sample.values[self.field.name]
        self.by_id = {r["id"]: r for r in fixture["result"]}
        self.regions = fixture["regions"]

    def drawn(self) -> list[dict]:
        """The results of regions drawn in the editor."""
        sent = {r["id"] for r in self.fixture["prediction"]}
        return [r for r in self.fixture["result"] if r["id"] not in sent]

    def new_labels(self) -> list:
        return [label for label_id, label in self.labels.items() if label_id not in self.originals]


def indexed_ahead(fixture: dict, fields, labels) -> StoredLabelIndex:
    """The originals as a load indexes a sample it read ahead from the
    database (``read_samples``, then ``index_labels``)."""
    [field] = fields
    document_type = label_class(field.label_type)
    labels = [as_label(label) for label in labels]
    if issubclass(document_type, fol._HasLabelList):
        value = document_type(**{document_type._LABEL_LIST_FIELD: labels})
    else:
        value = labels[0] if labels else None
    raw = value.to_mongo().to_dict() if value is not None else None
    image = fixture["image"]
    sample = SampleValues(
        image["width"], image["height"], {field.name: stored_value(raw, document_type)}
    )
    return index_labels(fixture["sample_id"], sample, fields)[field.name]


def stored_label(label) -> StoredLabel:
    """A label as the plugin's load reads it from the database."""
    return StoredLabel(label.to_mongo().to_dict())


def attribute(label, name):
    return label[name] if label.has_field(name) else None


def percent(values):
    return [v / 100 for v in values]


def close(actual, expected, tolerance=1e-9):
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    return actual.shape == expected.shape and bool(np.all(np.abs(actual - expected) <= tolerance))


# -- every fixture ------------------------------------------------------------------


def test_the_fixtures_are_there():
    controls = {name.split("/")[0] for name in FIXTURES}
    assert {
        "rectanglelabels",
        "polygonlabels",
        "vectorlabels",
        "keypointlabels",
        "brushlabels",
        "textarea",
        "number",
        "attributes",
    } <= controls, FIXTURES


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_is_complete_and_loads_without_problems(name):
    fixture = read(name)
    assert KEYS <= set(fixture), sorted(KEYS - set(fixture))
    assert fixture["label_studio_version"] == "1.23.2"
    if name.startswith("skip/"):
        return
    loaded = Loaded(name)
    assert loaded.sample.problems == [] and loaded.sample.unexpected == []
    assert all(r["id"] in loaded.by_id for r in loaded.fixture["result"])
    # loading twice gives the same labels, with the same ids
    again = Loaded(name)
    if loaded.field.label_type == "scalar":
        assert again.labels == loaded.labels
    else:
        assert list(again.labels) == list(loaded.labels)


LABEL_FIXTURES = [n for n in FIXTURES if n.split("/")[0] not in ("skip", "textarea", "number")]


@pytest.mark.parametrize("ahead", [False, True], ids=["read", "read-ahead"])
@pytest.mark.parametrize("name", LABEL_FIXTURES)
def test_originals_read_from_the_database_load_as_the_same_labels(name, ahead):
    """The plugin's load reads the originals raw and edits copies of their
    stored documents (``StoredLabel.copy``) and makes drawn labels as stored
    documents (``StoredLabel.new``), never building FiftyOne labels: what it
    writes is what FiftyOne stores for the labels the core makes from
    FiftyOne labels, and FiftyOne reads it back as those labels. Read ahead,
    with what each label was sent as made before its task is converted, an
    accepted label is still the very original."""
    expected, loaded = Loaded(name), Loaded(name, stored=True, ahead=ahead)
    assert list(loaded.labels) == list(expected.labels)
    for label_id, label in loaded.labels.items():
        assert same_label(label, expected.labels[label_id]), label_id
        assert_values_equal(as_label(label), expected.labels[label_id], label_id)
        untouched = expected.labels[label_id] is expected.originals.get(label_id)
        assert (label is loaded.originals.get(label_id)) == untouched, label_id
    for label_id, original in loaded.originals.items():  # edits are made on copies
        assert same_label(original, expected.originals[label_id])
    assert all(isinstance(label, StoredLabel) for label in loaded.new_labels())
    if ahead:  # made before the task was converted, for every label its family compares
        compares = family_of(loaded.field).compares_sent
        assert len(loaded.originals.sent) == (len(loaded.originals) if compares else 0)


def check_untouched(name: str):
    """An accepted region comes back as the very label it was."""
    loaded = Loaded(name)
    for label_id, original in loaded.originals.items():
        if any(region.split("_")[0] == label_id for region in loaded.regions):
            assert loaded.labels[label_id] is original, label_id
            assert_values_equal(loaded.labels[label_id], original, label_id)
    return loaded


# -- RectangleLabels ------------------------------------------------------------------


def test_an_accepted_box_is_the_same_label():
    check_untouched("rectanglelabels/accepted_untouched")


def test_a_moved_and_resized_box_has_the_submitted_geometry():
    loaded = Loaded("rectanglelabels/moved_resized")
    [region] = loaded.regions
    value = loaded.by_id[region]["value"]
    box, original = loaded.labels[region], loaded.originals[region]
    assert value["rotation"] == 0
    assert close(
        box.bounding_box, percent([value["x"], value["y"], value["width"], value["height"]])
    )
    assert box.id == original.id and box.label == original.label
    # an unrotated box gets no rotated representation
    assert attribute(box, "rotation") in (None, 0) and attribute(box, "rotated_box") is None


def test_a_rotated_box_keeps_its_angle_its_unrotated_box_and_its_bounds():
    loaded = Loaded("rectanglelabels/rotated")
    [region] = loaded.regions
    result = loaded.by_id[region]
    value, width, height = result["value"], result["original_width"], result["original_height"]
    theta = math.radians(value["rotation"])
    assert value["rotation"] != 0
    w, h = value["width"] / 100 * width, value["height"] / 100 * height
    origin = np.array([value["x"] / 100 * width, value["y"] / 100 * height])
    u = np.array([math.cos(theta), math.sin(theta)]) * w
    v = np.array([-math.sin(theta), math.cos(theta)]) * h
    corners = np.array([origin, origin + u, origin + u + v, origin + v])
    centre = corners.mean(axis=0)
    low = np.clip(corners.min(axis=0) / [width, height], 0, 1)
    high = np.clip(corners.max(axis=0) / [width, height], 0, 1)

    box = loaded.labels[region]
    assert box["rotation"] == value["rotation"]
    assert close(
        box["rotated_box"],
        [(centre[0] - w / 2) / width, (centre[1] - h / 2) / height, w / width, h / height],
    )
    assert close(box.bounding_box, [low[0], low[1], high[0] - low[0], high[1] - low[1]])
    # the annotator rotated it about its centre: the unrotated box is the one sent
    assert close(box["rotated_box"], loaded.originals[region].bounding_box, tolerance=1e-6)


def test_a_relabelled_box_keeps_its_id_and_geometry():
    loaded = Loaded("rectanglelabels/relabelled")
    [region] = loaded.regions
    box, original = loaded.labels[region], loaded.originals[region]
    assert loaded.by_id[region]["value"]["rectanglelabels"] == ["dog"] and original.label == "cat"
    assert box.id == original.id and box.label == "dog"
    assert box.bounding_box == original.bounding_box


def test_a_deleted_box_is_not_loaded():
    loaded = Loaded("rectanglelabels/deleted")
    [region] = loaded.regions
    assert region in loaded.originals and region not in loaded.by_id
    assert region not in loaded.labels
    assert set(loaded.originals) - {region} <= set(loaded.labels)


def test_a_drawn_box_is_a_new_detection_of_its_class():
    loaded = Loaded("rectanglelabels/drawn")
    [result] = loaded.drawn()
    assert loaded.regions == [result["id"]]
    [box] = loaded.new_labels()
    value = result["value"]
    assert box.label == value["rectanglelabels"][0] == "dog"
    assert close(
        box.bounding_box, percent([value["x"], value["y"], value["width"], value["height"]])
    )


# -- PolygonLabels --------------------------------------------------------------------------


def test_an_accepted_polygon_is_the_same_label():
    check_untouched("polygonlabels/accepted_untouched")


def test_a_dragged_vertex_moves_alone():
    loaded = Loaded("polygonlabels/vertex_dragged")
    [region] = loaded.regions
    label_id = region.split("_")[0]
    original, polygon = loaded.originals[label_id], loaded.labels[label_id]
    points = loaded.by_id[region]["value"]["points"]
    [shape], [sent] = polygon.points, original.points
    moved = [i for i, (a, b) in enumerate(zip(shape, sent)) if a != b]
    assert moved == [1]
    assert close(shape[1], percent(points[1]))
    assert polygon.id == original.id and polygon.label == original.label
    assert polygon.closed and polygon.filled


def test_a_drawn_polygon_has_the_drawn_points():
    loaded = Loaded("polygonlabels/drawn")
    [result] = loaded.drawn()
    [polygon] = loaded.new_labels()
    assert polygon.label == "field" and polygon.closed and polygon.filled
    assert close(polygon.points, [[percent(p) for p in result["value"]["points"]]])


# -- VectorLabels -------------------------------------------------------------------------------


def test_an_accepted_open_line_is_the_same_label():
    check_untouched("vectorlabels/accepted_open")


def test_an_accepted_closed_line_stays_closed():
    loaded = Loaded("vectorlabels/accepted_closed")
    [region] = loaded.regions
    original = loaded.originals[region.split("_")[0]]
    assert original.closed
    assert loaded.labels[original.id].closed


def test_a_drawn_line_is_an_open_polyline_with_the_drawn_points():
    loaded = Loaded("vectorlabels/drawn")
    [result] = loaded.drawn()
    [line] = loaded.new_labels()
    assert line.label == "river" and not line.closed and not line.filled
    vertices = result["value"]["vertices"]
    assert close(line.points, [[percent([v["x"], v["y"]]) for v in vertices]])


# -- KeyPointLabels -----------------------------------------------------------------------------


def test_an_accepted_keypoint_is_the_same_label_missing_point_included():
    loaded = check_untouched("keypointlabels/accepted_untouched")
    [keypoint] = loaded.originals.values()
    assert any(math.isnan(x) for x, _ in keypoint.points)


def test_drawn_points_make_one_keypoint_of_their_class_in_drawing_order():
    loaded = Loaded("keypointlabels/drawn")
    drawn = loaded.drawn()
    assert len(drawn) == 2
    [keypoint] = loaded.new_labels()
    assert keypoint.label == "face"
    assert close(keypoint.points, [percent([r["value"]["x"], r["value"]["y"]]) for r in drawn])


# -- BrushLabels --------------------------------------------------------------------------------


def test_an_accepted_instance_is_the_same_label():
    check_untouched("brushlabels/accepted_untouched")


def test_a_brush_stroke_is_an_instance_holding_its_pixels():
    loaded = Loaded("brushlabels/drawn")
    [result] = loaded.drawn()
    [instance] = loaded.new_labels()
    assert instance.label == "dog"
    width, height = loaded.frame.width, loaded.frame.height
    painted = rle_to_mask(result["value"]["rle"], height, width).astype(bool)
    x, y, _, _ = instance.bounding_box
    x0, y0 = round(x * width), round(y * height)
    canvas = np.zeros((height, width), bool)
    canvas[y0 : y0 + instance.mask.shape[0], x0 : x0 + instance.mask.shape[1]] = instance.mask
    assert painted.any() and np.array_equal(canvas, painted)


# -- TextArea and Number ------------------------------------------------------------------------


def test_an_edited_text_is_the_new_string():
    loaded = Loaded("textarea/edited")
    [result] = loaded.fixture["result"]
    assert loaded.originals != loaded.labels == "\n".join(result["value"]["text"])
    assert isinstance(loaded.labels, str)


def test_an_edited_number_is_an_int_for_an_int_field():
    loaded = Loaded("number/edited")
    [result] = loaded.fixture["result"]
    assert loaded.labels == result["value"]["number"] != loaded.originals
    assert isinstance(loaded.labels, int)


# -- Skip ---------------------------------------------------------------------------------------


def test_a_skipped_task_is_not_loaded():
    from fiftyone_labelstudio.backend.loading import choose_annotation

    fixture = read("skip/skipped_task")
    assert fixture["was_cancelled"] is True and fixture["result"]
    annotation = {"id": 1, "result": fixture["result"], "was_cancelled": True}
    assert choose_annotation([annotation]) is None


# -- per-region attributes (tests/test_attributes_in_the_editor.py) ----------------------------

ATTRIBUTE_FIXTURES = [name for name in FIXTURES if name.startswith("attributes/")]
ACCEPTED = [
    "attributes/boxes_accepted_untouched",
    "attributes/polygons_accepted_untouched",
    "attributes/keypoints_accepted_untouched",
]
LABELS_KEYS = ("rectanglelabels", "polygonlabels", "keypointlabels")
ATTRIBUTE_KEYS = ("choices", "text", "number")


def region_results(fixture: dict, region: str) -> dict:
    """``{from_name: result}`` of one region."""
    return {r["from_name"]: r for r in fixture["result"] if r["id"] == region}


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_attribute_results_are_as_sent_but_for_their_origin(name):
    """Accepting the prediction keeps every result of an untouched region,
    its attribute results included, as the plugin sent it (numbers equal,
    though 8.0 comes back as 8), adding ``origin: "prediction"``."""
    fixture = read(name)
    sent = {(r["id"], r["from_name"]): r for r in fixture["prediction"]}
    checked = 0
    for result in fixture["result"]:
        if result["id"] not in fixture["regions"]:
            continue
        assert result["origin"] == "prediction"
        assert {k: v for k, v in result.items() if k != "origin"} == sent[
            (result["id"], result["from_name"])
        ]
        checked += result["type"] not in LABELS_KEYS
    assert checked


@pytest.mark.parametrize("name", ACCEPTED)
def test_an_accepted_label_with_attribute_values_is_the_same_label(name):
    loaded = check_untouched(name)
    assert any(
        loaded.originals[region.split("_")[0]].has_field(attr)
        for region in loaded.regions
        for attr in ("color", "depth", "visible")
    )


@pytest.mark.parametrize("name", ATTRIBUTE_FIXTURES)
def test_each_attribute_result_carries_its_regions_geometry(name):
    """The editor writes every result of a region from the region: the
    attribute results hold its whole geometry, as its labels result does."""
    fixture = read(name)
    regions = {r["id"]: r for r in fixture["result"] if r["type"] in LABELS_KEYS}
    for result in fixture["result"]:
        if result["type"] in LABELS_KEYS:
            continue
        region = regions[result["id"]]
        geometry = {k: v for k, v in region["value"].items() if k not in LABELS_KEYS}
        assert {k: v for k, v in result["value"].items() if k not in ATTRIBUTE_KEYS} == geometry
        assert result["origin"] == region["origin"]


def test_the_per_class_attribute_has_results_for_its_class_only():
    fixture = read("attributes/boxes_color_edited")
    classes = {
        r["id"]: r["value"]["rectanglelabels"]
        for r in fixture["result"]
        if r["from_name"] == "boxes"
    }
    doors = [r["id"] for r in fixture["result"] if r["from_name"] == "boxes__doors__car"]
    assert doors and all(classes[region] == ["car"] for region in doors)
    assert 'whenLabelValue="car"' in fixture["labeling_config"]


def test_an_edited_color_loads_and_the_rest_of_the_box_stays():
    loaded = Loaded("attributes/boxes_color_edited")
    [region] = loaded.regions
    box, original = loaded.labels[region], loaded.originals[region]
    assert region_results(loaded.fixture, region)["boxes__color"]["value"]["choices"] == ["green"]
    assert original["color"] == "red" and box["color"] == "green"
    assert box is not original and box.id == original.id and box.label == original.label
    assert box.bounding_box == original.bounding_box
    assert (
        (box["occluded"], box["doors"]) == (original["occluded"], original["doors"]) == (False, 4)
    )


def test_a_select_attribute_is_a_dropdown():
    config = read("attributes/boxes_color_edited")["labeling_config"]
    [color] = re.findall(r'<Choices [^>]*name="boxes__color"[^>]*>', config)
    assert 'layout="select"' in color and "showInline" not in color


def test_a_read_only_attribute_comes_back_read_only_and_keeps_its_value():
    """The editor offers no way to change a result sent ``"readonly": true``
    and submits the flag back; the load keeps the label's own value."""
    loaded = Loaded("attributes/boxes_read_only_kept")
    [region] = loaded.regions
    source = region_results(loaded.fixture, region)["boxes__source"]
    assert source["value"]["text"] == ["cam-1"] and source["readonly"] is True
    assert "readonly" not in re.search(
        r'<TextArea [^>]*name="boxes__source"[^>]*>', loaded.fixture["labeling_config"]
    ).group(0)
    assert loaded.labels[region]["source"] == loaded.originals[region]["source"] == "cam-1"


@pytest.mark.parametrize("name", ATTRIBUTE_FIXTURES)
def test_read_only_results_follow_their_regions_and_only_they_are_read_only(name):
    """Each result of the read-only ``source`` is sent and submitted with
    ``"readonly": true``, after its region's own result (the editor makes a
    region from the first result of its id); no other result has the flag."""
    fixture = read(name)
    for results in (fixture["prediction"], fixture["result"]):
        first = {}
        for index, result in enumerate(results):
            first.setdefault(result["id"], index)
            read_only = result["from_name"] == "boxes__source"
            assert result.get("readonly", False) is read_only, result
            if read_only:
                assert results[first[result["id"]]]["from_name"] == "boxes"
                assert first[result["id"]] < index


def test_deleted_notes_load_as_none_and_the_other_values_stay():
    loaded = Loaded("attributes/boxes_notes_deleted")
    [region] = loaded.regions
    assert "boxes__notes" not in region_results(loaded.fixture, region)
    box, original = loaded.labels[region], loaded.originals[region]
    assert original["notes"] == "dented" and attribute(box, "notes") is None
    assert box["color"] == original["color"] == "blue" and box.id == original.id


def test_occluded_and_the_per_class_doors_set_on_a_car():
    loaded = Loaded("attributes/boxes_occluded_and_doors_set")
    [region] = loaded.regions
    results = region_results(loaded.fixture, region)
    assert results["boxes__occluded"]["value"]["choices"] == ["True"]
    assert results["boxes__doors__car"]["value"]["number"] == 2
    # adding values does not mark the region changed: origin is no sign of an edit
    assert {r["origin"] for r in results.values()} == {"prediction"}
    box, original = loaded.labels[region], loaded.originals[region]
    assert attribute(original, "occluded") is None and attribute(original, "doors") is None
    assert box["occluded"] is True and box["doors"] == 2 and type(box["doors"]) is int
    assert box["color"] == "green" and box.id == original.id


def test_a_drawn_box_gets_the_value_set_on_it_and_nothing_else():
    loaded = Loaded("attributes/boxes_drawn_with_color")
    [result] = [r for r in loaded.drawn() if r["from_name"] == "boxes"]
    assert loaded.regions == [result["id"]]
    assert set(region_results(loaded.fixture, result["id"])) == {"boxes", "boxes__color"}
    [box] = loaded.new_labels()
    assert box.label == "bus" and box["color"] == "blue"
    assert all(attribute(box, name) is None for name in ("occluded", "notes", "source", "doors"))


def test_an_edited_depth_loads_as_a_float_and_the_shape_stays():
    loaded = Loaded("attributes/polygons_depth_edited")
    [region] = loaded.regions
    label_id = region.split("_")[0]
    polygon, original = loaded.labels[label_id], loaded.originals[label_id]
    assert original["depth"] == 2.5 and polygon["depth"] == 7.25 and type(polygon["depth"]) is float
    assert polygon.points == original.points and polygon.closed and polygon.filled


def test_visible_unset_on_one_point_of_a_keypoint_wins():
    loaded = Loaded("attributes/keypoints_visible_edited")
    [region] = loaded.regions
    label_id = region.split("_")[0]
    visible = {
        r["id"]: r["value"]["choices"]
        for r in loaded.fixture["result"]
        if r["from_name"] == "poses__visible" and r["id"].startswith(label_id)
    }
    assert visible == {f"{label_id}_0": ["True"], f"{label_id}_1": ["False"]}
    keypoint, original = loaded.labels[label_id], loaded.originals[label_id]
    assert original["visible"] is True and keypoint["visible"] is False
    assert keypoint.points == original.points


def test_loading_the_same_keypoint_again_keeps_the_value_set_on_one_point():
    loaded = Loaded("attributes/keypoints_visible_edited")
    [region] = loaded.regions
    label_id = region.split("_")[0]
    # the dataset after the first load holds the loaded labels
    again = load_sample(
        loaded.fixture["result"],
        loaded.fields,
        loaded.frame,
        {loaded.field.name: dict(loaded.labels)},
    )
    assert again.values["poses"][label_id]["visible"] is False


def test_a_stored_label_no_export_takes_does_not_stop_reading_ahead():
    """A box stored without ``bounding_box`` (added to the dataset after the
    request, say) cannot be sent: indexing it ahead leaves it to the
    conversion, which reports its region as a problem and keeps the label, as
    it does without reading ahead."""
    field = field_schemas({"gt": {"type": "detections", "classes": ["cat", "dog"]}})
    frame = Frame(10, 10, "s1")
    good = fol.Detection(label="cat", bounding_box=[0.1, 0.2, 0.3, 0.4])
    bad = fol.Detection(label="dog")
    results = export_detections([good], field[0], frame)[0]
    results.append({**results[0], "id": bad.id})  # a region of the unsendable label
    raw = fol.Detections(detections=[good, bad]).to_mongo().to_dict()

    def load(ahead: bool):
        sample = SampleValues(10, 10, {"gt": stored_value(raw, fol.Detections)})
        if ahead:
            originals = index_labels("s1", sample, field)
        else:
            originals = {"gt": StoredLabelIndex((d.id, d) for d in sample.values["gt"])}
        return load_sample(results, field, frame, originals)

    read, ahead = load(False), load(True)
    assert list(ahead.values["gt"]) == list(read.values["gt"]) == [good.id, bad.id]
    assert [p.region_id for p in ahead.problems] == [p.region_id for p in read.problems] == [bad.id]

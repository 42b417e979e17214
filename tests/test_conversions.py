"""The conversion core, without a server: every row of the label mapping, both
directions, on whole generated datasets (as Datumaro's format tests do)."""

import copy
import math

import fiftyone.core.labels as fol
import numpy as np
import pytest
from fiftyone_labelstudio import conversions as conv
from fiftyone_labelstudio.conversions.rle import mask_to_rle, rle_to_mask
from label_studio_sdk.label_interface import LabelInterface
from labels_equal import assert_values_equal
from sample_labels import NAN, SCALAR_TYPES, SCHEMA, make_sample

FIELDS = conv.field_schemas(SCHEMA, SCALAR_TYPES)
CONFIG = conv.labeling_config(FIELDS)
INTERFACE = LabelInterface(CONFIG)


DATASET = [
    (conv.Frame(640, 480, "sample-a"), make_sample(1, 640, 480)),
    (conv.Frame(301, 199, "sample-b"), make_sample(2, 301, 199)),
    (conv.Frame(97, 400, "sample-c"), make_sample(3, 97, 400)),
]


def originals_of(values):
    """``{field: {label id: label}}`` for a sample's values."""
    return {
        field.name: {label.id: label for label in conv.labels_of(values.get(field.name), field)}
        for field in FIELDS
        if field.label_type != "scalar"
    }


def expected_of(values, field):
    """What loading should give for a field: ``{label id: label}`` or the scalar."""
    if field.label_type == "scalar":
        return values[field.name]
    return {label.id: label for label in conv.labels_of(values[field.name], field)}


def export(values, frame):
    results, problems = conv.export_sample(values, FIELDS, frame)
    assert problems == []
    return results


def load(results, frame, values=None):
    loaded = conv.load_sample(results, FIELDS, frame, originals_of(values) if values else None)
    assert loaded.problems == [] and loaded.unexpected == []
    return loaded.values


def results_of(results, field_name):
    return [r for r in results if r["from_name"] == field_name]


# -- untouched round trips --------------------------------------------------


@pytest.mark.parametrize("frame,values", DATASET, ids=lambda v: getattr(v, "key", ""))
def test_untouched_round_trip_is_exact_for_every_field(frame, values):
    loaded = load(export(values, frame), frame, values)
    for field in FIELDS:
        assert_values_equal(loaded[field.name], expected_of(values, field), field.name)


@pytest.mark.parametrize("frame,values", DATASET, ids=lambda v: getattr(v, "key", ""))
def test_round_trip_through_json_without_originals_keeps_ids_and_geometry(frame, values):
    """Even with no original labels to lean on (the sample's labels were deleted
    meanwhile), ids, classes and geometry come back."""
    import json

    loaded = load(json.loads(json.dumps(export(values, frame))), frame)
    for field in FIELDS:
        expected = expected_of(values, field)
        if field.label_type == "scalar":
            assert loaded[field.name] == expected
            continue
        assert list(loaded[field.name]) == list(expected), field.name
        for label_id, label in expected.items():
            got = loaded[field.name][label_id]
            assert getattr(got, "label", None) == getattr(label, "label", None)
            if field.label_type == "detections" and label.get_attribute_value("rotation", None):
                # a rotated box comes back as the box around it, and itself
                assert_values_equal(got["rotated_box"], label.bounding_box)
            elif field.label_type == "detections":
                assert_values_equal(got.bounding_box, label.bounding_box)
            elif field.label_type in ("polygons", "polylines"):
                assert_values_equal(got.points, label.points)
            elif field.label_type == "keypoints":
                # trailing missing points have no region: only the original knows them
                assert_values_equal(got.points, label.points[: len(got.points)])
                assert all(math.isnan(x) for x, _ in label.points[len(got.points) :])
            elif field.label_type == "segmentation":
                assert_values_equal(got.mask, label.mask)


def test_every_result_validates_against_the_generated_config():
    for frame, values in DATASET:
        results = export(values, frame)
        errors = INTERFACE.validate_prediction({"result": results}, return_errors=True)
        assert errors == []
        assert INTERFACE.validate_annotation({"result": results})


def test_labeling_config_has_one_control_per_field_named_after_it():
    for field in FIELDS:
        control = INTERFACE.get_control(field.name)
        assert control.tag == conv.family_of(field).control
    assert INTERFACE.get_control("lines").tag == "VectorLabels"
    assert INTERFACE.get_control("semantic").labels == ["sky", "road", "car"]
    assert INTERFACE.get_control("checked").labels == ["True", "False"]
    assert INTERFACE.get_control("quality").labels == ["1", "2", "3"]


# -- one family at a time ---------------------------------------------------

FRAME = conv.Frame(640, 480, "one")


def field(name):
    return next(f for f in FIELDS if f.name == name)


def test_classification_confidence_is_the_prediction_score():
    label = fol.Classification(label="foggy", confidence=0.25)
    [result] = export({"weather": label}, FRAME)
    assert result["score"] == 0.25 and result["id"] == label.id
    assert result["value"] == {"choices": ["foggy"]}


def test_multilabel_classifications_are_one_region_per_class_and_survive_a_merged_result():
    labels = fol.Classifications(
        classifications=[fol.Classification(label="indoor"), fol.Classification(label="blurry")]
    )
    results = export({"scene": labels}, FRAME)
    assert [r["value"]["choices"] for r in results] == [["indoor"], ["blurry"]]
    # the editor saves a multiple-choice control as one result with all choices
    merged = [dict(results[0], id="xK3d9aQ1zz", value={"choices": ["indoor", "blurry", "outdoor"]})]
    loaded = load(merged, FRAME, {"scene": labels})["scene"]
    by_class = {label.label: label_id for label_id, label in loaded.items()}
    assert by_class["indoor"] == labels.classifications[0].id
    assert by_class["blurry"] == labels.classifications[1].id
    assert by_class["outdoor"] not in (c.id for c in labels.classifications)


def test_a_repicked_single_classification_keeps_its_id():
    label = fol.Classification(label="sunny")
    edited = [dict(export({"weather": label}, FRAME)[0], id="nEw1d2", value={"choices": ["foggy"]})]
    loaded = load(edited, FRAME, {"weather": label})["weather"]
    assert list(loaded) == [label.id] and loaded[label.id].label == "foggy"


def test_detection_geometry_is_percent_of_a_non_square_image():
    label = fol.Detection(label="cat", bounding_box=[0.1, 0.25, 0.5, 0.125])
    [result] = export({"boxes": fol.Detections(detections=[label])}, conv.Frame(1920, 1080, "k"))
    value = result["value"]
    assert value.pop("rectanglelabels") == ["cat"]
    assert value == pytest.approx(
        {"x": 10.0, "y": 25.0, "width": 50.0, "height": 12.5, "rotation": 0}
    )
    assert (result["original_width"], result["original_height"]) == (1920, 1080)


def test_rotation_round_trips_and_a_rotation_added_in_label_studio_arrives():
    plain = fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.2, 0.2])
    # FiftyOne's CVAT convention: the box, rotated about its centre
    rotated = fol.Detection(label="dog", bounding_box=[0.4, 0.4, 0.2, 0.1], rotation=271.25)
    values = {"boxes": fol.Detections(detections=[plain, rotated])}
    results = export(values, FRAME)
    assert [r["value"]["rotation"] for r in results] == [0, 271.25]
    untouched = load(results, FRAME, values)["boxes"]
    assert untouched[plain.id] is plain and untouched[rotated.id] is rotated

    # the annotator rotates the plain box by 45 degrees about its top-left corner
    results[0]["value"]["rotation"] = 45.0
    loaded = load(results, FRAME, values)["boxes"]
    turned = loaded[plain.id]
    assert turned["rotation"] == 45.0
    # the unrotated box, about its centre, and the box FiftyOne draws around it
    corners = conv.geometry.rectangle_corners(10, 10, 20, 20, 45, (640, 480))
    centre = corners.mean(axis=0) / (640, 480)
    assert turned["rotated_box"] == pytest.approx([centre[0] - 0.1, centre[1] - 0.1, 0.2, 0.2])
    low, high = corners.min(axis=0) / (640, 480), corners.max(axis=0) / (640, 480)
    low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)  # a corner turned out of the image
    assert turned.bounding_box == pytest.approx([low[0], low[1], *(high - low)])
    assert loaded[rotated.id] is rotated

    # sent again, the rotated rectangle is exactly what the annotator drew
    again = export({"boxes": fol.Detections(detections=[turned])}, FRAME)[0]["value"]
    for key in ("x", "y", "width", "height", "rotation"):
        assert again[key] == pytest.approx(results[0]["value"][key], abs=1e-9)


def test_a_box_rotated_by_90_degrees_is_drawn_where_the_annotator_drew_it():
    frame = conv.Frame(400, 200, "turned")
    box = fol.Detection(label="cat", bounding_box=[0.3, 0.2, 0.2, 0.3])
    values = {"boxes": fol.Detections(detections=[box])}
    [result] = export(values, frame)
    result["value"]["rotation"] = 90
    [loaded] = load([result], frame, values)["boxes"].values()
    # 80 x 60 px turned about its top-left corner (120, 40): x 60..120, y 40..120
    assert loaded.bounding_box == pytest.approx([0.15, 0.2, 0.15, 0.4])
    assert loaded["rotated_box"] == pytest.approx([0.125, 0.25, 0.2, 0.3])
    assert loaded["rotation"] == 90
    # near an edge, turned corners leave the image: the box is clipped, not refused
    result["value"].update(x=95.0, rotation=30)
    [near_edge] = load([result], frame, values)["boxes"].values()
    assert near_edge.bounding_box[0] + near_edge.bounding_box[2] == pytest.approx(1.0)


def test_edits_additions_and_deletions_of_boxes():
    cat = fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.2, 0.2], confidence=0.9, iscrowd=1)
    dog = fol.Detection(label="dog", bounding_box=[0.5, 0.5, 0.2, 0.2])
    values = {"boxes": fol.Detections(detections=[cat, dog])}
    results = export(values, FRAME)
    results[0]["value"].update(x=30.0, rectanglelabels=["dog"])
    del results[1]
    results.append(dict(results[0], id="aB3xYz90Qw", value=dict(results[0]["value"], x=70.0)))
    loaded = load(results, FRAME, values)["boxes"]
    assert dog.id not in loaded
    edited = loaded[cat.id]
    assert (edited.label, edited.bounding_box[0], edited["iscrowd"]) == ("dog", 0.3, 1)
    [new_id] = set(loaded) - {cat.id}
    assert new_id == conv.base.derived_label_id(FRAME, "boxes", "aB3xYz90Qw")
    assert len(new_id) == 24


def test_untouched_instance_keeps_box_and_mask_bit_exact_and_an_edit_gets_a_tight_box():
    mask = np.zeros((30, 50), bool)
    mask[5:20, 10:40] = True
    label = fol.Detection(
        label="cat", bounding_box=[0.1015625, 0.2046, 0.078125, 0.0625], mask=mask
    )
    values = {"instances": fol.Detections(detections=[label])}
    [result] = export(values, FRAME)
    untouched = load([result], FRAME, values)["instances"][label.id]
    assert untouched.bounding_box == label.bounding_box
    assert untouched.mask.dtype == bool and np.array_equal(untouched.mask, mask)

    full = rle_to_mask(result["value"]["rle"], 480, 640)
    full[0:4, 0:2] = True  # the annotator paints a speck in the corner
    edited_result = dict(result, value=dict(result["value"], rle=mask_to_rle(full)))
    edited = load([edited_result], FRAME, values)["instances"][label.id]
    x0, y0 = int(640 * 0.1015625), int(480 * 0.2046)
    assert edited.bounding_box == pytest.approx([0, 0, (x0 + 40) / 640, (y0 + 20) / 480])
    assert edited.mask.shape == (y0 + 20, x0 + 40)


def test_multi_shape_polygons_come_back_whole_and_open_lines_stay_open():
    polygon = fol.Polyline(
        label="lake", points=[[[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]] * 3, closed=True, filled=True
    )
    line = fol.Polyline(
        label="road",
        points=[[[0.1, 0.5], [0.9, 0.5]], [[0.2, 0.2], [0.3, 0.3], [0.4, 0.2]]],
        closed=False,
        filled=False,
    )
    values = {
        "regions": fol.Polylines(polylines=[polygon]),
        "lines": fol.Polylines(polylines=[line]),
    }
    results = export(values, FRAME)
    assert [r["type"] for r in results] == ["polygonlabels"] * 3 + ["vectorlabels"] * 2
    assert all(r["value"]["closed"] is False for r in results_of(results, "lines"))
    # parts arrive shuffled, as the editor may save them
    loaded = load(results[::-1], FRAME)
    assert_values_equal(loaded["regions"][polygon.id].points, polygon.points)
    assert_values_equal(loaded["lines"][line.id].points, line.points)
    assert loaded["lines"][line.id].closed is False and loaded["lines"][line.id].filled is False


def test_a_polygon_shape_relabelled_in_label_studio_becomes_its_own_polyline():
    polygon = fol.Polyline(
        label="lake", points=[[[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]] * 2, closed=True, filled=True
    )
    values = {"regions": fol.Polylines(polylines=[polygon])}
    results = export(values, FRAME)
    results[0]["value"]["polygonlabels"] = ["field"]
    loaded = load(results, FRAME, values)["regions"]
    assert loaded[polygon.id].label == "lake" and len(loaded[polygon.id].points) == 1
    [other] = [label for label_id, label in loaded.items() if label_id != polygon.id]
    assert other.label == "field" and other.filled is True


def test_vector_vertices_follow_their_prev_point_chain():
    result = {
        "id": "v1xx",
        "from_name": "lines",
        "to_name": "image",
        "type": "vectorlabels",
        "original_width": 640,
        "original_height": 480,
        "value": {
            "vectorlabels": ["road"],
            "closed": False,
            "vertices": [
                {"id": "c", "x": 30, "y": 30, "prevPointId": "b"},
                {"id": "a", "x": 10, "y": 10},
                {"id": "b", "x": 20, "y": 20, "prevPointId": "a"},
            ],
        },
    }
    [line] = load([result], FRAME)["lines"].values()
    assert line.points == [[[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]]


def test_keypoints_of_several_labels_regroup_in_order_with_nan_kept():
    person = fol.Keypoint(label="person", points=[[0.1, 0.2], [NAN, NAN], [0.3, 0.4], [NAN, NAN]])
    face = fol.Keypoint(label="face", points=[[0.5, 0.5], [0.6, 0.6]])
    other = fol.Keypoint(label="person", points=[[0.7, 0.7]])
    values = {"poses": fol.Keypoints(keypoints=[person, face, other])}
    results = export(values, FRAME)
    assert len(results) == 5
    loaded = load(results[::-1], FRAME)["poses"]
    assert set(loaded) == {person.id, face.id, other.id}
    assert_values_equal(loaded[person.id].points[:3], person.points[:3])
    assert_values_equal(loaded[other.id].points, other.points)
    assert_values_equal(load(results, FRAME, values)["poses"][person.id].points, person.points)
    assert loaded[face.id].label == "face"


def test_points_drawn_in_label_studio_form_one_keypoint_per_class():
    def point(region_id, x, label):
        return {
            "id": region_id,
            "from_name": "poses",
            "to_name": "image",
            "type": "keypointlabels",
            "value": {"x": x, "y": 50, "width": 0.5, "keypointlabels": [label]},
        }

    results = [point("p1", 10, "person"), point("p2", 20, "face"), point("p3", 30, "person")]
    first = load(results, FRAME)["poses"]
    again = load(results, FRAME)["poses"]
    assert list(first) == list(again)
    by_label = {label.label: label for label in first.values()}
    assert by_label["person"].points == [[0.1, 0.5], [0.3, 0.5]]
    assert by_label["face"].points == [[0.2, 0.5]]


@pytest.mark.parametrize(
    "name,value,control",
    [
        ("count", 12, "number"),
        ("score", 0.5, "number"),
        ("note", "hello", "textarea"),
        ("checked", True, "choices"),
        ("quality", 3, "choices"),
    ],
)
def test_scalars_round_trip_in_their_own_type(name, value, control):
    [result] = export({name: value}, FRAME)
    assert result["type"] == control
    loaded = load([result], FRAME)[name]
    assert loaded == value and type(loaded) is type(value)


def test_a_missing_scalar_sends_nothing_and_loads_none():
    assert export({"count": None}, FRAME) == []
    assert load([], FRAME)["count"] is None


def test_segmentation_has_one_region_per_target_with_the_targets_values():
    mask = np.zeros((480, 640), np.uint8)
    mask[:100] = 1
    mask[300:, :200] = 7
    label = fol.Segmentation(mask=mask)
    results = export({"semantic": label}, FRAME)
    assert [r["value"]["brushlabels"] for r in results] == [["sky"], ["car"]]
    loaded = load(results, FRAME)["semantic"][label.id]
    assert loaded.mask.dtype == np.uint8 and np.array_equal(loaded.mask, mask)


def test_segmentation_values_without_a_target_are_reported_when_sending():
    mask = np.full((480, 640), 5, np.uint8)
    results, problems = conv.export_sample({"semantic": fol.Segmentation(mask=mask)}, FIELDS, FRAME)
    assert results == [] and "[5]" in problems[0].message and "mask_targets" in problems[0].message


def test_a_segmentation_mask_of_another_size_comes_back_untouched():
    small = np.zeros((48, 64), np.uint8)
    small[:10] = 2
    label = fol.Segmentation(mask=small)
    results = export({"semantic": label}, FRAME)
    loaded = load(results, FRAME, {"semantic": label})["semantic"][label.id]
    assert loaded.mask.shape == (48, 64) and np.array_equal(loaded.mask, small)


# -- what does not fit ------------------------------------------------------


def test_results_of_unknown_controls_or_types_are_unexpected_not_dropped():
    box = fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.2, 0.2])
    [result] = export({"boxes": fol.Detections(detections=[box])}, FRAME)
    unknown = dict(result, from_name="added_later")
    polygon_in_boxes = {
        "id": "pg1",
        "from_name": "boxes",
        "to_name": "image",
        "type": "polygonlabels",
        "value": {"points": [[1, 1], [5, 1], [5, 5]], "polygonlabels": ["cat"]},
    }
    loaded = conv.load_sample([result, unknown, polygon_in_boxes], FIELDS, FRAME)
    assert list(loaded.values["boxes"]) == [box.id]
    strays = {(u.from_name, u.anno_type): u for u in loaded.unexpected}
    assert list(strays[("added_later", "detections")].labels) == [box.id]
    assert strays[("boxes", "polylines")].labels
    assert loaded.problems == []


MALFORMED = [
    ("far outside", {"x": 120.0}),
    ("scaled by 100", {"x": 1000.0, "y": 2500.0}),
    ("NaN", {"y": math.nan}),
    ("text", {"height": "12"}),
    ("no class", {"rectanglelabels": []}),
    ("no area", {"width": 0.0}),
]


@pytest.mark.parametrize("reason,change", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_box_is_skipped_with_a_problem_naming_it_and_the_rest_loads(reason, change):
    good = fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.2, 0.2])
    bad = fol.Detection(label="dog", bounding_box=[0.5, 0.5, 0.2, 0.2])
    values = {"boxes": fol.Detections(detections=[good, bad])}
    results = export(values, FRAME)
    results[1]["value"].update(change)
    loaded = conv.load_sample(results, FIELDS, FRAME)
    assert list(loaded.values["boxes"]) == [good.id]
    [problem] = loaded.problems
    assert (problem.region_id, problem.from_name) == (bad.id, "boxes")
    # with the sample's labels at hand, the label stays as it was, whole
    kept = conv.load_sample(results, FIELDS, FRAME, originals_of(values))
    assert kept.values["boxes"][bad.id] is bad and len(kept.problems) == 1


@pytest.mark.parametrize("value", [None, [], "x"])
def test_a_region_whose_value_is_no_object_is_a_problem_never_a_crash(value):
    box = fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.2, 0.2])
    values = {"boxes": fol.Detections(detections=[box])}
    results = export(values, FRAME)
    results[0]["value"] = value
    for originals in (None, originals_of(values)):
        loaded = conv.load_sample(results, FIELDS, FRAME, originals)
        [problem] = loaded.problems
        assert problem.message.startswith("not a region") and not loaded.values.get("boxes")


def rectangle(value, size, region_id="dr4wn1", label="car"):
    width, height = size
    return {
        "id": region_id, "from_name": "boxes", "to_name": "image", "type": "rectanglelabels",
        "original_width": width, "original_height": height, "image_rotation": 0,
        "value": {"rotation": 0, **value, "rectanglelabels": [label]},
    }  # fmt: skip


@pytest.mark.parametrize(
    "size,value,box",
    [
        # drawn in Label Studio, its bottom edge 0.05% below a 1920x1080 image
        ((1920, 1080), {"x": 0, "y": 0.00625, "width": 60.8, "height": 100.04375},
         [0.0, 0.0000625, 0.608, 0.9999375]),
        # drawn bottom-up by an API client: a negative height
        ((800, 800), {"x": 16, "y": 96, "width": 53, "height": -60}, [0.16, 0.36, 0.53, 0.60]),
        ((800, 800), {"x": 69, "y": 36, "width": -53, "height": 60}, [0.16, 0.36, 0.53, 0.60]),
        # a hair left of the image
        ((640, 480), {"x": -0.2, "y": 10, "width": 19.8, "height": 20}, [0.0, 0.1, 0.196, 0.2]),
    ],
)  # fmt: skip
def test_rectangles_as_label_studio_writes_them_load_normalised_and_clipped(size, value, box):
    frame = conv.Frame(*size, "drawn")
    loaded = conv.load_sample([rectangle(value, size)], FIELDS, frame)
    assert loaded.problems == []
    [label] = loaded.values["boxes"].values()
    assert label.bounding_box == pytest.approx(box, abs=1e-12)


def test_an_edit_of_a_box_a_hair_outside_the_image_is_loaded_not_replaced_by_the_old_label():
    person = fol.Detection(label="person", bounding_box=[0.1, 0.1, 0.2, 0.2])
    values = {"boxes": fol.Detections(detections=[person])}
    [result] = export(values, FRAME)
    result["value"].update(x=-0.2, width=19.8, rectanglelabels=["rider"])
    loaded = conv.load_sample([result], FIELDS, FRAME, originals_of(values))
    assert loaded.problems == []
    label = loaded.values["boxes"][person.id]
    assert label.label == "rider" and label.bounding_box == pytest.approx([0.0, 0.1, 0.196, 0.2])


def test_labels_that_poke_out_of_the_image_load_untouched_or_relabelled_without_problems():
    """COCO conversions leave labels a little outside the image: sent and
    loaded back, they are what they were, and a new class keeps their geometry."""
    box = fol.Detection(label="cat", bounding_box=[-0.02, 0.9, 0.5, 0.15])
    polygon = fol.Polyline(
        label="lake", points=[[[-0.01, 0.1], [1.03, 0.1], [0.5, 0.5]]], closed=True, filled=True
    )
    pose = fol.Keypoint(label="person", points=[[-0.01, 0.5], [0.5, 1.02]])
    values = {
        "boxes": fol.Detections(detections=[box]),
        "regions": fol.Polylines(polylines=[polygon]),
        "poses": fol.Keypoints(keypoints=[pose]),
    }
    results = export(values, FRAME)
    untouched = load(results, FRAME, values)
    assert untouched["boxes"][box.id] is box and untouched["regions"][polygon.id] is polygon
    assert untouched["poses"][pose.id] is pose

    for result in results:
        key = result["type"]
        result["value"][key] = [
            {"rectanglelabels": "dog", "polygonlabels": "field"}.get(key, "face")
        ]
    relabelled = load(results, FRAME, values)
    assert relabelled["boxes"][box.id].label == "dog"
    assert relabelled["boxes"][box.id].bounding_box == box.bounding_box
    assert relabelled["regions"][polygon.id].points == polygon.points
    assert relabelled["poses"][pose.id].points == pose.points


def test_points_a_hair_outside_are_clipped_and_far_outside_are_problems():
    polygon = {
        "id": "pg1", "from_name": "regions", "to_name": "image", "type": "polygonlabels",
        "original_width": 640, "original_height": 480,
        "value": {"points": [[10, 10], [100.02, 10], [50, 100.5]], "closed": True,
                  "polygonlabels": ["lake"]},
    }  # fmt: skip
    [drawn] = load([polygon], FRAME)["regions"].values()
    assert drawn.points == [[[0.1, 0.1], [1.0, 0.1], [0.5, 1.0]]]
    polygon["value"]["points"][1] = [1002.0, 10]
    loaded = conv.load_sample([polygon], FIELDS, FRAME)
    assert loaded.values["regions"] == {} and "scaled by 100" in loaded.problems[0].message


def test_non_finite_confidences_are_sent_without_a_score():
    values = {
        "boxes": fol.Detections(
            detections=[fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.2, 0.2], confidence=NAN)]
        ),
        "weather": fol.Classification(label="sunny", confidence=math.inf),
        "regions": fol.Polylines(
            polylines=[fol.Polyline(label="lake", points=[[[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]],
                                    closed=True, filled=True, confidence=NAN)]
        ),
    }  # fmt: skip
    import json

    results = export(values, FRAME)
    assert all("score" not in r for r in results)
    json.dumps(results, allow_nan=False)
    loaded = load(results, FRAME, values)
    assert math.isnan(loaded["boxes"][values["boxes"].detections[0].id].confidence)


@pytest.mark.parametrize(
    "name,mutate",
    [
        ("broken rle", lambda r: r["value"].update(rle=[1, 2, 3])),
        ("no rle", lambda r: r["value"].pop("rle")),
        ("wrong size", lambda r: r.update(original_width=10, original_height=10)),
        ("no original_width", lambda r: r.pop("original_width")),
        ("value not a dict", lambda r: r.update(value=[1, 2])),
    ],
)
def test_malformed_brush_regions_are_problems_never_crashes(name, mutate):
    label = fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.2, 0.2])
    [result] = export({"instances": fol.Detections(detections=[label])}, FRAME)
    bad = copy.deepcopy(result)
    mutate(bad)
    loaded = conv.load_sample([bad], FIELDS, FRAME)
    if name == "no original_width":  # the task's image size stands in for it
        assert list(loaded.values["instances"]) == [label.id]
        return
    assert loaded.values["instances"] == {} and len(loaded.problems) == 1


def test_a_label_field_named_like_the_image_tag_is_refused():
    with pytest.raises(ValueError, match="'image'"):
        conv.field_schemas({"image": {"type": "detections", "classes": ["a"]}})


def test_an_unsupported_type_names_the_field_and_the_supported_types():
    with pytest.raises(ValueError, match="'gt'.*not one of the supported types"):
        conv.field_schemas({"gt": {"type": "cuboids"}})


def test_a_label_no_export_takes_is_an_error_naming_the_sample_and_field():
    """A box stored without its ``bounding_box`` cannot be sent: the request
    stops with the sample, the label, the field and the fix."""
    boxes = [f for f in FIELDS if f.label_type == "detections"][:1]
    whole = fol.Detection(label=boxes[0].classes[0], bounding_box=[0.1, 0.1, 0.2, 0.2])
    broken = fol.Detection(label=boxes[0].classes[0])
    value = fol.Detections(detections=[whole, broken])
    with pytest.raises(ValueError, match=f"Sample sample-a: label {broken.id} ") as error:
        conv.export_sample({boxes[0].name: value}, boxes, DATASET[0][0])
    message = str(error.value)
    assert f"of '{boxes[0].name}'" in message and "its bounding_box" in message

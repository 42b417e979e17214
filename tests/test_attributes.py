"""Label attributes: FiftyOne's attribute schema (as its CVAT backend takes
it) as Label Studio per-region controls, both directions, for every label
type whose labels are regions; then end to end through FiftyOne's
``annotate()`` and both loads against the real server (which validates every
imported prediction against the labeling config)."""

import copy
import logging
import math
from types import SimpleNamespace

import fiftyone as fo
import fiftyone.core.labels as fol
import fiftyone_labelstudio as fols
import numpy as np
import pytest
from annotator import Annotator
from fiftyone_labelstudio import conversions as conv
from fiftyone_labelstudio.backend import load_annotations
from label_studio_sdk.label_interface import LabelInterface
from test_backend import write_images

ATTRIBUTES = {
    "occluded": {"type": "occluded"},
    "color": {"type": "select", "values": ["red", "green", "blue"]},
    "pose": {"type": "radio", "values": ["front", "side"]},
    "parked": {"type": "checkbox"},
    "notes": {"type": "text"},
    "count": {"type": "int"},
    "weight": {"type": "float"},
    "group_id": {"type": "group_id"},
}
SCHEMA = {
    "boxes": {
        "type": "detections",
        "classes": ["bus", {"classes": ["car"], "attributes": {"doors": {"type": "int"}}}],
        "attributes": ATTRIBUTES,
    },
    "masks": {
        "type": "instances",
        "classes": ["cat"],
        "attributes": {"occluded": {"type": "occluded"}},
    },
    "regions": {
        "type": "polygons",
        "classes": ["lake"],
        "attributes": {"depth": {"type": "float"}},
    },
    "lines": {
        "type": "polylines",
        "classes": ["road"],
        "attributes": {"lanes": {"type": "int"}, "kind": {"type": "select", "values": [1, 2]}},
    },
    "poses": {
        "type": "keypoints",
        "classes": ["person"],
        "attributes": {
            "visible": {"type": "checkbox"},
            "source": {"type": "text", "read_only": True},
        },
    },
}
FIELDS = conv.field_schemas(SCHEMA)
CONFIG = conv.labeling_config(FIELDS)
FRAME = conv.Frame(640, 360, "attrs")


def values_of(seed=0):
    rng = np.random.default_rng(seed)
    box = dict(
        label="car", bounding_box=[0.1, 0.2, 0.3, 0.4], occluded=True, color="green",
        pose="side", parked=False, notes="dented\nleft door", count=2, weight=1.5,
        group_id=7, doors=4,
    )  # fmt: skip
    return {
        "boxes": fol.Detections(
            detections=[
                fol.Detection(**box),
                fol.Detection(label="bus", bounding_box=[0.5, 0.5, 0.2, 0.2], color="red"),
                fol.Detection(label="bus", bounding_box=[0.6, 0.1, 0.2, 0.2]),  # none set
            ]
        ),
        "masks": fol.Detections(
            detections=[
                fol.Detection(
                    label="cat",
                    bounding_box=[0.1, 0.1, 0.25, 0.25],
                    mask=rng.uniform(size=(20, 30)) > 0.4,
                    occluded=False,
                )
            ]
        ),  # fmt: skip
        "regions": fol.Polylines(
            polylines=[
                fol.Polyline(
                    label="lake",
                    points=[[[0.1, 0.1], [0.4, 0.1], [0.2, 0.3]]] * 2,
                    closed=True,
                    filled=True,
                    depth=3.25,
                )
            ]
        ),  # fmt: skip
        "lines": fol.Polylines(
            polylines=[
                fol.Polyline(label="road", points=[[[0.1, 0.9], [0.9, 0.9]]], lanes=3, kind=2)
            ]
        ),
        "poses": fol.Keypoints(
            keypoints=[
                fol.Keypoint(
                    label="person",
                    points=[[0.2, 0.2], [math.nan, math.nan], [0.3, 0.3]],
                    visible=True,
                    source="p-1",
                )
            ]
        ),  # fmt: skip
    }


def originals_of(values):
    return {
        f.name: {label.id: label for label in conv.labels_of(values.get(f.name), f)} for f in FIELDS
    }


def export(values, frame=FRAME):
    results, problems = conv.export_sample(values, FIELDS, frame)
    assert problems == []
    return results


def load(results, values, frame=FRAME):
    loaded = conv.load_sample(results, FIELDS, frame, originals_of(values))
    assert loaded.problems == [] and loaded.unexpected == [], loaded.problems
    return loaded.values


def attribute_result(results, control, region_prefix):
    return next(
        r for r in results if r["from_name"] == control and r["id"].startswith(region_prefix)
    )


# -- the labeling config --------------------------------------------------------------


def test_two_fields_attributes_and_a_per_class_one_in_the_labeling_config():
    interface = LabelInterface(CONFIG)
    controls = {c.name: c for c in interface.controls}
    assert controls["boxes__occluded"].tag == "Choices"
    assert controls["boxes__color"].labels == ["red", "green", "blue"]
    assert controls["boxes__notes"].tag == "TextArea" and controls["boxes__count"].tag == "Number"
    assert controls["boxes__doors__car"].tag == "Number"
    assert controls["lines__kind"].labels == ["1", "2"]
    for name in ("boxes__occluded", "lines__lanes", "regions__depth", "poses__visible"):
        assert controls[name].attr["perRegion"] == "true"
    assert 'visibleWhen="region-selected" whenTagName="boxes"' in CONFIG
    assert 'whenLabelValue="car"' in CONFIG
    assert "required" not in CONFIG
    assert 'name="poses__source"' in CONFIG
    assert 'layout="select"' in CONFIG  # a dropdown


# -- both directions ---------------------------------------------------------------------


def test_untouched_labels_with_attributes_come_back_as_the_very_objects():
    values = values_of()
    results = export(values)
    assert LabelInterface(CONFIG).validate_prediction({"result": results}, return_errors=True) == []
    loaded = load(copy.deepcopy(results), values)
    for field, labels in originals_of(values).items():
        for label_id, label in labels.items():
            assert loaded[field][label_id] is label, (field, label_id)


def test_attribute_results_are_as_the_editor_writes_them():
    values = values_of()
    results = export(values)
    box = values["boxes"].detections[0]
    region = next(r for r in results if r["id"] == box.id and r["type"] == "rectanglelabels")
    occluded = attribute_result(results, "boxes__occluded", box.id)
    geometry = {k: v for k, v in region["value"].items() if k != "rectanglelabels"}
    assert occluded["value"] == {**geometry, "choices": ["True"]}
    assert occluded["type"] == "choices" and occluded["to_name"] == "image"
    assert attribute_result(results, "boxes__notes", box.id)["value"]["text"] == [
        "dented\nleft door"
    ]
    assert attribute_result(results, "boxes__doors__car", box.id)["value"]["number"] == 4
    # unset attributes have no result; a per-class attribute only for its class
    bare = values["boxes"].detections[2]
    assert [r["from_name"] for r in results if r["id"] == bare.id] == ["boxes"]
    # a read-only attribute's result is locked in the editor
    person = values["poses"].keypoints[0]
    assert attribute_result(results, "poses__source", person.id)["readonly"] is True
    # a label of several regions carries its attributes on each
    lake = values["regions"].polylines[0]
    assert {r["id"] for r in results if r["from_name"] == "regions__depth"} == {
        f"{lake.id}_0",
        f"{lake.id}_1",
    }


def test_edited_cleared_and_new_values_load_in_their_types():
    values = values_of()
    results = export(values)
    box, red_bus, bare = values["boxes"].detections
    attribute_result(results, "boxes__color", box.id)["value"]["choices"] = ["blue"]
    attribute_result(results, "boxes__count", box.id)["value"]["number"] = 5
    attribute_result(results, "boxes__parked", box.id)["value"]["choices"] = ["True"]
    results = [r for r in results if not (r["from_name"] == "boxes__notes" and r["id"] == box.id)]
    region = next(r for r in results if r["id"] == bare.id)
    results.append(
        {**region, "from_name": "boxes__weight", "type": "number",
         "value": {**region["value"], "number": 0.25}}
    )  # fmt: skip
    lane = attribute_result(results, "lines__kind", values["lines"].polylines[0].id)
    lane["value"]["choices"] = ["1"]
    loaded = load(results, values)
    edited = loaded["boxes"][box.id]
    assert (edited["color"], edited["count"], edited["parked"]) == ("blue", 5, True)
    assert edited.get_attribute_value("notes", None) is None  # cleared in Label Studio
    assert edited["occluded"] is True and edited["doors"] == 4 and edited["weight"] == 1.5
    assert (
        loaded["boxes"][bare.id]["weight"] == 0.25
        and type(loaded["boxes"][bare.id]["weight"]) is float
    )
    assert loaded["boxes"][red_bus.id] is red_bus
    line = loaded["lines"][values["lines"].polylines[0].id]
    assert line["kind"] == 1 and line["lanes"] == 3


def test_a_region_drawn_in_label_studio_gets_its_attributes_or_their_defaults():
    schema = {"boxes": {"type": "detections", "classes": ["car"], "attributes": {
        "color": {"type": "select", "values": ["red", "blue"], "default": "red"},
        "occluded": {"type": "occluded"},
    }}}  # fmt: skip
    fields = conv.field_schemas(schema)
    drawn = {
        "id": "dRawn1", "from_name": "boxes", "to_name": "image", "type": "rectanglelabels",
        "original_width": 640, "original_height": 360,
        "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0, "rectanglelabels": ["car"]},
    }  # fmt: skip
    occluded = {**drawn, "from_name": "boxes__occluded", "type": "choices",
                "value": {**drawn["value"], "choices": ["True"]}}  # fmt: skip
    occluded["value"].pop("rectanglelabels")
    [label] = conv.load_sample([drawn, occluded], fields, FRAME).values["boxes"].values()
    assert label["occluded"] is True and label["color"] == "red"


def test_an_edit_on_any_region_of_a_label_wins_and_read_only_values_stay():
    values = values_of()
    results = export(values)
    lake = values["regions"].polylines[0]
    attribute_result(results, "regions__depth", f"{lake.id}_1")["value"]["number"] = 9.5
    person = values["poses"].keypoints[0]
    for result in results:
        if result["from_name"] == "poses__source":
            result["value"]["text"] = ["changed by the annotator"]
    loaded = load(results, values)
    assert loaded["regions"][lake.id]["depth"] == 9.5
    assert loaded["poses"][person.id]["source"] == "p-1"


def test_a_value_no_attribute_can_hold_is_a_problem_and_the_label_stays_whole():
    values = values_of()
    results = export(values)
    box = values["boxes"].detections[0]
    attribute_result(results, "boxes__color", box.id)["value"]["choices"] = ["purple"]
    attribute_result(results, "boxes__count", box.id)["value"]["number"] = 2.5
    loaded = conv.load_sample(results, FIELDS, FRAME, originals_of(values))
    assert loaded.values["boxes"][box.id] is box
    assert [p.region_id for p in loaded.problems] == [box.id]
    assert "not among its values" in loaded.problems[0].message


def test_rotated_boxes_geometry_is_not_an_attribute_control():
    fields = conv.field_schemas(
        {
            "boxes": {
                "type": "detections",
                "classes": ["a"],
                "attributes": {"notes": {"type": "text"}},
            }
        }
    )
    assert [a.name for a in fields[0].attributes] == ["notes"]
    problem = conv.schema.schema_problem(
        {
            "boxes": {
                "type": "detections",
                "classes": ["a"],
                "attributes": {"rotation": {"type": "float"}},
            }
        },
        existing={},
    )
    assert "rectangle's own rotation" in problem


def test_what_the_plugin_writes_on_labels_is_never_a_control_and_a_kind_clash_is_refused():
    # attributes=True finds a load's record (annotator, annotated_at) and
    # video keyframes on the labels: never controls for annotators
    found = {name: {"type": "text"} for name in ("annotator", "annotated_at", "keyframe", "notes")}
    schema = {"boxes": {"type": "detections", "classes": ["a"], "attributes": found}}
    assert [a.name for a in conv.field_schemas(schema)[0].attributes] == ["notes"]
    # a later run of the same project declaring an attribute with another control
    color = {"color": {"type": "select", "values": ["red"]}}
    project = conv.labeling_config(
        conv.field_schemas({"boxes": {"type": "detections", "classes": ["a"], "attributes": color}})
    )
    as_text = {
        "boxes": {"type": "detections", "classes": ["a"], "attributes": {"color": {"type": "text"}}}
    }
    with pytest.raises(ValueError, match="control 'boxes__color' is a Choices, not the TextArea"):
        conv.schema.grown_config(project, conv.field_schemas(as_text))


# -- end to end: annotate(), the server, both loads ----------------------------------------


@pytest.fixture(params=["fiftyone", "plugin"])
def load_run(request):
    def load_(dataset, key):
        if request.param == "fiftyone":
            dataset.load_annotations(key)
        else:
            load_annotations(dataset, key)

    return load_


def test_attributes_end_to_end(label_studio, dataset, tmp_path, load_run, caplog):
    paths = write_images(str(tmp_path / "attrs"), [(64, 36), (36, 64)])
    dataset.add_samples([fo.Sample(filepath=p, **values_of(i)) for i, p in enumerate(paths)])
    dataset.compute_metadata()
    with caplog.at_level(logging.WARNING):
        results = dataset.annotate(
            "attrs", backend="labelstudio", label_schema=SCHEMA,
            url=label_studio.url, api_key=label_studio.pat,
        )  # fmt: skip
    assert "does not support attributes" not in caplog.text
    annotator = Annotator(label_studio.url, label_studio.pat)
    tasks = annotator.tasks(results.project_id)
    first, second = dataset.values("id")
    box = dataset[first]["boxes"].detections[0]
    edited = annotator.predicted(tasks[first])
    attribute_result(edited, "boxes__color", box.id)["value"]["choices"] = ["blue"]
    attribute_result(edited, "boxes__occluded", box.id)["value"]["choices"] = ["False"]
    edited = [r for r in edited if not (r["from_name"] == "boxes__notes" and r["id"] == box.id)]
    annotator.submit(tasks[first], edited)
    annotator.submit(tasks[second], annotator.predicted(tasks[second]))

    load_run(dataset, "attrs")
    loaded = dataset[first]["boxes"].detections[0]
    assert (loaded.id, loaded["color"], loaded["occluded"]) == (box.id, "blue", False)
    assert loaded.get_attribute_value("notes", None) is None  # cleared
    assert loaded["doors"] == 4 and loaded["weight"] == 1.5
    untouched = dataset[second]
    for name in ("boxes", "masks", "regions", "lines", "poses"):
        for before, after in zip(values_of(1)[name][values_of(1)[name]._LABEL_LIST_FIELD],
                                 untouched[name][untouched[name]._LABEL_LIST_FIELD]):  # fmt: skip
            for attribute in ("occluded", "color", "depth", "lanes", "visible"):
                if before.has_attribute(attribute):
                    assert after[attribute] == before[attribute], (name, attribute)


@pytest.mark.parametrize("entry", ["fiftyone", "plugin"])
def test_attributes_true_takes_the_attributes_found_on_the_labels(
    label_studio, dataset, tmp_path, entry
):
    [path] = write_images(str(tmp_path / "found"), [(20, 10)])
    box = fol.Detection(label="a", bounding_box=[0.1, 0.1, 0.5, 0.5], occluded=True, make="x",
                        doors=2, rotation=10.0)  # fmt: skip
    dataset.add_sample(fo.Sample(filepath=path, gt=fol.Detections(detections=[box])))
    kwargs = {"label_field": "gt", "attributes": True, "url": label_studio.url,
              "api_key": label_studio.pat}  # fmt: skip
    if entry == "fiftyone":
        dataset.annotate("found", backend="labelstudio", **kwargs)
    else:  # the plugin's own annotate(), as its operator runs it
        with pytest.raises(ValueError, match=r"backend='cvat'.*samples\.annotate\(\)"):
            fols.annotate(dataset, "found", backend="cvat", **kwargs)
        assert dataset.list_annotation_runs() == []
        # FiftyOne's call as it is, backend and all
        fols.annotate(dataset, "found", backend="labelstudio", **kwargs)
    schema = dataset.get_annotation_info("found").config.label_schema["gt"]["attributes"]
    assert schema == {
        "occluded": {"type": "occluded"}, "make": {"type": "text"}, "doors": {"type": "int"},
    }  # fmt: skip


def test_the_attributes_found_by_aggregation_are_those_fiftyone_finds(dataset):
    """``existing_attributes`` (one aggregation) against FiftyOne's own
    inference (which builds every label), over every region label type and a
    video's tracks."""
    import fiftyone.utils.annotations as foua
    from fiftyone_labelstudio.backend.label_fields import existing_attributes

    def box(**attributes):
        return fol.Detection(label="a", bounding_box=[0.1, 0.1, 0.2, 0.2], **attributes)

    extra = {"occluded": False, "group_id": 3, "weight": 0.5, "notes": None, "meta": {"k": 1}}
    dataset.add_samples(
        [
            fo.Sample(
                filepath="/tmp/found-1.png",
                boxes=fol.Detections(detections=[box(**extra), box(make="x", count=2)]),
                lines=fol.Polylines(polylines=[fol.Polyline(points=[[(0, 0), (1, 1)]], lanes=2)]),
                poses=fol.Keypoints(keypoints=[fol.Keypoint(points=[(0.1, 0.2)], visible=True)]),
                one=fol.Classification(label="a", confidence=0.5, source="x"),
                plain=fol.Detections(detections=[box()]),
            ),
            fo.Sample(
                filepath="/tmp/found-2.png", boxes=fol.Detections(detections=[box(count=1.5)])
            ),
        ]
    )
    # FiftyOne's inference asks the backend's recommend_attr_tool
    judge = SimpleNamespace(recommend_attr_tool=conv.attributes.recommended_attribute)
    for name, label_type in [("boxes", "detections"), ("lines", "polylines"),
                             ("poses", "keypoints"), ("one", "classification"),
                             ("plain", "detections")]:  # fmt: skip
        ours = existing_attributes(dataset, name)
        theirs = foua._get_label_attributes(dataset, judge, name, label_type)
        assert list(ours) == sorted(ours)
        if name == "boxes":  # an int, then a float: a float (FiftyOne: the first value's type)
            assert (ours.pop("count"), theirs.pop("count")) == ({"type": "float"}, {"type": "int"})
            # a dict: FiftyOne offers a text box, which would make it its repr
            assert "meta" not in ours and theirs.pop("meta") == {"type": "text"}
        assert ours == theirs, name
    assert existing_attributes(dataset, "ground") is None

    videos = fo.Dataset()
    try:
        video = fo.Sample(filepath="/tmp/found.mp4")
        video.frames[1] = fo.Frame(gt=fol.Detections(detections=[box(keyframe=True, speed=1.0)]))
        videos.add_sample(video)
        ours = existing_attributes(videos, "frames.gt")
        assert ours == foua._get_label_attributes(videos, judge, "frames.gt", "detections")
        assert ours == {"speed": {"type": "float"}}
    finally:
        videos.delete()


# -- the request form --------------------------------------------------------------------


def test_the_request_form_builds_attributes_per_field_and_per_class(
    label_studio, dataset, tmp_path
):
    import json

    import fiftyone.operators as foo
    from fiftyone.operators.executor import ExecutionError

    paths = write_images(str(tmp_path / "form"), [(20, 10)])
    box = fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.5, 0.5])
    dataset.add_sample(fo.Sample(filepath=paths[0], boxes=fol.Detections(detections=[box])))
    creds = {"url": label_studio.url, "api_key": label_studio.pat}
    rows = [
        {"field": "boxes", "name": "occluded", "type": "occluded"},
        {"field": "cars", "name": "doors", "type": "int", "classes": ["car"], "default": "4"},
        {"field": "cars", "name": "color", "type": "select", "values": ["red", "blue"]},
    ]
    params = {
        "anno_key": "from_form",
        "existing_fields": ["boxes"],
        "new_fields": [{"name": "cars", "type": "detections", "classes": ["car", "bus"]}],
        "attributes": rows,
        **creds,
    }

    def request(params):
        return foo.execute_operator(
            "@annotate/labelstudio/request_annotations", ctx={"dataset": dataset, "params": params}
        )

    # validated before anything is made, naming the attribute and the fix
    bad = {**params, "attributes": rows + [{"field": "cars", "name": "kind", "type": "radio"}]}
    with pytest.raises(ExecutionError, match="attribute 'kind' of type 'radio' needs its values"):
        request(bad)
    assert dataset.list_annotation_runs() == []

    made = request(params).result
    schema = dataset.get_annotation_info("from_form").config.label_schema
    assert schema["boxes"]["attributes"] == {"occluded": {"type": "occluded"}}
    assert schema["cars"]["attributes"] == {"color": {"type": "select", "values": ["red", "blue"]}}
    assert schema["cars"]["classes"] == [
        "bus", {"classes": ["car"], "attributes": {"doors": {"type": "int", "default": 4}}},
    ]  # fmt: skip
    config = (
        Annotator(label_studio.url, label_studio.pat)
        .ls.projects.get(id=made["project_id"])
        .label_config
    )
    controls = {c.name for c in LabelInterface(config).controls}
    assert {"boxes__occluded", "cars__doors__car", "cars__color"} <= controls

    # the JSON tab takes the same schema
    as_json = {
        "anno_key": "from_json",
        "schema_source": "JSON",
        "label_schema": json.dumps({"boxes": {"attributes": {"notes": {"type": "text"}}}}),
        **creds,
    }
    request(as_json)
    notes = dataset.get_annotation_info("from_json").config.label_schema["boxes"]["attributes"]
    assert notes == {"notes": {"type": "text"}}

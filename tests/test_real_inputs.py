"""Real inputs, end to end against the real Label Studio, read back from the
dataset: every kind of edit an annotator makes, through both load paths
(FiftyOne's ``dataset.load_annotations()`` and the plugin's own
``load_annotations()``); grouped datasets; fields some samples lack;
geometry as Label Studio writes it; masks stored on disk; samples without
metadata; non-finite confidences."""

import copy
import math
import os
import uuid

import fiftyone as fo
import fiftyone.core.labels as fol
import numpy as np
import pytest
from annotator import Annotator
from fiftyone import ViewField as F
from fiftyone_labelstudio.backend import load_annotations, tasks
from fiftyone_labelstudio.conversions.rle import mask_to_rle, rle_to_mask
from labels_equal import assert_values_equal
from PIL import Image
from sample_labels import SCHEMA
from test_backend import labeled_dataset, project_ids, snapshot, write_images

FIELDS = list(SCHEMA)


@pytest.fixture
def media_dir(label_studio):
    return os.path.join(label_studio.document_root, "real-" + uuid.uuid4().hex[:8])


@pytest.fixture(params=["fiftyone", "plugin"])
def load(request):
    """Loads a run through FiftyOne's ``dataset.load_annotations()`` or the
    plugin's ``load_annotations()``; returns the run's load report."""

    def load_(dataset, key, **kwargs):
        if request.param == "fiftyone":
            dataset.load_annotations(key, **kwargs)
        else:
            load_annotations(dataset, key, **kwargs)
        return dataset.load_annotation_results(key).last_load

    load_.path = request.param
    return load_


def annotate(samples, key, label_studio, **kwargs):
    return samples.annotate(
        key, backend="labelstudio", url=label_studio.url, api_key=label_studio.pat, **kwargs
    )


def frozen(dataset, names=FIELDS):
    return snapshot(dataset, names)


def add_boxed(dataset, paths, boxes, field="gt", label="cat"):
    """One sample per image path, each with the same boxes (``[x, y, w, h]``,
    relative) of one class in a detections field."""
    dataset.add_samples(
        [
            fo.Sample(
                filepath=path,
                **{
                    field: fol.Detections(
                        detections=[fol.Detection(label=label, bounding_box=b) for b in boxes]
                    )
                },
            )
            for path in paths
        ]
    )


def by_id(labels):
    return {label.id: label for label in labels}


def region(results, field, label_id=None, part=None):
    """The result of a field's region (of a label, and of one of its parts)."""
    for result in results:
        if result["from_name"] != field:
            continue
        if label_id is None or result["id"] == label_id or result["id"] == f"{label_id}_{part}":
            return result
    raise KeyError((field, label_id, part))


# -- every edit, every label type -----------------------------------------------


def test_every_kind_of_edit_reaches_the_dataset(label_studio, dataset, media_dir, load):
    labeled_dataset(dataset, media_dir, [(64, 48), (40, 60)])
    before = frozen(dataset)
    first, second = dataset.values("id")
    results = annotate(dataset, "edits", label_studio, label_schema=SCHEMA)
    annotator = Annotator(label_studio.url, label_studio.pat)
    tasks = annotator.tasks(results.project_id)

    old = before[first]
    cat, dog, hard_dog = old["boxes"].detections
    lake, field = old["regions"].polylines
    road = old["lines"].polylines[0]
    person = old["poses"].keypoints[0]
    blob = old["instances"].detections[0]
    edited = annotator.predicted(tasks[first])
    region(edited, "boxes", dog.id)["value"]["rectanglelabels"] = ["cat"]  # class
    region(edited, "boxes", cat.id)["value"].update(x=5.0, y=6.0)  # geometry
    region(edited, "boxes", hard_dog.id)["value"]["rotation"] = 30.0  # rotation
    drawn = copy.deepcopy(region(edited, "boxes", cat.id))
    drawn["id"] = "dRawn1"
    drawn["value"].update(x=60.0, y=60.0, width=20.0, height=20.0, rectanglelabels=["cat"])
    edited.append(drawn)  # a new region
    region(edited, "regions", lake.id, 0)["value"]["points"][0] = [1.0, 2.0]  # a vertex
    region(edited, "regions", field.id, 0)["value"]["polygonlabels"] = ["lake"]
    edited = [r for r in edited if r["id"] != f"{road.id}_1"]  # one shape of a line deleted
    region(edited, "poses", person.id, 0)["value"].update(x=50.0, y=50.0)  # a point moved
    brush = region(edited, "instances", blob.id)
    pixels = rle_to_mask(brush["value"]["rle"], 48, 64)
    pixels[40:48, 0:8] = True
    brush["value"]["rle"] = mask_to_rle(pixels)  # painted on
    region(edited, "weather")["value"]["choices"] = ["foggy"]
    region(edited, "count")["value"]["number"] = 42
    region(edited, "note")["value"]["text"] = ["edited note"]
    region(edited, "checked")["value"]["choices"] = ["True"]
    semantic = [r for r in edited if r["from_name"] == "semantic"]
    sky = rle_to_mask(semantic[0]["value"]["rle"], 48, 64)
    sky[20:24] = True
    semantic[0]["value"]["rle"] = mask_to_rle(sky)
    annotator.submit(tasks[first], edited)
    annotator.submit(tasks[second], annotator.predicted(tasks[second]))  # accepted

    report = load(dataset, "edits")
    after = frozen(dataset)
    new = after[first]
    boxes = by_id(new["boxes"].detections)
    assert boxes[cat.id].bounding_box[:2] == [0.05, 0.06]
    assert boxes[cat.id].bounding_box[2:] == cat.bounding_box[2:]
    assert boxes[cat.id]["iscrowd"] == 0 and boxes[cat.id].confidence == 0.5  # kept
    assert boxes[dog.id].label == "cat"
    assert boxes[dog.id].bounding_box == dog.bounding_box and boxes[dog.id]["rotation"] == 33.5
    turned = boxes[hard_dog.id]
    assert turned["rotation"] == 30.0 and turned.tags == ["hard"] and turned.index == 4
    assert turned["rotated_box"] is not None
    [drawn_id] = set(boxes) - {cat.id, dog.id, hard_dog.id}
    assert boxes[drawn_id].label == "cat"
    assert boxes[drawn_id].bounding_box == pytest.approx([0.6, 0.6, 0.2, 0.2])
    regions = by_id(new["regions"].polylines)
    assert regions[lake.id].points[0][0] == [0.01, 0.02]
    assert regions[lake.id].points[1:] == lake.points[1:]
    assert regions[field.id].label == "lake"
    assert by_id(new["lines"].polylines)[road.id].points == road.points[:1]
    assert by_id(new["poses"].keypoints)[person.id].points[0] == [0.5, 0.5]
    painted = by_id(new["instances"].detections)[blob.id]
    assert painted.bounding_box[1] + painted.bounding_box[3] == pytest.approx(1.0)
    assert new["weather"].label == "foggy" and new["weather"]["source"] == "model-a"
    assert (new["count"], new["note"], new["checked"]) == (42, "edited note", True)
    assert (new["semantic"].mask[20:24] == 1).all()
    for name in ("scene", "score", "quality", "paint"):
        assert_values_equal(new[name], old[name], name)
    for name in FIELDS:
        assert_values_equal(after[second][name], before[second][name], f"accepted {name}")
    assert report["added"] == 1 and report["loaded"] == 2 and report["problems"] == 0

    # loading again, through either path, changes nothing
    again = load(dataset, "edits")
    assert (again["added"], again["edited"], again["deleted"]) == (0, 0, 0)
    load_annotations(dataset, "edits")
    dataset.load_annotations("edits")
    for sample_id, fields in frozen(dataset).items():
        for name, value in fields.items():
            assert_values_equal(value, after[sample_id][name], f"{sample_id}.{name}")


def test_both_paths_fill_a_dest_field_alike_and_leave_the_source_alone(
    label_studio, dataset, media_dir
):
    labeled_dataset(dataset, media_dir, [(30, 20), (20, 30), (25, 25)])
    before = frozen(dataset)
    results = annotate(dataset, "dest", label_studio, label_schema={"boxes": {}, "count": {}})
    annotator = Annotator(label_studio.url, label_studio.pat)
    tasks = annotator.tasks(results.project_id)
    first, second, third = dataset.values("id")
    edited = annotator.predicted(tasks[first])
    new_class = "dog" if edited[0]["value"]["rectanglelabels"] == ["cat"] else "cat"
    edited[0]["value"]["rectanglelabels"] = [new_class]
    annotator.submit(tasks[first], edited[1:] + [edited[0]])
    annotator.skip(tasks[second])  # the third is not annotated

    dataset.load_annotations("dest", dest_field={"boxes": "by_fiftyone", "count": "n1"})
    load_annotations(dataset, "dest", dest_field={"boxes": "by_plugin", "count": "n2"})
    for sample in dataset:
        assert_values_equal(sample["by_plugin"], sample["by_fiftyone"], sample.id)
        assert sample["n1"] == sample["n2"]
        assert_values_equal(sample["boxes"], before[sample.id]["boxes"], "source")
    assert dataset[first]["by_plugin"].detections[-1].label == new_class
    # who edited it, and when, are on the dest fields' labels only
    for name in ("by_fiftyone", "by_plugin"):
        relabeled = dataset[first][name].detections[-1]
        assert relabeled.get_attribute_value("annotator", None) is not None, name
    source = [d for s in dataset for d in s["boxes"].detections]
    assert [d.get_attribute_value("annotator", None) for d in source] == [None] * len(source)
    # without a completed annotation, a task holds the labels as they are
    for sample_id in (second, third):
        assert_values_equal(dataset[sample_id]["by_plugin"], before[sample_id]["boxes"])


# -- grouped datasets -------------------------------------------------------------


def test_a_grouped_dataset_loads_every_slice_the_run_sent(label_studio, tmp_path, load):
    ds = fo.Dataset(f"grouped-{uuid.uuid4().hex[:8]}")
    try:
        ds.add_group_field("group", default="left")
        paths = write_images(str(tmp_path / "groups"), [(20, 10)] * 4)
        samples = []
        for g in range(2):
            group = fo.Group()
            for i, slice_name in enumerate(("left", "right")):
                box = fol.Detection(label="car", bounding_box=[0.1, 0.1, 0.5, 0.5])
                samples.append(
                    fo.Sample(
                        filepath=paths[2 * g + i],
                        group=group.element(slice_name),
                        det=fol.Detections(detections=[box]),
                        seen=False,
                    )
                )
        ds.add_samples(samples)
        view = ds.select_group_slices()
        results = annotate(view, "groups", label_studio, label_field="det", classes=["car", "bike"])
        assert len(results.sample_ids) == 4
        annotator = Annotator(label_studio.url, label_studio.pat)
        for task in annotator.tasks(results.project_id).values():
            result = annotator.predicted(task)
            result[0]["value"]["rectanglelabels"] = ["bike"]
            annotator.submit(task, result)

        report = load(ds, "groups")
        labels = ds.select_group_slices().values("det.detections.label")
        assert labels == [["bike"]] * 4 and report["edited"] == 4
    finally:
        ds.delete()


# -- label fields some samples lack ----------------------------------------------

PARTIAL = {
    "detections": lambda: fol.Detections(
        detections=[fol.Detection(label="a", bounding_box=[0.1, 0.1, 0.2, 0.2])]
    ),
    "instances": lambda: fol.Detections(
        detections=[
            fol.Detection(label="a", bounding_box=[0.1, 0.1, 0.5, 0.5], mask=np.ones((4, 4), bool))
        ]
    ),
    "polygons": lambda: fol.Polylines(
        polylines=[
            fol.Polyline(
                label="a", points=[[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]], filled=True, closed=True
            )
        ]
    ),  # fmt: skip
    "polylines": lambda: fol.Polylines(
        polylines=[fol.Polyline(label="a", points=[[[0.1, 0.1], [0.5, 0.5]]])]
    ),
    "keypoints": lambda: fol.Keypoints(keypoints=[fol.Keypoint(label="a", points=[[0.2, 0.3]])]),
    "classifications": lambda: fol.Classifications(classifications=[fol.Classification(label="a")]),
    "classification": lambda: fol.Classification(label="a"),
    "segmentation": lambda: fol.Segmentation(mask=np.eye(10, dtype=np.uint8)),
}
_EMPTY = {
    "detections": fol.Detections,
    "instances": fol.Detections,
    "polygons": fol.Polylines,
    "polylines": fol.Polylines,
    "keypoints": fol.Keypoints,
    "classifications": fol.Classifications,
}


@pytest.mark.parametrize("label_type", list(PARTIAL))
def test_a_field_some_samples_lack_is_sent_and_loaded(label_studio, dataset, tmp_path, label_type):
    paths = write_images(str(tmp_path / "partial"), [(10, 10)] * 3)
    values = [PARTIAL[label_type](), None]
    if label_type in _EMPTY:
        values.append(_EMPTY[label_type]())
    dataset.add_samples(
        [fo.Sample(filepath=p, field=v) for p, v in zip(paths, values)]
        + [fo.Sample(filepath=p) for p in paths[len(values) :]]
    )
    last = dataset.last()  # a second field, set on another sample than the first's
    last["other"] = "x"
    last.save()
    before = frozen(dataset, ["field", "other"])
    info = {"type": label_type}
    if label_type == "segmentation":
        info["mask_targets"] = {1: "a"}
    else:
        info["classes"] = ["a"]
    results = annotate(
        dataset, "partial", label_studio, label_schema={"field": info, "other": {"type": "scalar"}}
    )
    assert len(results.sample_ids) == 3
    Annotator(label_studio.url, label_studio.pat).accept_all(results.project_id)
    dataset.load_annotations("partial")
    after = frozen(dataset, ["field", "other"])
    for sample_id, fields in before.items():
        for name, value in fields.items():
            assert_values_equal(after[sample_id][name], value, f"{sample_id}.{name}")


# -- geometry as Label Studio writes it ---------------------------------------------


def rectangle(region_id, size, value, label):
    return {
        "id": region_id, "from_name": "det", "to_name": "image", "type": "rectanglelabels",
        "original_width": size[0], "original_height": size[1], "image_rotation": 0,
        "value": {"rotation": 0, **value, "rectanglelabels": [label]},
    }  # fmt: skip


def test_rectangles_as_label_studio_writes_them_reach_the_dataset(
    label_studio, dataset, tmp_path, load
):
    sizes = [(1920, 1080), (640, 480), (800, 800), (300, 200)]
    paths = write_images(str(tmp_path / "geometry"), sizes)
    person = fol.Detection(label="person", bounding_box=[0.1, 0.1, 0.2, 0.2])
    turned = fol.Detection(label="person", bounding_box=[0.2, 0.2, 0.4, 0.3])
    dataset.add_samples(
        [
            fo.Sample(filepath=paths[0]),
            fo.Sample(filepath=paths[1], det=fol.Detections(detections=[person])),
            fo.Sample(filepath=paths[2]),
            fo.Sample(filepath=paths[3], det=fol.Detections(detections=[turned])),
        ]
    )
    dataset.compute_metadata()
    classes = ["person", "rider", "car"]
    results = annotate(dataset, "geometry", label_studio, label_field="det", classes=classes)
    annotator = Annotator(label_studio.url, label_studio.pat)
    tasks = annotator.tasks(results.project_id)
    ids = dataset.values("id")
    # its bottom edge 0.05% below the image, as the editor drew it
    overshoot = {"x": 0, "y": 0.00625, "width": 60.8, "height": 100.04375}
    annotator.submit(tasks[ids[0]], [rectangle("eDit0r", sizes[0], overshoot, "car")])
    # a hair left of the image, and relabelled
    relabelled = annotator.predicted(tasks[ids[1]])
    relabelled[0]["value"].update(
        x=-0.2, y=10.0, width=19.8, height=20.0, rectanglelabels=["rider"]
    )
    annotator.submit(tasks[ids[1]], relabelled)
    # drawn bottom-up by an API client
    upward = {"x": 16, "y": 96, "width": 53, "height": -60}
    annotator.submit(tasks[ids[2]], [rectangle("uPward", sizes[2], upward, "car")])
    # rotated by the annotator
    rotated = annotator.predicted(tasks[ids[3]])
    rotated[0]["value"]["rotation"] = 30
    annotator.submit(tasks[ids[3]], rotated)

    report = load(dataset, "geometry")
    assert report["problems"] == 0
    boxes = [s["det"].detections for s in dataset.select_fields("det")]
    assert boxes[0][0].bounding_box == pytest.approx([0.0, 0.0000625, 0.608, 0.9999375])
    assert (boxes[1][0].id, boxes[1][0].label) == (person.id, "rider")
    assert boxes[1][0].bounding_box == pytest.approx([0.0, 0.1, 0.196, 0.2])
    assert boxes[2][0].bounding_box == pytest.approx([0.16, 0.36, 0.53, 0.60])
    spun = boxes[3][0]
    assert spun.id == turned.id and spun["rotation"] == 30
    # the box FiftyOne draws covers the turned rectangle
    corners = rotated_corners(rotated[0]["value"], sizes[3])
    low, high = corners.min(axis=0), corners.max(axis=0)
    x, y, w, h = spun.bounding_box
    assert x <= low[0] + 1e-9 and y <= low[1] + 1e-9
    assert x + w >= min(high[0], 1) - 1e-9 and y + h >= min(high[1], 1) - 1e-9


def rotated_corners(value, size):
    from fiftyone_labelstudio.conversions.geometry import (
        rectangle_corners,
    )

    keys = ("x", "y", "width", "height", "rotation")
    return rectangle_corners(*(value[k] for k in keys), size) / np.array(size)


# -- masks on disk, metadata, confidences ---------------------------------------------


def test_edited_masks_stored_on_disk_go_to_new_files(label_studio, dataset, tmp_path, load):
    [path] = write_images(str(tmp_path / "masks"), [(20, 10)])
    mask_dir = tmp_path / "masks-on-disk"
    mask_dir.mkdir()
    mask = np.zeros((10, 20), np.uint8)
    mask[:5] = 1
    Image.fromarray(mask).save(mask_dir / "seg.png")
    dataset.add_sample(
        fo.Sample(filepath=path, seg=fol.Segmentation(mask_path=str(mask_dir / "seg.png")))
    )
    results = annotate(
        dataset, "on_disk", label_studio, label_field="seg", label_type="segmentation",
        mask_targets={1: "sky"},
    )  # fmt: skip
    annotator = Annotator(label_studio.url, label_studio.pat)
    [task] = annotator.tasks(results.project_id).values()
    result = annotator.predicted(task)
    sky = rle_to_mask(result[0]["value"]["rle"], 10, 20)
    sky[5:7] = True
    result[0]["value"]["rle"] = mask_to_rle(sky)
    annotator.submit(task, result)
    load(dataset, "on_disk")

    seg = dataset.first()["seg"]
    assert seg.mask is None and seg.mask_path != str(mask_dir / "seg.png")
    assert os.path.dirname(seg.mask_path) == str(mask_dir)
    assert (np.asarray(Image.open(seg.mask_path)) == 1).sum() == 7 * 20
    assert np.array_equal(np.asarray(Image.open(mask_dir / "seg.png")), mask)  # the old file


def test_only_samples_without_metadata_have_it_computed(label_studio, dataset, tmp_path):
    paths = write_images(str(tmp_path / "meta"), [(12, 8), (8, 12)])
    dataset.add_samples([fo.Sample(filepath=p, gt=fol.Classification(label="a")) for p in paths])
    dataset.compute_metadata()
    stamp = dataset.first().metadata
    dataset.last().clear_field("metadata")
    dataset.last().save()
    annotate(dataset, "meta", label_studio, label_field="gt", classes=["a"])
    assert dataset.first().metadata == stamp  # not recomputed
    assert (dataset.last().metadata.width, dataset.last().metadata.height) == (8, 12)


def test_non_finite_confidences_are_sent_and_come_back(label_studio, dataset, tmp_path):
    [path] = write_images(str(tmp_path / "nan"), [(10, 10)])
    box = fol.Detection(label="a", bounding_box=[0.1, 0.1, 0.5, 0.5], confidence=math.nan)
    dataset.add_sample(fo.Sample(filepath=path, det=fol.Detections(detections=[box])))
    results = annotate(dataset, "nan", label_studio, label_field="det", classes=["a"])
    annotator = Annotator(label_studio.url, label_studio.pat)
    [task] = annotator.tasks(results.project_id).values()
    assert "score" not in annotator.predicted(task)[0]
    annotator.accept_all(results.project_id)
    dataset.load_annotations("nan")
    assert math.isnan(dataset.first()["det"].detections[0].confidence)


def test_a_request_of_several_imports_makes_one_task_per_sample(
    label_studio, dataset, media_dir, monkeypatch
):
    """1,201 samples go in two imports (a full one, then the rest): every
    sample gets exactly one task
    holding its boxes, and an edit in the last import's task reaches the
    dataset while every other sample stays as it was."""
    imported = []
    import_batch = tasks._import_batch

    def noting(connection, project_id, batch, *args, **kwargs):
        imported.append(len(batch))
        return import_batch(connection, project_id, batch, *args, **kwargs)

    monkeypatch.setattr(tasks, "_import_batch", noting)
    rng = np.random.default_rng(1201)
    paths = write_images(media_dir, [(16, 12)] * 1201)
    dataset.add_samples(
        [
            fo.Sample(
                filepath=path,
                boxes=fol.Detections(
                    detections=[
                        fol.Detection(label=label, bounding_box=list(rng.uniform(0.05, 0.45, 4)))
                        for label in ("cat", "dog")
                    ]
                ),
            )
            for path in paths
        ]
    )
    results = annotate(dataset, "many", label_studio, label_field="boxes", classes=["cat", "dog"])
    assert imported == [tasks.TASKS_PER_IMPORT, 1201 - tasks.TASKS_PER_IMPORT]

    held = tasks.task_ids_by_sample(results.connect_to_api().connection, results.project_id)
    assert sorted(held) == sorted(dataset.values("id"))
    assert {len(task_ids) for task_ids in held.values()} == {1}
    annotator = Annotator(label_studio.url, label_studio.pat)
    by_sample = annotator.tasks(results.project_id)
    for sample_id, label_ids in zip(dataset.values("id"), dataset.values("boxes.detections.id")):
        assert sorted(r["id"] for r in annotator.predicted(by_sample[sample_id])) == sorted(
            label_ids
        )

    before = frozen(dataset, ["boxes"])
    last = dataset.last()
    result = annotator.predicted(by_sample[last.id])
    moved = region(result, "boxes", last.boxes.detections[0].id)
    moved["value"]["x"] += 5.0  # percent of the width
    annotator.submit(by_sample[last.id], result)
    load_annotations(dataset, "many")

    after = frozen(dataset, ["boxes"])
    box = after[last.id]["boxes"].detections[0]
    expected = before[last.id]["boxes"].detections[0].bounding_box
    assert box.id == last.boxes.detections[0].id
    assert box.bounding_box[0] == pytest.approx(expected[0] + 0.05, abs=1e-9)
    assert box.bounding_box[1:] == pytest.approx(expected[1:], abs=1e-9)
    for sample_id in before:
        if sample_id != last.id:
            assert_values_equal(after[sample_id]["boxes"], before[sample_id]["boxes"], sample_id)


def test_labels_annotators_cannot_see_are_kept_by_a_load(
    label_studio, dataset, media_dir, load, caplog
):
    """A keypoint without a visible point (COCO's ``num_keypoints=0``) and a
    polyline without points make no region: the request says so, and a load
    of the accepted tasks keeps them, as it keeps the rest."""
    nan = math.nan
    [path] = write_images(media_dir, [(40, 30)])
    dataset.add_sample(
        fo.Sample(
            filepath=path,
            kp=fol.Keypoints(
                keypoints=[
                    fol.Keypoint(label="person", points=[(0.2, 0.3), (nan, nan)]),
                    fol.Keypoint(label="person", points=[(nan, nan), (nan, nan)]),
                ]
            ),
            lines=fol.Polylines(
                polylines=[
                    fol.Polyline(label="road", points=[[(0.1, 0.1), (0.5, 0.6)]]),
                    fol.Polyline(label="road", points=[]),
                ]
            ),
        )
    )
    schema = {
        "kp": {"type": "keypoints", "classes": ["person"]},
        "lines": {"type": "polylines", "classes": ["road"]},
    }
    before = frozen(dataset, ["kp", "lines"])
    results = annotate(dataset, "unseen", label_studio, label_schema=schema)
    warned = caplog.text
    assert "has no visible point: not sent, and kept as it is" in warned
    assert "has no points: not sent, and kept as it is" in warned
    Annotator(label_studio.url, label_studio.pat).accept_all(results.project_id)

    report = load(dataset, "unseen")
    after = frozen(dataset, ["kp", "lines"])
    for sample_id, fields in before.items():
        for name, value in fields.items():
            assert_values_equal(after[sample_id][name], value, f"{load.path}: {name}")
    if load.path == "plugin":
        assert report["deleted"] == 0


def test_a_sample_deleted_since_the_request_is_left_out_of_the_load(
    label_studio, dataset, media_dir, load, caplog
):
    """An annotated sample deleted from the dataset since the request: the
    load says so and loads the rest (FiftyOne's load crashed on it)."""
    add_boxed(dataset, write_images(media_dir, [(40, 30)] * 3), [[0.1, 0.1, 0.3, 0.3]])
    results = annotate(dataset, "deleted", label_studio, label_field="gt", classes=["cat"])
    annotator = Annotator(label_studio.url, label_studio.pat)
    by_sample = annotator.tasks(results.project_id)
    first, second, third = dataset.values("id")
    annotator.submit(by_sample[first], annotator.predicted(by_sample[first]))
    moved = annotator.predicted(by_sample[second])
    moved[0]["value"]["x"] += 10.0
    annotator.submit(by_sample[second], moved)
    before = frozen(dataset, ["gt"])
    dataset.delete_samples([first])

    load(dataset, "deleted")
    assert "1 annotated samples of the run are no longer in the dataset" in caplog.text
    after = frozen(dataset, ["gt"])
    assert sorted(after) == sorted([second, third])
    assert after[second]["gt"].detections[0].bounding_box[0] == pytest.approx(0.2, abs=1e-9)
    assert_values_equal(after[third]["gt"], before[third]["gt"], "untouched")


def test_attributes_no_control_carries_come_back_as_they_were(
    label_studio, dataset, media_dir, load
):
    """A NaN attribute, and list and dict ones (which FiftyOne's inference
    offers as text), are sent as no value: after the annotator moves the box
    they are as they were, not NaN's JSON error or a list's repr."""
    [path] = write_images(media_dir, [(40, 30)])
    box = fol.Detection(
        label="cat",
        bounding_box=[0.1, 0.1, 0.3, 0.3],
        occluded=True,
        weight=math.nan,
        things=["a", "b"],
        meta={"k": 1},
    )
    dataset.add_sample(fo.Sample(filepath=path, gt=fol.Detections(detections=[box])))
    results = annotate(dataset, "carried", label_studio, label_field="gt", classes=["cat"])
    annotator = Annotator(label_studio.url, label_studio.pat)
    [task] = annotator.tasks(results.project_id).values()
    result = annotator.predicted(task)
    for region in result:
        region["value"]["x"] += 10.0  # the box and its attribute results, as the editor moves them
    annotator.submit(task, result)

    load(dataset, "carried")
    [moved] = dataset.first().gt.detections
    assert moved.id == box.id and moved.bounding_box[0] == pytest.approx(0.2, abs=1e-9)
    assert moved.occluded is True and math.isnan(moved.weight)
    assert moved.things == ["a", "b"] and moved.meta == {"k": 1}


def test_a_box_with_a_nan_coordinate_fails_the_request_naming_it(label_studio, dataset, media_dir):
    [path] = write_images(media_dir, [(40, 30)])
    bad = fol.Detection(label="cat", bounding_box=[0.1, math.nan, 0.3, 0.3])
    dataset.add_sample(fo.Sample(filepath=path, gt=fol.Detections(detections=[bad])))
    projects_before = project_ids(label_studio)
    with pytest.raises(ValueError, match=rf"label {bad.id} \('cat'\) of 'gt'.*not a finite number"):
        annotate(dataset, "nan_box", label_studio, label_field="gt", classes=["cat"])
    assert dataset.list_annotation_runs() == [] and project_ids(label_studio) == projects_before


def test_a_field_renamed_since_the_request_is_an_error_naming_it(label_studio, dataset, media_dir):
    """The plugin's load of a run whose field was renamed in FiftyOne stops,
    naming the field and how to load anyway (it dropped the annotations)."""
    [path] = write_images(media_dir, [(40, 30)])
    box = fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.3, 0.3])
    dataset.add_sample(fo.Sample(filepath=path, gt=fol.Detections(detections=[box])))
    results = annotate(dataset, "renamed", label_studio, label_field="gt", classes=["cat"])
    Annotator(label_studio.url, label_studio.pat).accept_all(results.project_id)
    dataset.rename_sample_field("gt", "gt_old")
    with pytest.raises(
        ValueError, match=r"Field 'gt' of run 'renamed' is no longer in the dataset"
    ):
        load_annotations(dataset, "renamed")
    report = load_annotations(dataset, "renamed", dest_field={"gt": "gt_loaded"})
    assert report["loaded"] == 1
    assert dataset.first().gt_loaded.detections[0].id == box.id


def test_labels_of_classes_the_schema_does_not_list_are_refused_at_request(
    label_studio, dataset, media_dir
):
    """Boxes whose class the schema's classes lack, or which have none, stop
    the request before anything is made (Label Studio showed them without a
    class, or, validating predictions, refused the import with a bare 400)."""
    paths = write_images(media_dir, [(40, 30)] * 3)
    dataset.add_samples(
        [
            fo.Sample(
                filepath=path,
                gt=fol.Detections(
                    detections=[
                        fol.Detection(label=label, bounding_box=[0.1, 0.1, 0.3, 0.3])
                        for label in ("cat", "dog", None)
                    ]
                ),
                kind=fol.Classification(label="indoor"),
            )
            for path in paths[:2]
        ]
        + [fo.Sample(filepath=paths[2])]  # no labels at all: nothing to refuse
    )
    before = project_ids(label_studio)
    schema = {
        "gt": {"type": "detections", "classes": ["dog"]},
        "kind": {"type": "classification", "classes": ["indoor", "outdoor"]},
    }
    with pytest.raises(
        ValueError, match=r"4 labels of 'gt' have a class its classes do not list \(None, 'cat'\)"
    ):
        annotate(dataset, "unlisted", label_studio, label_schema=schema)
    assert dataset.list_annotation_runs() == [] and project_ids(label_studio) == before
    schema["gt"]["classes"] = ["cat", "dog"]
    with pytest.raises(ValueError, match=r"2 labels of 'gt' .* \(None\)"):
        annotate(dataset, "unlisted", label_studio, label_schema=schema)
    annotate(
        dataset.filter_labels("gt", F("label") != None),  # noqa: E711 (a ViewExpression)
        "unlisted",
        label_studio,
        label_schema=schema,
    )  # noqa: E711


def test_a_load_into_a_field_holding_copies_of_the_run_labels_edits_them(
    label_studio, dataset, media_dir
):
    """The plugin's load into an existing field that holds the run's labels
    under the same ids (a cloned or renamed field) applies the annotator's
    edit to them; it wrote nothing there, the edit lost without a word."""
    [path] = write_images(media_dir, [(40, 30)])
    box = fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.3, 0.3])
    dataset.add_sample(fo.Sample(filepath=path, gt=fol.Detections(detections=[box])))
    results = annotate(dataset, "copies", label_studio, label_field="gt", classes=["cat"])
    annotator = Annotator(label_studio.url, label_studio.pat)
    [task] = annotator.tasks(results.project_id).values()
    result = annotator.predicted(task)
    result[0]["value"]["x"] += 10.0
    annotator.submit(task, result)
    dataset.clone_sample_field("gt", "gt_copy")

    report = load_annotations(dataset, "copies", dest_field={"gt": "gt_copy"})
    assert (report["edited"], report["added"]) == (1, 0)
    [copy] = dataset.first().gt_copy.detections
    assert copy.id == box.id and copy.bounding_box[0] == pytest.approx(0.2, abs=1e-9)
    assert dataset.first().gt.detections[0].bounding_box[0] == pytest.approx(0.1, abs=1e-9)


@pytest.mark.parametrize("read", ["export", "snapshot"])
def test_a_label_edited_in_fiftyone_since_the_request_is_kept_where_the_annotator_left_it(
    label_studio, dataset, media_dir, load, read, request
):
    """A box moved in FiftyOne after the request, which the annotator left as
    it was sent: the load keeps FiftyOne's edit, whether the annotator moved
    another box of the task or accepted it all, on a first load (which reads
    Label Studio's synchronous export, which gives predictions by id, or a
    snapshot) and on a load of the tasks changed since (the tasks API). A box
    the annotator moved takes the annotator's edit."""
    if read == "snapshot":
        request.getfixturevalue("snapshot_exports")
    add_boxed(
        dataset,
        write_images(media_dir, [(40, 30)] * 2),
        [[0.1, 0.1, 0.3, 0.3], [0.5, 0.5, 0.3, 0.3]],
    )
    results = annotate(dataset, "since", label_studio, label_field="gt", classes=["cat"])
    for sample in dataset:  # edited in FiftyOne: the first box moved, the second relabeled
        first, second = sample.gt.detections
        first.bounding_box = [0.2, 0.15, 0.3, 0.3]
        second.confidence = 0.5
        sample.save()
    annotator = Annotator(label_studio.url, label_studio.pat)
    by_sample = annotator.tasks(results.project_id)
    edited_id, accepted_id = dataset.values("id")
    result = annotator.predicted(by_sample[edited_id])
    result[1]["value"]["x"] += 10.0  # the annotator moves the second box only
    annotator.submit(by_sample[edited_id], result)
    annotator.submit(by_sample[accepted_id], annotator.predicted(by_sample[accepted_id]))
    before = frozen(dataset, ["gt"])

    report = load(dataset, "since")
    after = frozen(dataset, ["gt"])
    assert_values_equal(after[accepted_id]["gt"], before[accepted_id]["gt"], "accepted")
    first, second = after[edited_id]["gt"].detections
    assert_values_equal(first, before[edited_id]["gt"].detections[0], "left by the annotator")
    assert second.id == before[edited_id]["gt"].detections[1].id
    assert second.bounding_box == pytest.approx([0.6, 0.5, 0.3, 0.3], abs=1e-9)
    assert (report["edited"], report["kept"]) == (1, 2)

    # later, in FiftyOne: the accepted task's first box moved again, and the
    # box the annotator moved (which the load wrote) resized; in Label
    # Studio: the annotator moves the accepted task's second box, and draws a
    # box in the other task
    for sample_id, index, box in (
        (accepted_id, 0, [0.25, 0.2, 0.3, 0.3]),
        (edited_id, 1, [0.6, 0.5, 0.2, 0.2]),
    ):
        sample = dataset[sample_id]
        sample.gt.detections[index].bounding_box = box
        sample.save()
    annotations = {
        sid: task["annotations"][0] for sid, task in annotator.tasks(results.project_id).items()
    }
    result = annotations[accepted_id]["result"]
    result[1]["value"]["y"] += 10.0
    annotator.ls.annotations.update(id=annotations[accepted_id]["id"], result=result)
    drawn = copy.deepcopy(annotations[edited_id]["result"][0])
    drawn["id"], drawn["value"]["x"] = "drawn1", 70.0
    result = [*annotations[edited_id]["result"], drawn]
    annotator.ls.annotations.update(id=annotations[edited_id]["id"], result=result)
    before = frozen(dataset, ["gt"])

    report = load(dataset, "since")
    after = frozen(dataset, ["gt"])
    first, second = after[accepted_id]["gt"].detections
    assert_values_equal(first, before[accepted_id]["gt"].detections[0], "left again")
    assert second.bounding_box == pytest.approx([0.5, 0.6, 0.3, 0.3], abs=1e-9)
    *kept, added = after[edited_id]["gt"].detections
    assert_values_equal(kept, before[edited_id]["gt"].detections, "both left alone")
    assert added.bounding_box[0] == pytest.approx(0.7, abs=1e-9)
    assert (report["edited"], report["added"], report["kept"]) == (1, 1, 3)


def test_an_imported_annotation_nobody_touched_keeps_fiftyone_edits(
    label_studio, dataset, media_dir, load
):
    """With ``existing_labels="annotations"``, the annotation the request
    imported counts as an annotator's; while nobody has updated it, it is
    what was sent, so a box moved in FiftyOne since stays moved, unstamped
    (the load undid the move, as the import's user's edit). One updated at
    once (by a script, within the second of the import) is the annotator's
    version whole: its move of the other box loads."""
    add_boxed(
        dataset,
        write_images(media_dir, [(40, 30)] * 2),
        [[0.1, 0.1, 0.3, 0.3], [0.5, 0.1, 0.3, 0.3]],
    )
    results = annotate(
        dataset, "imported", label_studio, label_field="gt", classes=["cat"],
        existing_labels="annotations",
    )  # fmt: skip
    untouched_id, updated_id = dataset.values("id")
    annotator = Annotator(label_studio.url, label_studio.pat)
    [annotation] = annotator.tasks(results.project_id)[updated_id]["annotations"]
    result = annotation["result"]
    result[1]["value"]["x"] += 10.0
    annotator.ls.annotations.update(id=annotation["id"], result=result)
    for sample in dataset:
        sample.gt.detections[0].bounding_box = [0.2, 0.2, 0.3, 0.3]
        sample.save()
    before = frozen(dataset, ["gt"])

    report = load(dataset, "imported")
    after = frozen(dataset, ["gt"])
    assert_values_equal(after[untouched_id], before[untouched_id], "untouched task")
    first, second = after[updated_id]["gt"].detections
    assert first.bounding_box == pytest.approx([0.1, 0.1, 0.3, 0.3], abs=1e-9)
    assert second.bounding_box == pytest.approx([0.6, 0.1, 0.3, 0.3], abs=1e-9)
    assert (report["edited"], report["kept"]) == (2, 1)

"""The demo's dataset (scripts/demo_dataset.py): its fields and label types,
labels in bounds and consistent with each other, and a label schema the
plugin's conversion core sends without problems."""

import math
import uuid

import fiftyone as fo
import fiftyone.core.labels as fol
import numpy as np
import pytest
from demo_dataset import MASK_TARGETS, SCENES, SHAPES, make_demo_dataset
from fiftyone_labelstudio import conversions as conv

FIELD_TYPES = {
    "ground_truth": fol.Detections,
    "predictions": fol.Detections,
    "shapes": fol.Polylines,
    "corners": fol.Keypoints,
    "scene": fol.Classification,
    "segmentation": fol.Segmentation,
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo dataset in the session's private database, deleted afterwards."""
    images = tmp_path_factory.mktemp("demo-images")
    dataset = make_demo_dataset(f"test-demo-{uuid.uuid4().hex[:12]}", str(images), persistent=False)
    try:
        yield dataset
    finally:
        if not dataset.deleted:
            dataset.delete()


def in_unit(*values):
    return all(0.0 <= v <= 1.0 and not math.isnan(v) for v in values)


def test_fields_label_types_and_dataset_info(demo):
    assert len(demo) == 20
    schema = demo.get_field_schema()
    for name, label_type in FIELD_TYPES.items():
        assert schema[name].document_type is label_type, name
    assert demo.default_classes == list(SHAPES)
    assert demo.classes["scene"] == list(SCENES)
    assert demo.mask_targets["segmentation"] == MASK_TARGETS
    for sample in demo:
        assert (sample.metadata.width, sample.metadata.height) == (640, 480)
        for name, label_type in FIELD_TYPES.items():
            assert isinstance(sample[name], label_type), (sample.id, name)
        assert 2 <= len(sample.ground_truth.detections) <= 5


def test_every_label_is_in_bounds_and_of_a_known_class(demo):
    for sample in demo:
        for det in sample.ground_truth.detections + sample.predictions.detections:
            x, y, w, h = det.bounding_box
            assert det.label in SHAPES
            assert in_unit(x, y, w, h, x + w, y + h) and w > 0 and h > 0
        assert all(0 < d.confidence <= 1 for d in sample.predictions.detections)
        for polyline in sample.shapes.polylines:
            assert polyline.label in SHAPES and polyline.filled and polyline.closed
            assert all(in_unit(*p) for shape in polyline.points for p in shape)
        for keypoint in sample.corners.keypoints:
            assert keypoint.label in ("triangle", "pentagon")
            assert len(keypoint.points) == (3 if keypoint.label == "triangle" else 5)
            assert all(in_unit(*p) for p in keypoint.points)
        assert sample.scene.label in SCENES


def test_segmentation_agrees_with_the_boxes(demo):
    for sample in demo:
        mask = sample.segmentation.mask
        assert mask.shape == (480, 640)
        values = set(np.unique(mask).tolist())
        assert values <= set(MASK_TARGETS), values
        shapes = {SHAPES.index(d.label) + 1 for d in sample.ground_truth.detections}
        assert values - {0} == shapes
        for det in sample.ground_truth.detections:  # each box holds pixels of its class
            x, y, w, h = det.bounding_box
            crop = mask[
                round(y * 480) : round((y + h) * 480), round(x * 640) : round((x + w) * 640)
            ]
            assert (crop == SHAPES.index(det.label) + 1).any()


def test_label_schema_converts_without_problems(demo):
    schema = {
        "ground_truth": {"type": "detections", "classes": list(SHAPES)},
        "shapes": {"type": "polygons", "classes": list(SHAPES)},
        "corners": {"type": "keypoints", "classes": list(SHAPES)},
        "scene": {"type": "classification", "classes": list(SCENES)},
        "segmentation": {"type": "segmentation", "mask_targets": demo.mask_targets["segmentation"]},
    }
    fields = conv.field_schemas(schema)
    conv.labeling_config(fields)  # valid for Label Studio
    for sample in demo:
        values = {name: sample[name] for name in schema}
        frame = conv.Frame(sample.metadata.width, sample.metadata.height, sample.id)
        results, problems = conv.export_sample(values, fields, frame)
        assert problems == [], (sample.id, problems)
        sent = {r["from_name"] for r in results}
        assert {"ground_truth", "scene", "segmentation"} <= sent


def test_the_same_seed_gives_the_same_dataset(tmp_path):
    first = make_demo_dataset(
        f"test-demo-{uuid.uuid4().hex[:12]}", str(tmp_path / "a"), 3, seed=7, persistent=False
    )
    second = make_demo_dataset(
        f"test-demo-{uuid.uuid4().hex[:12]}", str(tmp_path / "b"), 3, seed=7, persistent=False
    )
    try:
        for a, b in zip(first, second):
            assert (
                a.ground_truth.detections[0].bounding_box
                == b.ground_truth.detections[0].bounding_box
            )
            assert np.array_equal(a.segmentation.mask, b.segmentation.mask)
    finally:
        for dataset in (first, second):
            dataset.delete()


def test_recreating_replaces_a_dataset_of_that_name(tmp_path):
    name = f"test-demo-{uuid.uuid4().hex[:12]}"
    make_demo_dataset(name, str(tmp_path), 2, persistent=False)
    dataset = make_demo_dataset(name, str(tmp_path), 4, persistent=False)
    try:
        assert len(fo.load_dataset(name)) == 4
    finally:
        dataset.delete()


def test_the_demo_command_lists_its_options_without_installing():
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "demo.sh"
    shown = subprocess.run(
        ["bash", str(script), "--help"], capture_output=True, text=True, timeout=120, check=True
    )
    assert "--reset" in shown.stdout and "[install]" not in shown.stdout + shown.stderr

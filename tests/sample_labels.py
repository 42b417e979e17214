"""Sample labels of every type the plugin maps, with awkward content, shared by
the conversion tests and the tests against a real Label Studio."""

import math

import fiftyone.core.labels as fol
import numpy as np

NAN = math.nan

SCHEMA = {
    "weather": {"type": "classification", "classes": ["sunny", "rainy", "foggy"]},
    "scene": {"type": "classifications", "classes": ["indoor", "outdoor", "blurry"]},
    "boxes": {"type": "detections", "classes": ["cat", "dog"]},
    "instances": {"type": "instances", "classes": ["cat", "dog"]},
    "regions": {"type": "polygons", "classes": ["lake", "field"]},
    "lines": {"type": "polylines", "classes": ["road", "river"]},
    "poses": {"type": "keypoints", "classes": ["person", "face"]},
    "count": {"type": "scalar"},
    "score": {"type": "scalar"},
    "note": {"type": "scalar"},
    "checked": {"type": "scalar"},
    "quality": {"type": "scalar", "classes": ["1", "2", "3"]},
    "semantic": {
        "type": "segmentation",
        "mask_targets": {0: "background", 1: "sky", 2: "road", 7: "car"},
    },
    "paint": {"type": "segmentation", "mask_targets": {"#ff0000": "red", "#00ff00": "green"}},
}
SCALAR_TYPES = {
    "count": "int",
    "score": "float",
    "note": "str",
    "checked": "bool",
    "quality": "int",
}


def make_sample(seed, width, height):
    """One sample's values for every field of SCHEMA, with awkward content:
    multi-shape polygons, open and closed lines, NaN keypoints, rotations,
    custom attributes, masks not the box's size, several mask classes."""
    rng = np.random.default_rng(seed)

    def box():
        x, y = rng.uniform(0, 0.5, 2)
        return [float(x), float(y), float(rng.uniform(0.05, 0.45)), float(rng.uniform(0.05, 0.45))]

    def shape(n):
        return [[float(x), float(y)] for x, y in rng.uniform(0, 1, (n, 2))]

    instance_box = [0.1, 0.2, 0.5, 0.4]
    box_h, box_w = int(height * 0.6) - int(height * 0.2), int(width * 0.6) - int(width * 0.1)
    semantic = np.zeros((height, width), np.uint8)
    semantic[: height // 3] = 1
    semantic[height // 2 :, : width // 2] = 2
    semantic[height // 2 : height // 2 + 5, width // 2 : width // 2 + 9] = 7
    paint = np.zeros((height, width, 3), np.uint8)
    paint[: height // 2, : width // 3] = (255, 0, 0)
    paint[height // 2 :, width // 3 :] = (0, 255, 0)
    return {
        "weather": fol.Classification(label="rainy", confidence=0.75, source="model-a"),
        "scene": fol.Classifications(
            classifications=[
                fol.Classification(label="outdoor", confidence=0.9),
                fol.Classification(label="blurry"),
            ]
        ),
        "boxes": fol.Detections(
            detections=[
                fol.Detection(label="cat", bounding_box=box(), confidence=0.5, iscrowd=0),
                fol.Detection(label="dog", bounding_box=box(), rotation=33.5),
                fol.Detection(label="dog", bounding_box=box(), index=4, tags=["hard"]),
            ]
        ),
        "instances": fol.Detections(
            detections=[
                fol.Detection(
                    label="cat",
                    bounding_box=instance_box,
                    mask=rng.uniform(size=(box_h, box_w)) > 0.3,
                    confidence=0.8,
                ),
                # a mask at another size than its box, as COCO imports make them
                fol.Detection(
                    label="dog",
                    bounding_box=[0.55, 0.05, 0.333, 0.2],
                    mask=(rng.uniform(size=(7, 11)) > 0.5).astype(np.uint8),
                ),
            ]
        ),
        "regions": fol.Polylines(
            polylines=[
                fol.Polyline(
                    label="lake", points=[shape(5), shape(3), shape(4)], closed=True, filled=True
                ),
                fol.Polyline(
                    label="field", points=[shape(6)], closed=True, filled=True, confidence=0.4
                ),
            ]
        ),
        "lines": fol.Polylines(
            polylines=[
                fol.Polyline(label="road", points=[shape(4), shape(2)], closed=False, filled=False),
                fol.Polyline(label="river", points=[shape(5)], closed=True, filled=False),
            ]
        ),
        "poses": fol.Keypoints(
            keypoints=[
                fol.Keypoint(
                    label="person",
                    points=shape(3) + [[NAN, NAN]] + shape(2),
                    confidence=[0.9, 0.8, 0.7, NAN, 0.5, 0.4],
                ),
                fol.Keypoint(label="face", points=[[NAN, NAN]] + shape(4) + [[NAN, NAN]]),
                fol.Keypoint(label="person", points=shape(2)),
            ]
        ),
        "count": 7,
        "score": 0.123456789,
        "note": "two cats\nand a dog",
        "checked": False,
        "quality": 2,
        "semantic": fol.Segmentation(mask=semantic),
        "paint": fol.Segmentation(mask=paint),
    }

"""The demo's dataset: synthetic images of coloured shapes, with labels of
every common kind that agree with each other (no downloads).

Each image shows 2-5 non-overlapping shapes on a plain background:

- ``ground_truth``   Detections: a box around every shape
- ``predictions``    Detections: jittered boxes with confidences, some misses
                     and confusions (to send as pre-annotations)
- ``shapes``         Polylines: a filled polygon outlining every polygonal shape
- ``corners``        Keypoints: the corners of the triangles and pentagons
- ``scene``          Classification: the background (``ocean``, ``meadow``, ...)
- ``segmentation``   Segmentation: each shape's pixels hold its class's value
                     (``dataset.mask_targets["segmentation"]``)

Example::

    from demo_dataset import make_demo_dataset
    dataset = make_demo_dataset("labelstudio-demo", "/tmp/demo-images")
"""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image, ImageDraw

WIDTH, HEIGHT = 640, 480
SHAPES = ("circle", "rectangle", "triangle", "pentagon")
MASK_TARGETS = {0: "background", **{i + 1: name for i, name in enumerate(SHAPES)}}
SCENES = {  # scene class -> background colour
    "ocean": (70, 130, 200),
    "meadow": (110, 170, 90),
    "desert": (225, 200, 140),
    "night": (35, 40, 70),
}
COLORS = [
    (230, 60, 60),
    (250, 160, 30),
    (240, 230, 70),
    (150, 60, 200),
    (240, 240, 240),
    (20, 20, 20),
]


def _outline(kind, cx, cy, r, angle):
    """The vertices (pixels) of a polygonal shape, or None for a circle."""
    if kind == "circle":
        return None
    if kind == "rectangle":
        w, h = r, r * 0.65
        return [(cx - w, cy - h), (cx + w, cy - h), (cx + w, cy + h), (cx - w, cy + h)]
    n = 3 if kind == "triangle" else 5
    return [
        (
            cx + r * math.cos(angle + 2 * math.pi * k / n),
            cy + r * math.sin(angle + 2 * math.pi * k / n),
        )
        for k in range(n)
    ]


def _draw(draw, kind, cx, cy, r, vertices, fill):
    if vertices is None:
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        draw.polygon(vertices, fill=fill)


def _place_shapes(rng, count):
    """Up to ``count`` shapes that do not overlap (a rectangle's corners reach 1.19 r)."""
    placed = []
    for _ in range(200):
        if len(placed) == count:
            break
        r = float(rng.uniform(35, 80))
        cx, cy = float(rng.uniform(r + 5, WIDTH - r - 5)), float(rng.uniform(r + 5, HEIGHT - r - 5))
        if all(math.hypot(cx - x, cy - y) > 1.2 * (r + s) + 10 for x, y, s, _ in placed):
            placed.append((cx, cy, r, str(rng.choice(SHAPES))))
    return placed


def make_sample_labels(rng, image_path):
    """Draws one image into ``image_path``; returns its sample's label fields."""
    import fiftyone.core.labels as fol

    scene = str(rng.choice(list(SCENES)))
    image = Image.new("RGB", (WIDTH, HEIGHT), SCENES[scene])
    draw = ImageDraw.Draw(image)
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    colors = [COLORS[i] for i in rng.permutation(len(COLORS))]
    gt, preds, polygons, corners = [], [], [], []

    for i, (cx, cy, r, kind) in enumerate(_place_shapes(rng, int(rng.integers(2, 6)))):
        angle = float(rng.uniform(0, 2 * math.pi))
        vertices = _outline(kind, cx, cy, r, angle)
        _draw(draw, kind, cx, cy, r, vertices, colors[i % len(colors)])
        alone = Image.new("L", (WIDTH, HEIGHT), 0)
        _draw(ImageDraw.Draw(alone), kind, cx, cy, r, vertices, 1)
        pixels = np.asarray(alone, bool)
        mask[pixels] = SHAPES.index(kind) + 1

        ys, xs = np.nonzero(pixels)
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        box = [
            float(x0 / WIDTH),
            float(y0 / HEIGHT),
            float((x1 - x0) / WIDTH),
            float((y1 - y0) / HEIGHT),
        ]
        gt.append(fol.Detection(label=kind, bounding_box=box))

        if rng.random() > 0.1:  # the "model" misses one shape in ten
            label = kind if rng.random() > 0.15 else str(rng.choice(SHAPES))
            jitter = rng.normal(0, 0.01, 4)
            px, py = np.clip(box[0] + jitter[0], 0, 1), np.clip(box[1] + jitter[1], 0, 1)
            pw = np.clip(box[2] + jitter[2], 0.01, 1 - px)
            ph = np.clip(box[3] + jitter[3], 0.01, 1 - py)
            confidence = float(rng.uniform(0.55, 0.99) if label == kind else rng.uniform(0.3, 0.6))
            preds.append(
                fol.Detection(
                    label=label,
                    bounding_box=[float(v) for v in (px, py, pw, ph)],
                    confidence=confidence,
                )
            )

        if vertices is not None:
            points = [
                (min(max(x / WIDTH, 0.0), 1.0), min(max(y / HEIGHT, 0.0), 1.0)) for x, y in vertices
            ]
            polygons.append(fol.Polyline(label=kind, points=[points], closed=True, filled=True))
            if kind in ("triangle", "pentagon"):
                corners.append(fol.Keypoint(label=kind, points=points))

    image.save(image_path)
    return {
        "ground_truth": fol.Detections(detections=gt),
        "predictions": fol.Detections(detections=preds),
        "shapes": fol.Polylines(polylines=polygons),
        "corners": fol.Keypoints(keypoints=corners),
        "scene": fol.Classification(label=scene),
        "segmentation": fol.Segmentation(mask=mask),
    }


def make_demo_dataset(name, images_dir, num_samples=20, seed=0, persistent=True):
    """Creates dataset ``name`` (replacing one of that name) from ``num_samples``
    synthetic images written to ``images_dir``; the same seed gives the same data."""
    import fiftyone as fo

    if fo.dataset_exists(name):
        fo.delete_dataset(name)
    os.makedirs(images_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(num_samples):
        path = os.path.join(os.path.abspath(images_dir), f"shapes-{i:03d}.png")
        samples.append(fo.Sample(filepath=path, **make_sample_labels(rng, path)))

    dataset = fo.Dataset(name, persistent=persistent)
    dataset.add_samples(samples, progress=False)
    dataset.default_classes = list(SHAPES)
    dataset.classes = {"scene": list(SCENES)}
    dataset.mask_targets = {"segmentation": dict(MASK_TARGETS)}
    dataset.info = {"description": "Synthetic shapes for the Label Studio plugin's demo"}
    dataset.save()
    dataset.compute_metadata(progress=False)
    return dataset

"""The benchmark's data, made once per run: PNG files, persistent FiftyOne
datasets in the run's private database, and for the floor contender the same
tasks (with the same prediction results) as a JSON file.

Import it only after FiftyOne's environment is set (it imports ``fiftyone``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import fiftyone as fo
import numpy as np
from fiftyone.plugins.orgs.annotate.labelstudio.backend.tasks import MODEL_VERSION, SAMPLE_ID
from fiftyone.plugins.orgs.annotate.labelstudio.conversions import (
    IMAGE_TAG,
    Frame,
    export_sample,
    field_schemas,
    labeling_config,
)
from PIL import Image, ImageDraw

WIDTH, HEIGHT = 200, 100
LABEL_FIELD = "ground_truth"
CLASSES = ["car", "person", "bicycle", "dog", "traffic light"]
BOXES_PER_IMAGE = 10
MASKS_PER_IMAGE = 3
_SAMPLES_PER_INSERT = 5000


@dataclass(frozen=True)
class Workload:
    """One data set and what is measured on it.

    Args:
        name: as shown in the table
        size: number of samples
        label_type: ``"detections"`` or ``"instances"`` (detections with masks)
        media: ``"upload"``, ``"local_storage"`` or ``"url"``
        contenders: who runs it
        phases: which phases are measured, in order
        repeats: how many times
    """

    name: str
    size: int
    label_type: str
    media: str
    contenders: tuple[str, ...]
    phases: tuple[str, ...]
    repeats: int

    @property
    def slug(self) -> str:
        # short: FiftyOne's built-in backend names its project FiftyOne_<dataset>,
        # and Label Studio refuses titles over 50 characters
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower().replace(",", "")).strip("-")

    @property
    def label_schema(self) -> dict:
        return {LABEL_FIELD: {"type": self.label_type, "classes": CLASSES}}

    @property
    def media_field(self) -> str:
        return "url" if self.media == "url" else "filepath"

    @property
    def dataset_name(self) -> str:
        return f"bench-{self.slug}"


def write_images(folder: str, count: int) -> list[str]:
    """``count`` 200x100 PNGs (a colour wash and a few outlined boxes) in
    ``folder``; files already there are kept."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(count):
        path = os.path.join(folder, f"image_{i:06d}.png")
        if not os.path.exists(path):
            rng = np.random.default_rng(i)
            image = Image.new(
                "RGB", (WIDTH, HEIGHT), tuple(int(c) for c in rng.integers(0, 255, 3))
            )
            draw = ImageDraw.Draw(image)
            for x, y in rng.integers(0, (WIDTH - 40, HEIGHT - 20), (4, 2)):
                draw.rectangle([int(x), int(y), int(x) + 40, int(y) + 20], outline=(255, 255, 255))
            image.save(path)
        paths.append(path)
    return paths


def build_dataset(workload: Workload, paths: list[str] | None) -> fo.Dataset:
    """The workload's persistent dataset: one sample per path (or per URL for
    ``media="url"``, which needs no files), with metadata computed."""
    if fo.dataset_exists(workload.dataset_name):
        fo.delete_dataset(workload.dataset_name)
    dataset = fo.Dataset(workload.dataset_name, persistent=True)
    for start in range(0, workload.size, _SAMPLES_PER_INSERT):
        indexes = range(start, min(start + _SAMPLES_PER_INSERT, workload.size))
        dataset.add_samples([_sample(workload, i, paths) for i in indexes], progress=False)
    return dataset


def _sample(workload: Workload, index: int, paths: list[str] | None) -> fo.Sample:
    rng = np.random.default_rng(index)
    if workload.label_type == "instances":
        labels = [_instance(rng) for _ in range(MASKS_PER_IMAGE)]
    else:
        labels = [_box(rng) for _ in range(BOXES_PER_IMAGE)]
    metadata = fo.ImageMetadata(width=WIDTH, height=HEIGHT, mime_type="image/png", num_channels=3)
    if workload.media == "url":
        # a URL Label Studio would fetch; the file path is never read
        sample = fo.Sample(
            filepath=f"/nonexistent/url-media/{index:06d}.png",
            url=f"https://images.example.com/bench/{index:06d}.png",
        )
    else:
        sample = fo.Sample(filepath=paths[index])
    sample["metadata"] = metadata
    sample[LABEL_FIELD] = fo.Detections(detections=labels)
    return sample


def _box(rng) -> fo.Detection:
    x, y = rng.uniform(0, 0.7, 2)
    w, h = rng.uniform(0.05, 0.3, 2)
    return fo.Detection(
        label=CLASSES[rng.integers(len(CLASSES))],
        bounding_box=[float(x), float(y), float(w), float(h)],
        confidence=float(rng.uniform(0.3, 1.0)),
    )


def _instance(rng) -> fo.Detection:
    detection = _box(rng)
    _, _, w, h = detection.bounding_box
    rows, cols = max(int(h * HEIGHT), 2), max(int(w * WIDTH), 2)
    yy, xx = np.mgrid[:rows, :cols]
    # an ellipse filling the box
    detection.mask = ((yy - rows / 2) / (rows / 2)) ** 2 + ((xx - cols / 2) / (cols / 2)) ** 2 <= 1
    return detection


def write_floor_tasks(workload: Workload, dataset: fo.Dataset, path: str) -> None:
    """The floor's input: the labeling config and, per sample, its media and
    the prediction results the plugin's conversion core makes of its labels."""
    fields = field_schemas(workload.label_schema)
    samples = []
    media, ids, widths, heights, values = dataset.values(
        [workload.media_field, "id", "metadata.width", "metadata.height", LABEL_FIELD]
    )
    for medium, sample_id, width, height, value in zip(media, ids, widths, heights, values):
        results, problems = export_sample(
            {LABEL_FIELD: value}, fields, Frame(width, height, sample_id)
        )
        if problems:
            raise AssertionError(f"sample {sample_id}: {problems}")
        samples.append({"media": medium, "sample_id": sample_id, "result": results})
    with open(path, "w") as f:
        json.dump(
            {
                "label_config": labeling_config(fields),
                "image_key": IMAGE_TAG,
                "sample_id_key": SAMPLE_ID,
                "model_version": MODEL_VERSION,
                "samples": samples,
            },
            f,
        )

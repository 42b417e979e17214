"""The benchmark's data, made once per run: PNG files (or mp4 videos made
with ffmpeg), persistent FiftyOne datasets in the run's private database, and
for the floor contender the same tasks (with the same prediction results) as
a JSON file.

Import it only after FiftyOne's environment is set (it imports ``fiftyone``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone

import fiftyone as fo
import numpy as np
from fiftyone_labelstudio.backend.dataset_io import read_samples
from fiftyone_labelstudio.backend.tasks import FPS, MODEL_VERSION, SAMPLE_ID
from fiftyone_labelstudio.conversions import (
    IMAGE_TAG,
    VIDEO_TAG,
    export_sample,
    field_schemas,
    labeling_config,
)
from PIL import Image, ImageDraw

WIDTH, HEIGHT = 200, 100
VIDEO_SIZE, VIDEO_FPS = (64, 36), 30
LABEL_FIELD = "ground_truth"
FRAME_FIELD = "frames.detections"
TRACKS_PER_VIDEO = 10
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
        edit: what the annotator does before the load (``annotator.EDITS``):
            ``"accept"`` every prediction, ``"review"`` (one box per task
            moved), ``"mixed"`` (10% of boxes moved, 5% deleted, 5% added)
            or, for videos, ``"keyframes"`` (one keyframe per track moved)
        frames: frames per video, for a video workload (``size`` videos
            with :data:`TRACKS_PER_VIDEO` tracks on every frame, in
            :data:`FRAME_FIELD`); 0 for images
    """

    name: str
    size: int
    label_type: str
    media: str
    contenders: tuple[str, ...]
    phases: tuple[str, ...]
    repeats: int
    edit: str = "accept"
    frames: int = 0

    @property
    def slug(self) -> str:
        # short: FiftyOne's built-in backend names its project FiftyOne_<dataset>,
        # and Label Studio refuses titles over 50 characters
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower().replace(",", "")).strip("-")

    @property
    def label_field(self) -> str:
        return FRAME_FIELD if self.frames else LABEL_FIELD

    @property
    def label_schema(self) -> dict:
        return {self.label_field: {"type": self.label_type, "classes": CLASSES}}

    @property
    def media_size(self) -> tuple[int, int]:
        return VIDEO_SIZE if self.frames else (WIDTH, HEIGHT)

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


def write_videos(folder: str, count: int, frames: int) -> list[str]:
    """``count`` tiny H.264 test-pattern mp4s of ``frames`` frames (ffmpeg's
    ``testsrc``, :data:`VIDEO_SIZE` at :data:`VIDEO_FPS`, ~16 kbit/s) in
    ``folder``; files already there are kept."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(count):
        path = os.path.join(folder, f"video_{i:04d}.mp4")
        if not os.path.exists(path):
            subprocess.run(
                [
                    "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", f"testsrc=size={VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}:rate={VIDEO_FPS}",
                    "-frames:v", str(frames), "-c:v", "libx264", "-b:v", "16k",
                    "-pix_fmt", "yuv420p", path + ".part.mp4",
                ],
                check=True,
            )  # fmt: skip
            os.replace(path + ".part.mp4", path)
        paths.append(path)
    return paths


def build_dataset(workload: Workload, paths: list[str] | None) -> fo.Dataset:
    """The workload's persistent dataset: one sample per path (or per URL for
    ``media="url"``, which needs no files), with metadata computed."""
    if fo.dataset_exists(workload.dataset_name):
        fo.delete_dataset(workload.dataset_name)
    dataset = fo.Dataset(workload.dataset_name, persistent=True)
    if workload.frames:
        _add_videos(dataset, paths, workload.frames)
        return dataset
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


def _add_videos(dataset: fo.Dataset, paths: list[str], frames: int) -> None:
    """One sample per video, each with :data:`TRACKS_PER_VIDEO` tracks
    (``index`` 1, 2, ...) crossing the picture on every frame. The frames are
    inserted as FiftyOne stores them (building 450,000 ``Detection`` objects
    would take minutes), then metadata is computed (ffprobe)."""
    from bson import ObjectId

    dataset.add_samples([fo.Sample(filepath=path) for path in paths], progress=False)
    dataset.add_frame_field(
        FRAME_FIELD.split(".", 1)[1], fo.EmbeddedDocumentField, embedded_doc_type=fo.Detections
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for seed, sample_id in enumerate(dataset.values("_id")):
        rng = np.random.default_rng(seed)
        tracks = [(rng.uniform(0, 0.6, 2), rng.uniform(0.1, 0.3, 2), rng.uniform(-0.3, 0.3, 2)) for _ in range(TRACKS_PER_VIDEO)]  # fmt: skip
        docs = []
        for n in range(1, frames + 1):
            boxes = []
            for index, ((x, y), (w, h), (dx, dy)) in enumerate(tracks, 1):
                t = n / frames
                box = [np.clip(x + dx * t, 0, 1 - w), np.clip(y + dy * t, 0, 1 - h), w, h]
                boxes.append({
                    "_id": ObjectId(), "_cls": "Detection", "attributes": {}, "tags": [],
                    "label": CLASSES[index % len(CLASSES)],
                    "bounding_box": [float(v) for v in box], "index": index,
                })  # fmt: skip
            docs.append({
                "frame_number": n, "_sample_id": sample_id, "_dataset_id": dataset._doc.id,
                "created_at": now, "last_modified_at": now,
                FRAME_FIELD.split(".", 1)[1]: {"_cls": "Detections", "detections": boxes},
            })  # fmt: skip
        dataset._frame_collection.insert_many(docs)
    dataset.compute_metadata(progress=False)


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
    """The floor's input: the labeling config and, per sample, its media,
    task data and the prediction results the plugin's conversion core makes
    of its labels (read as the plugin reads them)."""
    fields = field_schemas(workload.label_schema)
    samples = []
    ids, media = dataset.values(["id", workload.media_field])
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        read = read_samples(dataset, chunk, fields)
        for sample_id, medium in zip(chunk, media[start : start + 1000]):
            frame = read[sample_id].frame(sample_id)
            results, problems = export_sample(read[sample_id].values, fields, frame)
            if problems:
                raise AssertionError(f"sample {sample_id}: {problems}")
            data = {SAMPLE_ID: sample_id, **({FPS: frame.fps} if frame.fps else {})}
            samples.append({"media": medium, "data": data, "result": results})
    with open(path, "w") as f:
        json.dump(
            {
                "label_config": labeling_config(
                    fields, VIDEO_TAG if workload.frames else IMAGE_TAG
                ),
                "media_key": VIDEO_TAG if workload.frames else IMAGE_TAG,
                "model_version": MODEL_VERSION,
                "samples": samples,
            },
            f,
        )

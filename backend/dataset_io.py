"""Reading a run's samples from the dataset and writing loaded labels back, in
bulk.

Reads are raw (no FiftyOne documents are built: ~0.25 ms a label) and writes
are one ``set_values`` per field with the documents as FiftyOne stores them,
so that a load costs a database round trip per field, not a read and a save
per sample. Grouped datasets are read and written across all their slices.
A video's frame-level field (``frames.<name>``) is read and written as
``{frame number: labels}`` per sample.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from functools import partial
from typing import Any, Mapping, Sequence

import fiftyone.core.fields as fof
import fiftyone.core.labels as fol
import fiftyone.core.media as fom
import fiftyone.utils.annotations as foua

from ..conversions import IMAGE_TAG, VIDEO_TAG, FieldSchema, Frame
from .stored_labels import StoredLabels, raw_label, stored_value


def all_slices(collection):
    """The collection, with every group slice of a grouped dataset."""
    if collection.media_type == fom.GROUP:
        return collection.select_group_slices(_allow_mixed=True)
    return collection


def label_class(label_type: str) -> type | None:
    """FiftyOne's class for a label type of a label schema (None for scalars).

    Example:
        >>> label_class("detections").__name__, label_class("scalar")
        ('Detections', None)
    """
    return _TEMPORAL.get(label_type) or foua._LABEL_TYPES_MAP.get(label_type)


_TEMPORAL = {
    "temporal_detection": fol.TemporalDetection,
    "temporal_detections": fol.TemporalDetections,
}
"""Label types FiftyOne's annotation API does not know (see :func:`.annotate.annotate`)."""


@dataclass
class SampleValues:
    """One sample as a load reads it: its media's size and field values
    (raw); for a video, its frame count, frame rate and ``{frame number:
    frame id}`` too; when it was last modified (FiftyOne's
    ``last_modified_at``, naive UTC). ``originals``: its labels as the
    conversion core takes them, once indexed (see ``loading.index_labels``)."""

    width: int | None
    height: int | None
    values: dict[str, Any]
    frames_count: int = 0
    fps: float = 0.0
    frame_ids: dict[int, str] = dataclass_field(default_factory=dict)
    modified_at: datetime | None = None
    originals: dict[str, Any] | None = dataclass_field(default=None, repr=False, compare=False)

    def frame(self, sample_id: str) -> Frame:
        """The :class:`conversions.Frame` of the sample's task."""
        tag = VIDEO_TAG if self.fps else IMAGE_TAG
        return Frame(self.width or 0, self.height or 0, sample_id, tag, self.frames_count, self.fps)


_VIDEO_METADATA = (
    "metadata.frame_width",
    "metadata.frame_height",
    "metadata.total_frame_count",
    "metadata.frame_rate",
)


def read_samples(
    dataset, sample_ids: Sequence[str], fields: Sequence[FieldSchema]
) -> dict[str, SampleValues]:
    """``{sample id: SampleValues}`` of the given samples of ``dataset`` (all
    group slices), for the fields that exist; labels are read raw, as
    :class:`~.stored_labels.StoredLabel`, a frame-level field's as
    ``{frame number: labels}``."""
    collection = all_slices(dataset)
    types = {f.name: label_class(f.label_type) for f in fields if collection.has_field(f.name)}
    video = collection.media_type == fom.VIDEO
    size = _VIDEO_METADATA if video else ("metadata.width", "metadata.height")
    frames = ["frames.frame_number", "frames.id"] if video else []
    columns = collection.select(sample_ids).values(
        ["id", "last_modified_at", *size, *frames, *types], _raw=True
    )
    read = {}
    for sample_id, modified_at, *row in zip(*columns):
        media, row = row[: len(size)], row[len(size) :]
        numbers, frame_ids, row = (row[0], row[1], row[2:]) if video else ((), (), row)
        stored = {}
        for (name, document_type), value in zip(types.items(), row):
            if name.startswith("frames."):
                stored[name] = {
                    n: labels
                    for n, v in zip(numbers, value)
                    if (labels := stored_value(v, document_type))
                }
            else:
                stored[name] = stored_value(value, document_type)
        ids = {n: str(i) for n, i in zip(numbers, frame_ids)}
        frames_count, fps = media[2:] or (0, 0.0)
        read[str(sample_id)] = SampleValues(
            *media[:2], stored, frames_count, fps, ids, modified_at=modified_at
        )
    return read


def ensure_metadata(dataset, sample_ids: Sequence[str], frames: bool = True) -> None:
    """Computes the metadata of those of the samples whose media size (of a
    video, also frame count and rate) is not known, as FiftyOne does (reading
    the image; ``ffprobe`` for a video), not of the whole view; gives a video
    a frame document for each of its frames (FiftyOne's ``ensure_frames()``),
    which the run's ``id_map`` names its labels by (unless ``frames`` is False)."""
    samples = all_slices(dataset).select(sample_ids)
    video = samples.media_type == fom.VIDEO
    unsized = samples.exists("metadata.total_frame_count" if video else "metadata.width", False)
    if len(unsized):
        unsized.compute_metadata(overwrite=True)
    if video and frames:
        ids, numbers, totals = samples.values(
            ["id", "frames.frame_number", "metadata.total_frame_count"]
        )
        short = [i for i, n, t in zip(ids, numbers, totals) if len(n) < (t or 0)]
        if short:
            samples.select(short).ensure_frames()


def write_field(dataset, field: str, label_type: str, values: Mapping[str, Any]) -> None:
    """Sets ``field`` of the given samples (all group slices) to ``values``:
    ``{sample id: labels}`` (a list of labels for a label list type, a label
    or None for a single-label type), ``{sample id: scalar}``, or for a
    frame-level field ``{sample id: {frame number: labels}}`` (only those
    frames are written), in one bulk write. The field is created with its
    label type if it does not exist."""
    if not values:
        return
    collection = all_slices(dataset)
    document_type = label_class(label_type)
    if document_type is None:
        collection.set_values(field, dict(values), key_field="id")
        return
    if not collection.has_field(field):
        if field.startswith("frames."):
            add = partial(dataset.add_frame_field, field[len("frames.") :])
        else:
            add = partial(dataset.add_sample_field, field)
        add(fof.EmbeddedDocumentField, embedded_doc_type=document_type)
    if field.startswith("frames."):
        raw = {
            sample_id: {n: _raw_value(document_type, labels) for n, labels in frames.items()}
            for sample_id, frames in values.items()
        }
    else:
        raw = {sample_id: _raw_value(document_type, labels) for sample_id, labels in values.items()}
    # documents serialized by FiftyOne itself: nothing left to validate
    collection.set_values(field, raw, key_field="id", validate=False)


def _raw_value(document_type: type, labels: Any) -> dict | None:
    if not issubclass(document_type, fol._HasLabelList):
        return None if labels is None else raw_label(labels)
    container = getattr(labels, "doc", None)
    doc = dict(container) if container else document_type().to_mongo().to_dict()
    doc.setdefault("_cls", document_type.__name__)
    doc[document_type._LABEL_LIST_FIELD] = [raw_label(label) for label in labels]
    return doc


_MASK_DIGEST = re.compile(r"-[0-9a-f]{12}$")


def settle_mask_file(label: Any) -> None:
    """Where an edited label keeps its mask on disk (``mask_path``), writes
    the new mask to a file of its own beside the old one and points the
    label at it, as FiftyOne's ``export_mask(update=True)`` does: no label is
    left pointing at a stale file, and the old file (which clones of the
    dataset may share) is not overwritten. Loading twice writes the same file."""
    if not isinstance(label, fol.Label) or label.get_field("mask") is None:
        return
    old = label.get_field("mask_path") if label.has_field("mask_path") else None
    if not old:
        return
    mask = label.mask
    digest = hashlib.sha1(f"{mask.shape}{mask.dtype}".encode() + mask.tobytes()).hexdigest()
    stem = _MASK_DIGEST.sub("", os.path.splitext(os.path.basename(old))[0])
    path = os.path.join(os.path.dirname(old), f"{stem}-{digest[:12]}.png")
    label.export_mask(path, update=True, overwrite_path=True)


def as_stored_list(labels: Sequence[Any], like: Any = None) -> StoredLabels:
    """``labels`` as a list that keeps the container document of ``like``."""
    return StoredLabels(labels, getattr(like, "doc", None))

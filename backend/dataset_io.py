"""Reading a run's samples from the dataset and writing loaded labels back, in
bulk.

Reads are raw (no FiftyOne documents are built: ~0.25 ms a label) and writes
are one ``set_values`` per field with the documents as FiftyOne stores them,
so that a load costs a database round trip per field, not a read and a save
per sample. Grouped datasets are read and written across all their slices.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import fiftyone.core.fields as fof
import fiftyone.core.labels as fol
import fiftyone.core.media as fom
import fiftyone.utils.annotations as foua

from ..conversions import FieldSchema
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
    return foua._LABEL_TYPES_MAP.get(label_type)


@dataclass
class SampleValues:
    """One sample as a load reads it: its image size and field values (raw)."""

    width: int | None
    height: int | None
    values: dict[str, Any]


def read_samples(
    dataset, sample_ids: Sequence[str], fields: Sequence[FieldSchema]
) -> dict[str, SampleValues]:
    """``{sample id: SampleValues}`` of the given samples of ``dataset`` (all
    group slices), for the fields that exist; labels are read raw, as
    :class:`~.stored_labels.StoredLabel`."""
    collection = all_slices(dataset)
    types = {f.name: label_class(f.label_type) for f in fields if collection.has_field(f.name)}
    columns = collection.select(sample_ids).values(
        ["id", "metadata.width", "metadata.height", *types], _raw=True
    )
    read = {}
    for sample_id, width, height, *values in zip(*columns):
        stored = {name: stored_value(v, types[name]) for name, v in zip(types, values)}
        read[str(sample_id)] = SampleValues(width, height, stored)
    return read


def ensure_image_sizes(dataset, sample_ids: Sequence[str]) -> None:
    """Computes the metadata of those of the samples whose image size is not
    known (as FiftyOne does, reading the image), not of the whole view."""
    unsized = all_slices(dataset).select(sample_ids).exists("metadata.width", False)
    if len(unsized):
        unsized.compute_metadata(overwrite=True)


def write_field(dataset, field: str, label_type: str, values: Mapping[str, Any]) -> None:
    """Sets ``field`` of the given samples (all group slices) to ``values``:
    ``{sample id: labels}`` (a list of labels for a label list type, a label
    or None for a single-label type) or ``{sample id: scalar}``, in one bulk
    write. The field is created with its label type if it does not exist."""
    if not values:
        return
    collection = all_slices(dataset)
    document_type = label_class(label_type)
    if document_type is None:
        collection.set_values(field, dict(values), key_field="id")
        return
    if not collection.has_field(field):
        dataset.add_sample_field(field, fof.EmbeddedDocumentField, embedded_doc_type=document_type)
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

"""Pure FiftyOne <-> Label Studio mapping: no I/O, no server.

One module per label family, each with both directions side by side:
``classification``, ``detection``, ``instance``, ``polyline``, ``keypoint``,
``scalar``, ``segmentation``, and for videos ``video`` (tracks) and
``temporal``; ``attributes`` are per-region controls, ``geometry`` the
coordinate rules; ``rle`` is Label Studio's brush codec, ``schema`` builds
the labeling config and ``sample`` converts all fields of one sample.
"""

from .base import IMAGE_TAG, VIDEO_TAG, FieldSchema, Frame, Problem
from .sample import LoadedSample, Unexpected, export_sample, labels_of, load_sample
from .schema import (
    LABEL_TYPES,
    SCALAR_TYPES,
    family_of,
    field_schemas,
    has_control,
    labeling_config,
)

__all__ = [
    "IMAGE_TAG",
    "VIDEO_TAG",
    "LABEL_TYPES",
    "SCALAR_TYPES",
    "FieldSchema",
    "Frame",
    "LoadedSample",
    "Problem",
    "Unexpected",
    "export_sample",
    "family_of",
    "field_schemas",
    "has_control",
    "labeling_config",
    "labels_of",
    "load_sample",
]

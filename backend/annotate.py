"""Requesting annotations of every label type this backend maps, including
those FiftyOne's ``annotate()`` refuses because they exist only in videos
(``temporal_detection(s)``, FiftyOne's ``_RETURN_TYPES_MAP`` lacks them).

A request without such a type is FiftyOne's own ``samples.annotate()``; one
with them builds the rest of the schema as FiftyOne does, adds the temporal
fields, and runs the same steps FiftyOne runs (register, upload, save), so
the run is an ordinary annotation run of the dataset. Either way, the
attributes ``attributes=True`` finds on existing fields are found first by
one aggregation (:func:`.label_fields.existing_attributes`), so that FiftyOne
does not build every label to find them.
"""

from __future__ import annotations

from typing import Any, Mapping

import fiftyone.core.labels as fol
import fiftyone.core.media as fom
import fiftyone.utils.annotations as foua

from ..conversions.schema import VIDEO_TYPES, schema_problem
from .label_fields import existing_attributes, existing_fields

BACKEND = "labelstudio"
_TEMPORAL_TYPES = {
    fol.TemporalDetection: "temporal_detection",
    fol.TemporalDetections: "temporal_detections",
}


def annotate(
    samples,
    anno_key: str,
    label_schema: Mapping[str, Mapping[str, Any]] | None = None,
    label_field: str | None = None,
    label_type: str | None = None,
    classes: list | None = None,
    launch_editor: bool = False,
    **kwargs,
):
    """``samples.annotate(anno_key, backend="labelstudio", ...)`` that also
    takes temporal detections (``TimelineLabels`` on the video).

    Args:
        samples: a dataset or view
        anno_key: the run's key
        label_schema, label_field, label_type, classes: as FiftyOne's
            ``annotate()``; a temporal field's classes default to those its
            labels hold
        launch_editor (False): open the project in a browser afterwards
        **kwargs: the rest of FiftyOne's ``annotate()`` parameters and the
            backend's (``url``, ``api_key``, ``project_name``, ...);
            ``backend`` may be given, as ``"labelstudio"``

    Returns:
        the run's ``LabelStudioAnnotationResults``

    Raises:
        ValueError: naming the field (or ``backend``) and the fix, before
            anything is made
    """
    asked = kwargs.pop("backend", BACKEND)
    if asked != BACKEND:
        raise ValueError(
            f"backend={asked!r}: this function annotates in Label Studio "
            f"(backend={BACKEND!r}); for another backend call samples.annotate()"
        )
    schema = label_schema
    if schema is None and label_field is not None:
        schema = {label_field: {"type": label_type, "classes": classes}}
        schema = {label_field: {k: v for k, v in schema[label_field].items() if v is not None}}
    if isinstance(schema, Mapping) and kwargs.get("attributes", True) is True:
        schema = {name: _with_attributes(samples, name, info) for name, info in schema.items()}
        label_field = label_type = classes = None
    temporal = {
        name: dict(info or {})
        for name, info in (schema or {}).items()
        if _type_of(samples, name, info or {}) in VIDEO_TYPES
    }
    if not temporal:
        return samples.annotate(
            anno_key,
            label_schema=schema,
            label_field=label_field,
            label_type=label_type,
            classes=classes,
            launch_editor=launch_editor,
            backend=BACKEND,
            **kwargs,
        )
    if samples.media_type != fom.VIDEO:
        name = next(iter(temporal))
        raise ValueError(
            f"label_schema['{name}']: temporal detections belong to videos, and these samples "
            f"are {samples.media_type}s; annotate a video dataset, or another label type"
        )
    attributes = kwargs.pop("attributes", True)
    mask_targets = kwargs.pop("mask_targets", None)
    flags = [
        kwargs.pop(name, True)
        for name in (
            "allow_additions",
            "allow_deletions",
            "allow_label_edits",
            "allow_index_edits",
            "allow_spatial_edits",
        )
    ]
    config = foua._parse_config(BACKEND, None, **kwargs)
    backend = config.build()
    backend.ensure_requirements()
    built = {}
    rest = {name: info for name, info in schema.items() if name not in temporal}
    if rest:
        built, samples = foua._build_label_schema(
            samples, backend, rest, None, None, None, attributes, mask_targets, *flags
        )
    for name, info in temporal.items():
        built[name] = _temporal_info(samples, name, info)
    problem = schema_problem(built, existing_fields(samples, built), samples.media_type)
    if problem:
        raise ValueError(problem)
    config.label_schema = built
    backend.register_run(samples, anno_key, overwrite=False)
    results = backend.upload_annotations(samples, anno_key, launch_editor=launch_editor)
    results._finalize_id_map()
    backend.save_run_results(samples, anno_key, results)
    return results


def _with_attributes(samples, name: str, info) -> Any:
    """A field's schema entry with the attributes FiftyOne's
    ``attributes=True`` would find on its labels, where it leaves them open."""
    if not isinstance(info, Mapping) or "attributes" in info:
        return info
    if info.get("type") in ("scalar", "segmentation", *VIDEO_TYPES):
        return info
    found = existing_attributes(samples, name)
    return info if found is None else {**info, "attributes": found}


def _type_of(samples, name: str, info: Mapping) -> str | None:
    """A field's label type: the schema's, else its existing field's."""
    if info.get("type"):
        return info["type"]
    field = samples.get_field(name) if isinstance(name, str) and name else None
    document_type = getattr(field, "document_type", None)
    return _TEMPORAL_TYPES.get(document_type)


def _temporal_info(samples, name: str, info: Mapping) -> dict:
    """A temporal field's schema entry, as FiftyOne builds one for other types."""
    existing = samples.get_field(name) is not None
    classes = info.get("classes")
    if not classes and existing:
        classes = sorted(c for c in samples.distinct(_label_path(samples, name)) if c is not None)
    return {
        "type": _type_of(samples, name, info),
        "classes": list(classes or []),
        "attributes": {},
        "existing_field": existing,
    }


def _label_path(samples, name: str) -> str:
    _, path = samples._get_label_field_path(name, "label")
    return path

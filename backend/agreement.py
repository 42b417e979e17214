"""How far annotators agree: each pair's labels of a field, compared with
FiftyOne's own evaluation methods on the samples both annotated (one as
ground truth, the other as predictions), for the load report and the panel."""

from __future__ import annotations

import itertools
import logging
from typing import Any, Sequence

from .dataset_io import all_slices

logger = logging.getLogger(__name__)

_DETECTION_TYPES = {
    "detection": {},
    "detections": {},
    "instance": {"use_masks": True},
    "instances": {"use_masks": True},
    "polygon": {},
    "polygons": {},
    "polyline": {},
    "polylines": {},
    "keypoint": {},
    "keypoints": {},
}


def measure(dataset, targets: Sequence, loads) -> dict:
    """``{field: {"<annotator> vs <annotator>": metrics}}`` for every pair of
    annotators of each field (``targets`` of ``annotation_choice="all"``),
    on the samples both annotated; a pair FiftyOne cannot evaluate has its
    ``error`` instead."""
    fields: dict[str, dict[str, str]] = {}
    kinds: dict[str, str] = {}
    for target in targets:
        fields.setdefault(target.source.name, {})[target.annotator] = target.dest
        kinds[target.source.name] = target.source.label_type
    report: dict[str, dict] = {}
    for name, dests in fields.items():
        for first, second in itertools.combinations(sorted(dests), 2):
            both = [
                sample_id
                for sample_id, load in loads.samples.items()
                if first in load.by_annotator and second in load.by_annotator
            ]
            if not both:
                continue
            view = all_slices(dataset).select(both)
            pair = f"{first} vs {second}"
            try:
                metrics = evaluate(view, kinds[name], dests[first], dests[second])
            except Exception as error:  # FiftyOne's evaluation of this label type
                logger.warning("Cannot compare %s on '%s': %s", pair, name, error)
                metrics = {"error": str(error)}
            report.setdefault(name, {})[pair] = {"samples": len(both), **metrics}
    return report


def evaluate(view, label_type: str, gt_field: str, pred_field: str) -> dict[str, Any]:
    """FiftyOne's metrics of ``pred_field`` against ``gt_field`` (nothing is
    stored on the dataset: no evaluation key)."""
    if label_type in _DETECTION_TYPES:
        results = view.evaluate_detections(
            pred_field, gt_field=gt_field, **_DETECTION_TYPES[label_type]
        )
    elif label_type in ("classification", "classifications"):
        results = view.evaluate_classifications(pred_field, gt_field=gt_field)
    elif label_type == "segmentation":
        results = view.evaluate_segmentations(pred_field, gt_field=gt_field)
    else:
        return {"error": f"FiftyOne has no evaluation for {label_type} fields"}
    return {k: float(v) for k, v in results.metrics().items() if v is not None}

"""What a run sent each task with, and whether an annotation left a label
as it was sent: a load keeps a label edited in FiftyOne since the request
where the annotator did not touch it."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

from ..conversions.base import split_region_id
from .tasks import MODEL_VERSION


class SentResults:
    """The results each task's labels were sent as: those of the predictions
    this plugin imported with it (``existing_labels="predictions"``).

    A snapshot export and the tasks API give predictions whole; Label
    Studio's synchronous export gives only their ids, and then ``fetch()``,
    ``{task id: [prediction]}`` of the project, is called once, when first
    needed.

    Example:
        >>> box = {"id": "a" * 24, "from_name": "gt", "value": {"x": 10.0}}
        >>> sent = SentResults(lambda: {7: [{"model_version": MODEL_VERSION, "result": [box]}]})
        >>> sent({"id": 7, "predictions": [3]}) == [box]
        True
    """

    def __init__(self, fetch: Callable[[], Mapping[Any, list]]):
        self._fetch = fetch
        self._fetched: Mapping[Any, list] | None = None

    def __call__(self, task: Mapping) -> list[dict]:
        predictions = task.get("predictions") or []
        if not all(isinstance(p, dict) for p in predictions):
            if self._fetched is None:
                self._fetched = self._fetch()
            predictions = self._fetched.get(task.get("id"), [])
        return [
            result
            for prediction in predictions
            if prediction.get("model_version") == MODEL_VERSION
            for result in prediction.get("result") or []
        ]


def left_as_sent(sent: Sequence[dict], annotation: Mapping) -> Callable[[str], bool]:
    """``(label id) -> bool``: whether ``annotation`` holds a label's regions
    exactly as they were ``sent`` (:class:`SentResults`): the annotator left
    that label alone. Without sent results (``existing_labels="annotations"``,
    where the annotator edits the sent annotation itself) it is always False.

    Example:
        >>> box = {"id": "a" * 24, "from_name": "gt", "value": {"x": 10.0}}
        >>> moved = {**box, "value": {"x": 20.0}}
        >>> left_as_sent([box], {"result": [box]})("a" * 24), left_as_sent([box], {"result": [moved]})("a" * 24)
        (True, False)
    """
    sent_regions = _regions_by_label(sent)
    loaded_regions = _regions_by_label(annotation.get("result") or [])

    def check(label_id: str) -> bool:
        regions = sent_regions.get(label_id)
        return bool(regions) and regions == loaded_regions.get(label_id)

    return check


def _regions_by_label(results: Iterable) -> dict[str, dict]:
    """``{label id: {(control, region id): value}}`` of the results of the
    regions this plugin sent (those whose region ids hold a label id)."""
    by_label: dict[str, dict] = {}
    for result in results:
        if isinstance(result, dict) and isinstance(result.get("value"), dict):
            region_id = str(result.get("id"))
            label_id, _ = split_region_id(region_id)
            if label_id is not None:
                regions = by_label.setdefault(label_id, {})
                regions[result.get("from_name"), region_id] = result["value"]
    return by_label

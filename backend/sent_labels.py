"""What a run's fields last got of each label from Label Studio, and
whether an annotation still holds it so: a load keeps a label edited in
FiftyOne since then, where the annotator did not touch it.

A label's reference is the version of its regions the field last got: the
one the last load that wrote it was given (a :func:`fingerprint`, which the
run keeps per field), else the one the run sent (the task's predictions).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Iterable, Mapping

from ..conversions.base import split_region_id
from .tasks import MODEL_VERSION, SENT_IMPORT_ID


class SentResults:
    """The results each task's labels were sent as: those of the predictions
    this plugin imported with it (``existing_labels="predictions"``), or of
    the annotation it imported (``"annotations"``) while nobody has updated
    it since (once updated, what was sent is not known).

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
        sent = [
            result
            for prediction in predictions
            if prediction.get("model_version") == MODEL_VERSION
            for result in prediction.get("result") or []
        ]
        if sent:
            return sent
        imported = (a for a in task.get("annotations") or [] if _imported_as_is(a))
        return next((a.get("result") or [] for a in imported), [])


def _imported_as_is(annotation: Mapping) -> bool:
    """Whether an annotation is the one a request imported, not updated
    since: Label Studio imports annotations without an ``updated_by``, and
    sets it on every update (a time would not tell: a script may update an
    annotation within the second it was imported).

    Example:
        >>> a = {"import_id": SENT_IMPORT_ID, "updated_by": None}
        >>> _imported_as_is(a), _imported_as_is({**a, "updated_by": 1}), _imported_as_is({"import_id": SENT_IMPORT_ID})
        (True, False, False)
    """
    return (
        annotation.get("import_id") == SENT_IMPORT_ID
        and not annotation.get("was_cancelled")
        and "updated_by" in annotation
        and annotation["updated_by"] is None
    )


class LeftAlone:
    """Whether ``annotation`` holds a label's regions as its field last got
    them: as the last load that wrote the label was given them
    (``written``: ``{field: {label id: fingerprint}}``), else as they were
    sent (``sent()``, asked for only then). A label drawn by the annotator
    was never sent: it is left alone only once a load wrote it.
    ``label_id(result)``: the FiftyOne id a result's region loads as (by
    default, the label id its region id holds).

    Example:
        >>> box = {"id": "a" * 24, "from_name": "gt", "value": {"x": 10.0}}
        >>> moved = {**box, "value": {"x": 20.0}}
        >>> LeftAlone({"result": [box]}, lambda: [box], {})("gt", "a" * 24)
        True
        >>> alone = LeftAlone({"result": [moved]}, lambda: [box], {})
        >>> alone("gt", "a" * 24), LeftAlone({"result": [moved]}, list, {"gt": {"a" * 24: alone.fingerprint("a" * 24)}})("gt", "a" * 24)
        (False, True)
    """

    def __init__(
        self,
        annotation: Mapping,
        sent: Callable[[], list],
        written: Mapping,
        label_id: Callable[[dict], str | None] | None = None,
    ):
        self._regions = regions_by_label(annotation.get("result") or [], label_id)
        self._sent_results = sent
        self._sent: dict | None = None
        self._written = written

    def __call__(self, field: str, label_id: str) -> bool:
        regions = self._regions.get(label_id)
        if not regions:
            return False
        written = self._written.get(field, {}).get(label_id)
        if written is not None:
            return fingerprint(regions) == written
        if self._sent is None:
            self._sent = regions_by_label(self._sent_results())
        return regions == self._sent.get(label_id)

    def fingerprint(self, label_id: str) -> str | None:
        """The :func:`fingerprint` of the label's regions in the annotation."""
        regions = self._regions.get(label_id)
        return fingerprint(regions) if regions else None


def fingerprint(regions: Mapping[tuple, Any]) -> str:
    """16 hex digits that differ when a label's regions (from
    :func:`regions_by_label`) differ in anything, and match when they match.

    Example:
        >>> a = {("gt", "r1"): {"x": 1.0, "y": 2.0}}
        >>> fingerprint(a) == fingerprint({("gt", "r1"): {"y": 2.0, "x": 1.0}}), len(fingerprint(a))
        (True, 16)
    """
    text = json.dumps(
        sorted([[*key, value] for key, value in regions.items()], key=str), sort_keys=True
    )
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def regions_by_label(
    results: Iterable, label_id: Callable[[dict], str | None] | None = None
) -> dict[str, dict]:
    """``{label id: {(control, region id): value}}`` of the results of
    regions, by the label each loads as (``label_id(result)``; by default the
    label id its region id holds, as those this plugin sent do)."""
    label_id = label_id or (lambda result: split_region_id(str(result.get("id")))[0])
    by_label: dict[str, dict] = {}
    for result in results:
        if isinstance(result, dict) and isinstance(result.get("value"), dict):
            key = label_id(result)
            if key is not None:
                regions = by_label.setdefault(key, {})
                regions[result.get("from_name"), str(result.get("id"))] = result["value"]
    return by_label

"""Labels read as FiftyOne stores them, without building FiftyOne documents.

Building a FiftyOne label from the database costs ~0.2 ms (mongoengine
validates every field): 4.7 s for 2,000 samples of 10 boxes, against 0.06 s to
read the same values raw. A :class:`StoredLabel` answers what the conversion
core asks of a label straight from the stored document, and becomes a FiftyOne
label only where one is needed: a label that was edited, or that goes back
into the dataset.
"""

from __future__ import annotations

from typing import Any

import fiftyone.core.labels as fol
import fiftyone.core.utils as fou


def _stored(name: str, default: Any = None) -> property:
    """A read-only attribute answered from the stored document."""
    return property(lambda self: self._doc.get(name, default), doc=f"the stored ``{name}``")


class StoredLabel:
    """A label's stored document, read like a FiftyOne label.

    Example:
        >>> stored = StoredLabel({"_id": "5f3c5f3c5f3c5f3c5f3c5f3c", "_cls": "Detection", "label": "cat"})
        >>> stored.id, stored.label
        ('5f3c5f3c5f3c5f3c5f3c5f3c', 'cat')
    """

    __slots__ = ("_doc", "_mask")

    def __init__(self, doc: dict):
        self._doc = doc
        self._mask = None

    @property
    def id(self) -> str:
        return str(self._doc["_id"])

    label = _stored("label")
    bounding_box = _stored("bounding_box")
    confidence = _stored("confidence")
    points = _stored("points")
    closed = _stored("closed", False)
    filled = _stored("filled", False)

    @property
    def mask(self):
        if self._mask is None:
            stored = self._doc.get("mask")
            if stored is not None:
                self._mask = fou.deserialize_numpy_array(stored)
            elif self._doc.get("mask_path"):
                self._mask = self.as_label().get_mask()
        return self._mask

    def get_attribute_value(self, name: str, default: Any = None) -> Any:
        return self._doc.get(name, default)

    def has_attribute(self, name: str) -> bool:
        return name in self._doc

    def as_label(self) -> fol.Label:
        """The FiftyOne label, with the same id."""
        return getattr(fol, self._doc["_cls"]).from_dict(self._doc)

    copy = as_label  # what the core's copy_label() calls; it sets the id itself


def stored_value(raw: Any, is_scalar: bool) -> Any:
    """A field's value read raw: a list of :class:`StoredLabel` for label
    lists (``Detections``, ...), one for a single label, or the scalar."""
    if raw is None or is_scalar:
        return raw
    label_class = getattr(fol, raw.get("_cls", ""), None)
    if label_class is not None and issubclass(label_class, fol._HasLabelList):
        return [StoredLabel(doc) for doc in raw.get(label_class._LABEL_LIST_FIELD) or []]
    return StoredLabel(raw)


def as_label(label: Any) -> Any:
    """A FiftyOne label for what the core returned (stored or not)."""
    return label.as_label() if isinstance(label, StoredLabel) else label

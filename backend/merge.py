"""What a load writes into one field of one sample: FiftyOne's merge rules,
as pure functions over the labels the field holds now, the labels the run
knows (sent, or added by earlier loads), and the labels loaded.

FiftyOne's ``load_annotations()`` (``fiftyone.utils.annotations._merge_labels``
and ``_merge_scalars``) decides, for a label field:

- a label the run knows that the annotation lacks is deleted;
- a label the run knows that the annotation holds is replaced by it;
- a label the annotation holds that the run does not know is added (appended
  to a list; into an empty single-label field);
- a label the run does not know that the annotation lacks (added to the
  dataset after the request) stays, and so does its place in the list.

A label that came back untouched into its own field is the very object that
was read, so an unchanged field is mostly recognised without comparing
labels; one loaded into another field (``dest_field``) is compared by
content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .stored_labels import same_label


@dataclass(frozen=True)
class Merged:
    """The field's new labels (in order) and what changed.

    Example:
        >>> Merged(["a"], added=1).changed
        True
    """

    labels: list
    added: int = 0
    edited: int = 0
    deleted: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.edited or self.deleted)


def merge_labels(current: Sequence[Any], known: set[str], loaded: Mapping[str, Any]) -> Merged:
    """Merges ``loaded`` (``{label id: label}``) into a label list field that
    holds ``current``.

    Example:
        >>> from types import SimpleNamespace as L
        >>> kept, old, mine = L(id="k"), L(id="o"), L(id="m")
        >>> new = L(id="n")
        >>> merged = merge_labels([mine, old, kept], {"o", "k"}, {"k": kept, "n": new})
        >>> [label.id for label in merged.labels], merged.added, merged.deleted
        (['m', 'k', 'n'], 1, 1)
        >>> import fiftyone.core.labels as fol  # into a field holding a copy of a run label
        >>> copy = fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.2, 0.2])
        >>> moved = fol.Detection(id=copy.id, label="cat", bounding_box=[0.2, 0.1, 0.2, 0.2])
        >>> merged = merge_labels([copy], set(), {copy.id: moved})
        >>> merged.labels[0] is moved, merged.edited, merged.added
        (True, 1, 0)
    """
    labels, edited, deleted = [], 0, 0
    present = set()
    for label in current:
        present.add(label.id)
        if label.id in loaded:  # the run's, or its copy (same id) in a cloned field
            new = loaded[label.id]
            labels.append(new)
            edited += _edited(new, label)
        elif label.id not in known:
            labels.append(label)
        else:
            deleted += 1
    added = [label for label_id, label in loaded.items() if label_id not in known | present]
    return Merged(labels + added, len(added), edited, deleted)


def merge_label(current: Any, known: set[str], loaded: Mapping[str, Any]) -> Merged:
    """Merges ``loaded`` into a single-label field (``Classification``,
    ``Detection``, ``Segmentation``...) that holds ``current`` (or None); the
    merged value is ``labels[0]``, or None when ``labels`` is empty.

    Example:
        >>> from types import SimpleNamespace as L
        >>> old, new = L(id="o"), L(id="n")
        >>> merged = merge_label(old, {"o"}, {"n": new})
        >>> merged.labels[0].id, merged.added, merged.deleted
        ('n', 1, 1)
    """
    if current is not None and current.id not in known and current.id not in loaded:
        return Merged([current])  # not the run's: a new label cannot replace it
    if current is not None and current.id in loaded:
        new = loaded[current.id]
        return Merged([new], edited=int(_edited(new, current)))
    deleted = int(current is not None)
    first = next(iter(loaded.values()), None)
    if first is None:
        return Merged([], deleted=deleted)
    return Merged([first], added=1, deleted=deleted)


def _edited(new: Any, label: Any) -> bool:
    return new is not label and not same_label(new, label)


def merge_scalar(current: Any, loaded: Any, sent: bool) -> Merged:
    """A scalar field's new value (``labels[0]``, or None when empty): the
    loaded value, or None where the annotation clears a value the run sent.

    Example:
        >>> merge_scalar(3, 5, sent=True).labels, merge_scalar(3, None, sent=False).labels
        ([5], [3])
    """
    if loaded is None:
        if current is None or not sent:
            return Merged([] if current is None else [current])
        return Merged([], deleted=1)
    if current is None:
        return Merged([loaded], added=1)
    return Merged([loaded], edited=int(loaded != current))

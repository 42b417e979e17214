"""Types and helpers shared by every label family.

A Label Studio *result* is one dict of an annotation's or prediction's
``result`` list. Results that share an ``id`` form one *region* (geometry plus,
later, per-region attributes). Every function here is pure: no I/O, no server.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .attributes import apply_attributes, attributes_as_sent
from .geometry import RegionError, points_in_percent

IMAGE_TAG = "image"
"""Name of the ``<Image>`` object tag and of the task data key holding the media URL."""

VIDEO_TAG = "video"
"""Name of the ``<Video>`` object tag and of the task data key holding a video's URL."""

FRAMES_PREFIX = "frames."
"""How FiftyOne names the frame-level fields of a video dataset (``frames.gt``)."""

_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_PART_ID = re.compile(r"^([0-9a-f]{24})_(\d+)$")


@dataclass(frozen=True)
class Frame:
    """The image or video one task shows.

    Args:
        width: image (or video frame) width in pixels (Label Studio's
            ``original_width``)
        height: its height in pixels (``original_height``)
        key: a string unique to this media (the sample id) from which ids of
            regions drawn in Label Studio are derived, so that converting the
            same annotation twice gives the same FiftyOne ids
        tag: the object tag results refer to (``to_name``): ``"image"`` or
            ``"video"``
        frames_count: a video's number of frames (FiftyOne's
            ``metadata.total_frame_count``); 0 for an image
        fps: a video's frame rate (``metadata.frame_rate``), frames per second
    """

    width: int
    height: int
    key: str
    tag: str = IMAGE_TAG
    frames_count: int = 0
    fps: float = 0.0


@dataclass(frozen=True)
class FieldSchema:
    """One field of a FiftyOne label schema, as the core needs it.

    Args:
        name: the label field; also the ``name`` of its Label Studio control
            (the ``from_name`` of its results)
        label_type: a FiftyOne label type string (``"detections"``, ...)
        classes: the class names offered to annotators
        mask_targets: ``{pixel value or "#rrggbb": class}`` for segmentations
        scalar_type: ``"int"``, ``"float"``, ``"str"`` or ``"bool"`` for scalars
        attributes: its labels' attributes, each a per-region control
            (:class:`.attributes.Attribute`), for the label types whose labels
            are regions
        only_keyframes: for a frame-level field of a video, send only the
            frames whose detections FiftyOne marks ``keyframe=True`` (and the
            first and last frame of each span) as Label Studio keyframes
    """

    name: str
    label_type: str
    classes: tuple[str, ...] = ()
    mask_targets: Mapping[Any, str] = field(default_factory=dict)
    scalar_type: str | None = None
    attributes: tuple = ()
    only_keyframes: bool = False

    @property
    def is_frame_field(self) -> bool:
        """Whether it is a frame-level field of a video (``frames.<name>``)."""
        return self.name.startswith(FRAMES_PREFIX)

    @property
    def control(self) -> str:
        """The ``name`` of its Label Studio control (the ``from_name`` of its
        results): the field's name, with ``frames.`` as ``frames_`` (a dot in a
        control name is a path to Label Studio's editor).

        Example:
            >>> FieldSchema("gt", "detections").control, FieldSchema("frames.gt", "detections").control
            ('gt', 'frames_gt')
        """
        return self.name.replace(".", "_")


@dataclass(frozen=True)
class Problem:
    """Something the core could not convert; it was skipped, the rest was not.

    ``region_id`` and ``from_name`` name the Label Studio region when there is
    one, so that the caller can say which task and region it was.
    """

    message: str
    region_id: str | None = None
    from_name: str | None = None


def make_result(
    field: FieldSchema,
    frame: Frame,
    result_type: str,
    value: dict,
    region_id: str,
    score: float | None = None,
) -> dict:
    """Builds one Label Studio result dict for ``field`` on ``frame``.

    Example:
        >>> f = FieldSchema("gt", "classification", ("cat",))
        >>> make_result(f, Frame(4, 3, "s"), "choices", {"choices": ["cat"]}, "r1")["to_name"]
        'image'
    """
    result = {
        "id": region_id,
        "from_name": field.control,
        "to_name": frame.tag,
        "type": result_type,
        "value": value,
        "original_width": frame.width,
        "original_height": frame.height,
        "image_rotation": 0,
    }
    if is_finite_number(score):
        result["score"] = score
    return result


def is_finite_number(value: Any) -> bool:
    """Whether ``value`` is a number JSON can carry (not NaN, not infinite).

    Example:
        >>> is_finite_number(0.5), is_finite_number(float("nan")), is_finite_number(None)
        (True, False, False)
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def part_region_id(label_id: str, part: int) -> str:
    """Region id of part ``part`` (a shape, a point, a class) of one label.

    Example:
        >>> part_region_id("5f3c" * 6, 2)
        '5f3c5f3c5f3c5f3c5f3c5f3c_2'
    """
    return f"{label_id}_{part}"


def split_region_id(region_id: str) -> tuple[str | None, int | None]:
    """Inverse of :func:`part_region_id`: ``(label id, part)``.

    A plain FiftyOne id gives ``(id, None)``; an id Label Studio made gives
    ``(None, None)``.

    Example:
        >>> split_region_id("5f3c" * 6 + "_2")
        ('5f3c5f3c5f3c5f3c5f3c5f3c', 2)
        >>> split_region_id("xK3d9_aQ1z")
        (None, None)
    """
    if _OBJECT_ID.match(region_id):
        return region_id, None
    match = _PART_ID.match(region_id)
    if match:
        return match.group(1), int(match.group(2))
    return None, None


def derived_label_id(frame: Frame, from_name: str, *parts: Any) -> str:
    """A FiftyOne id (24 hex digits) derived from where a region was drawn.

    Regions drawn in Label Studio have ids of their own; hashing them with the
    image and control gives the same FiftyOne id on every load.

    Example:
        >>> derived_label_id(Frame(4, 3, "s1"), "gt", "xK3d9") == derived_label_id(Frame(4, 3, "s1"), "gt", "xK3d9")
        True
    """
    text = "\x1f".join([frame.key, from_name, *map(str, parts)])
    return hashlib.sha1(text.encode()).hexdigest()[:24]


def label_id_of(region_id: str, frame: Frame, from_name: str) -> str:
    """The FiftyOne id of a single-part region: its own id if it came from
    FiftyOne, else one derived from it."""
    label_id, part = split_region_id(region_id)
    if label_id is not None and part is None:
        return label_id
    return derived_label_id(frame, from_name, region_id)


def is_sent_value(values: Sequence[Any], original: Sequence[float] | None) -> bool:
    """Whether percentages from Label Studio are exactly what ``original``
    (relative) was sent as: the geometry is untouched, whatever it holds
    (even a label that pokes out of the image), and loads as it was.

    Example:
        >>> is_sent_value([100 * 0.3, 100 * 1.02], [0.3, 1.02])
        True
    """
    if original is None or len(original) != len(values):
        return False
    return all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 100 * o == v
        for o, v in zip(original, values)
    )


def relative_point(point: Any, original: Sequence[float] | None = None) -> list[float]:
    """A Label Studio ``[x, y]`` in percent as a FiftyOne ``[x, y]`` in [0, 1]:
    the original's own floats when the point is exactly as sent, else checked
    (see :func:`geometry.points_in_percent`) and clipped onto the image.

    Example:
        >>> relative_point([50.0, 100.02])
        [0.5, 1.0]
        >>> relative_point([100 * 1.05, 10.0], [1.05, 0.1])
        [1.05, 0.1]
    """
    if not isinstance(point, (list, tuple)) or len(point) != 2:
        raise RegionError(f"{point!r} is not an [x, y] point")
    if is_sent_value(point, original):
        return list(original)
    [[x, y]] = points_in_percent([point], "point")
    return [float(x) / 100, float(y) / 100]


def one_label(value: dict, key: str) -> str:
    """The single class a labels control chose, e.g. ``value["rectanglelabels"][0]``."""
    labels = value.get(key)
    if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
        raise RegionError(f"'{key}' must hold exactly one class, got {labels!r}")
    return labels[0]


def is_as_sent(
    results: Sequence[dict],
    original: Any,
    export: "Export",
    field: FieldSchema,
    frame: Frame,
    originals: Mapping[str, Any] = {},
) -> bool:
    """Whether results are exactly what exporting ``original`` gives (same
    regions, values and scores): the label came back untouched, and is loaded
    as the very object it was, bit for bit. ``originals``: see
    :func:`sent_results`.

    Example:
        >>> import fiftyone.core.labels as fol
        >>> from conversions.detection import export_detections
        >>> box = fol.Detection(label="cat", bounding_box=[0.1, 0.2, 0.3, 0.4])
        >>> f, frame = FieldSchema("gt", "detections"), Frame(10, 10, "s")
        >>> is_as_sent(export_detections([box], f, frame)[0], box, export_detections, f, frame)
        True
    """
    sent = sent_results(original, export, field, frame, originals)
    return matches_sent(results, sent, original, field)


def sent_results(
    original: Any, export: "Export", field: FieldSchema, frame: Frame, originals: Mapping = {}
) -> list[dict]:
    """The results ``original`` was sent as, ``export([original], field,
    frame)[0]``; made once per label where ``originals`` keep them (in a
    ``sent`` dict, as a load's label index does: it makes them while Label
    Studio exports, see :data:`Family.compares_sent`).

    Example:
        >>> import fiftyone.core.labels as fol
        >>> from conversions.detection import export_detections
        >>> box = fol.Detection(label="cat", bounding_box=[0.1, 0.2, 0.3, 0.4])
        >>> f, frame = FieldSchema("gt", "detections"), Frame(10, 10, "s")
        >>> [r["value"]["x"] for r in sent_results(box, export_detections, f, frame)]
        [10.0]
    """
    made = getattr(originals, "sent", None)
    if made is None:
        return export([original], field, frame)[0]
    key = (export, original.id)  # a label sent by another export is another entry
    if key not in made:
        made[key] = export([original], field, frame)[0]
    return made[key]


def matches_sent(
    results: Sequence[dict], sent: Sequence[dict], original: Any, field: FieldSchema
) -> bool:
    """:func:`is_as_sent` with the results ``original`` was sent as, made
    already."""
    if len(sent) != len(results):
        return False
    by_id = {str(r.get("id")): r for r in results}
    for expected in sent:
        got = by_id.get(expected["id"])
        if got is None or got.get("value") != expected["value"]:
            return False
        if got.get("score") is not None and got.get("score") != expected.get("score"):
            return False
    return attributes_as_sent(original, results, field.attributes)


def untouched_parts(
    results: Sequence[dict],
    originals: Mapping[str, Any],
    export: "Export",
    field: FieldSchema,
    frame: Frame,
) -> tuple[dict[str, Any], list[dict]]:
    """Splits the results of a multi-region family (``<label id>_<part>``
    region ids) into the labels that came back exactly as sent, and the
    results left to convert. Untouched labels are recognised before any
    validation, so a label that pokes out of the image loads as it was.
    """
    groups: dict[str | None, list[dict]] = {}
    for result in results:
        label_id, _ = split_region_id(str(result.get("id") if isinstance(result, dict) else ""))
        groups.setdefault(label_id, []).append(result)
    untouched, rest = {}, []
    for label_id, group in groups.items():
        original = originals.get(label_id) if label_id is not None else None
        if original is not None and is_as_sent(group, original, export, field, frame, originals):
            untouched[label_id] = original
        else:
            rest.extend(group)
    return untouched, rest


def with_attributes(label, parts, field: FieldSchema, original, problems: list) -> bool:
    """Sets the attribute values of a label made of several regions (see
    :func:`.attributes.apply_attributes`); a value no attribute can hold is a
    problem, and then False (the label is kept as it was)."""
    try:
        apply_attributes(label, [part.result for part in parts], field.attributes, original)
    except RegionError as error:
        problems.append(Problem(str(error), parts[0].result.get("id"), field.name))
        return False
    return True


def copy_label(label):
    """A copy of a FiftyOne label that keeps its id (``Label.copy`` makes a new one)."""
    copied = label.copy()
    copied.id = label.id
    return copied


def label_to_edit(original: Any, label_class: type, label_id: str, originals: Mapping = {}):
    """The label a loaded region sets: a copy of ``original`` with its id
    (:func:`copy_label`), or, for a region drawn in Label Studio, a new
    ``label_class`` label with id ``label_id``. Originals that offer a
    ``new_label(label_class, label_id)`` make the new one: a load that reads
    labels raw makes raw documents too (a box made, set and serialized in a
    fifteenth of the time a FiftyOne ``Detection`` takes).

    Example:
        >>> import fiftyone.core.labels as fol
        >>> new = label_to_edit(None, fol.Classification, "5f3c5f3c5f3c5f3c5f3c5f3c")
        >>> type(new).__name__, new.id
        ('Classification', '5f3c5f3c5f3c5f3c5f3c5f3c')
    """
    if original is not None:
        return copy_label(original)
    make = getattr(originals, "new_label", None)
    return make(label_class, label_id) if make is not None else label_class(id=label_id)


MALFORMED = (RegionError, KeyError, TypeError, ValueError, IndexError)
"""What converting a malformed region or label raises."""


def convert_each(
    items: Iterable[Any],
    convert: Callable[[Any], Any],
    describe: Callable[[Any], tuple[str | None, str | None]],
    problems: list[Problem],
) -> list[Any]:
    """Applies ``convert`` to each item, turning a malformed one into a Problem.

    ``describe(item)`` gives the ``(region_id, from_name)`` to report.
    """
    converted = []
    for item in items:
        try:
            converted.append(convert(item))
        except MALFORMED as error:
            region_id, from_name = describe(item)
            reason = f"missing key {error}" if isinstance(error, KeyError) else str(error)
            problems.append(Problem(reason, region_id, from_name))
    return converted


def describe_result(result: Any) -> tuple[str | None, str | None]:
    """``(region id, from_name)`` of a result dict, tolerating malformed ones."""
    if not isinstance(result, dict):
        return None, None
    return result.get("id"), result.get("from_name")


def result_size(result: dict, frame: Frame) -> tuple[int, int]:
    """``(width, height)`` a result's coordinates refer to.

    Label Studio stores the image size on each result; a result that lacks it
    refers to the task's image.
    """
    width = result.get("original_width", frame.width)
    height = result.get("original_height", frame.height)
    for name, size in (("original_width", width), ("original_height", height)):
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise RegionError(f"{name}={size!r} is not a positive integer")
    return width, height


def resize_nearest(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A mask stretched to ``height x width`` by nearest neighbour, as FiftyOne
    stretches masks over boxes and images; returned as is when already that size.

    Example:
        >>> resize_nearest(np.array([[1, 2], [3, 4]]), 2, 4).tolist()
        [[1, 1, 2, 2], [3, 3, 4, 4]]
    """
    if mask.shape[:2] == (height, width):
        return mask
    rows = np.arange(height) * mask.shape[0] // height
    cols = np.arange(width) * mask.shape[1] // width
    return mask[rows[:, None], cols[None, :]]


@dataclass
class Part:
    """One region of a multi-region label (a polyline's shape, a keypoint's point).

    Args:
        label_id: the FiftyOne label it was made from, or None if it was drawn
            in Label Studio
        label: its class
        index: its position in the label (shape or point index); None for a
            region drawn in Label Studio, which keeps its order of appearance
        result: the Label Studio result
        geometry: what the family read from it
    """

    label_id: str | None
    label: str
    index: int | None
    result: dict
    geometry: Any


def regroup(
    parts: Sequence[Part], frame: Frame, from_name: str, originals: Mapping[str, Any]
) -> list[tuple[str, Any, str, list[Part]]]:
    """Puts the parts of each label back together: ``(label id, original label
    or None, class, parts in order)``.

    Parts of one FiftyOne label that kept its class go back into it, and keep
    its id; parts relabelled in Label Studio, and parts drawn there, make
    labels of their own, with ids derived from their regions.
    """
    groups: dict[tuple[str | None, str], list[Part]] = {}
    for part in parts:
        groups.setdefault((part.label_id, part.label), []).append(part)

    def kept_class_first(item) -> bool:
        (label_id, label), _ = item
        original = originals.get(label_id)
        return original is None or original.label != label

    labels, used = [], set()
    for (label_id, label), members in sorted(groups.items(), key=kept_class_first):
        if label_id is None:
            label_id = derived_label_id(frame, from_name, members[0].result.get("id"))
        original = originals.get(label_id)
        if label_id in used:
            label_id, original = derived_label_id(frame, from_name, label_id, label), None
        used.add(label_id)
        members.sort(key=lambda part: -1 if part.index is None else part.index)
        labels.append((label_id, original, label, members))
    return labels


Export = Callable[[list, FieldSchema, Frame], "tuple[list[dict], list[Problem]]"]
Load = Callable[
    [list, FieldSchema, Frame, Mapping[str, Any]], "tuple[dict[str, Any], list[Problem]]"
]


@dataclass(frozen=True)
class Family:
    """How one kind of FiftyOne label maps to one Label Studio control.

    Args:
        control: the control tag (``"RectangleLabels"``)
        result_type: the ``type`` of its results (``"rectanglelabels"``)
        anno_type: FiftyOne's name for what it loads (``"detections"``), as
            ``AnnotationBackend.download_annotations`` returns it
        export: ``(labels, field, frame) -> (results, problems)``; ``labels``
            is the list of labels of one sample's field
        load: ``(results, field, frame, originals) -> ({label id: label}, problems)``;
            ``originals`` maps the ids of the labels this sample had when the run
            was requested (or has now) to the labels, so that what Label Studio
            cannot carry (attributes, instance boxes) comes back unchanged
        choice_tag: the tag of each class in the control (``"Label"``, ``"Choice"``),
            or None when the control lists no classes
        classes: the classes a field offers annotators
        tag_attributes: extra attributes of the control tag for a field
        compares_sent: whether ``load`` compares each original with the
            results it was sent as (:func:`sent_results`), which a load can
            then make ahead
        sends_nothing: whether ``export`` makes no region of a label (a
            keypoint without a visible point): annotators never see it, so
            the run does not record it as sent and no load deletes it
    """

    control: str
    result_type: str
    anno_type: str
    export: Export
    load: Load
    choice_tag: str | None = "Label"
    classes: Callable[[FieldSchema], tuple[str, ...]] = lambda field: field.classes
    tag_attributes: Callable[[FieldSchema], dict] = lambda field: {}
    compares_sent: bool = False
    sends_nothing: Callable[[Any], bool] = lambda label: False

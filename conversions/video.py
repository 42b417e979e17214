"""Frame-level detections (tracks) <-> ``VideoRectangle``.

A track is the detections of one ``Detection.index`` across a video's frames
(a detection without an index is a track of its own). It becomes one
``VideoRectangle`` region whose ``sequence`` holds a keyframe per frame where
the object is (or, with ``only_keyframes``, per FiftyOne ``keyframe``), with
``enabled: false`` on the last keyframe of each span before a gap, as Label
Studio's editor writes them: frames are 1-based, ``time`` is ``frame /
frameRate``, and the value carries ``framesCount`` and ``duration``.

Loading expands the keyframes to what the annotator sees (marking the
keyframes with ``keyframe=True`` where the field is ``only_keyframes``, as
FiftyOne's merge keeps them), by the editor's own rules: between two keyframes x, y, width and height move linearly and the
rotation by the shorter angle; after the last keyframe the box holds to the
end of the video; after a disabled keyframe it is hidden until the next. A
track sent and loaded back untouched is the very detections sent; an edited
one changes exactly the frames whose box the editor changes, which keep
their ids; a track drawn in Label Studio gets a new index and ids derived
from its region, the same on every load.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import fiftyone.core.labels as fol

from .attributes import apply_attributes, attributes_as_sent
from .base import (
    Family,
    FieldSchema,
    Frame,
    Problem,
    convert_each,
    derived_label_id,
    describe_result,
    label_to_edit,
    make_result,
    split_region_id,
)
from .detection import rectangle_of, set_geometry
from .geometry import RegionError
from .geometry import number as finite

KEYFRAME = "keyframe"
_GEOMETRY = ("x", "y", "width", "height", "rotation")


def tracks_of(frames: Mapping[int, Sequence[Any]]) -> list[list[tuple[int, Any]]]:
    """The tracks of a video's frame labels: ``[(frame number, label), ...]``
    per track, in frame order; one per index and class (a track whose class
    changes becomes one region per class), one per label without an index.

    Example:
        >>> from types import SimpleNamespace as D
        >>> a1, a2, b = D(index=1, label="car", id="a1"), D(index=1, label="car", id="a2"), D(index=None, label="car", id="b")
        >>> [[f for f, _ in t] for t in tracks_of({1: [a1, b], 2: [a2]})]
        [[1, 2], [1]]
    """
    found: dict[Any, list] = {}
    for frame_number in sorted(frames):
        for label in frames[frame_number]:
            index = label.index
            key = (index, label.label) if index is not None else ("id", label.id)
            found.setdefault(key, []).append((frame_number, label))
    return list(found.values())


def export_tracks(
    frames: Mapping[int, Sequence[Any]], field: FieldSchema, frame: Frame
) -> tuple[list[dict], list[Problem]]:
    results = []
    for track in tracks_of(frames):
        first = track[0][1]
        value = {
            "sequence": _sequence(track, field, frame),
            "framesCount": frame.frames_count,
            "duration": frame.frames_count / frame.fps,
            "labels": [first.label],
        }
        results.append(make_result(field, frame, "videorectangle", value, first.id))
    return results, []


def _sequence(track, field: FieldSchema, frame: Frame) -> list[dict]:
    keyframes = []
    for k, (number, label) in enumerate(track):
        last_of_span = k == len(track) - 1 or track[k + 1][0] != number + 1
        ends = last_of_span and number < frame.frames_count
        if field.only_keyframes and not ends and k and track[k - 1][0] == number - 1:
            if not label.get_attribute_value(KEYFRAME, False):
                continue
        x, y, width, height, rotation = rectangle_of(label, frame)
        keyframes.append(
            {
                "frame": number,
                "enabled": not ends,
                "x": x,
                "y": y,
                "width": width,
                "height": height,
                "rotation": rotation,
                "time": number / frame.fps,
            }
        )
    return keyframes


def visible_boxes(sequence: Sequence[Mapping], frames_count: int) -> dict[int, tuple]:
    """``{frame number: (x, y, width, height, rotation)}`` where the editor
    shows a track with these keyframes, by its own interpolation.

    Example:
        >>> seq = [{"frame": 1, "enabled": True, "x": 0, "y": 0, "width": 10, "height": 10, "rotation": 0},
        ...        {"frame": 3, "enabled": False, "x": 20, "y": 0, "width": 10, "height": 10, "rotation": 0}]
        >>> {f: box[0] for f, box in visible_boxes(seq, 5).items()}
        {1: 0.0, 2: 10.0, 3: 20.0}
    """
    keys = sorted(({**k, "frame": _frame(k)} for k in sequence), key=lambda k: k["frame"])
    boxes: dict[int, tuple] = {}
    for i, key in enumerate(keys):
        start = key["frame"]
        boxes[start] = _box(key)
        following = keys[i + 1] if i + 1 < len(keys) else None
        if not key.get("enabled", True):
            continue  # drawn on its keyframe, hidden after it
        end = following["frame"] if following else frames_count + 1
        for f in range(start + 1, end):
            if following is None:
                boxes[f] = _box(key)  # held after the last keyframe
            else:
                boxes[f] = _between(key, following, (f - start) / (end - start))
    return {f: box for f, box in boxes.items() if 1 <= f <= frames_count}


def _frame(key: Mapping) -> int:
    value = key.get("frame")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RegionError(f"keyframe frame={value!r} is not a frame number (1-based)")
    return value


def _box(key: Mapping) -> tuple:
    return tuple(finite(key.get(name, 0), name) for name in _GEOMETRY)


def _between(a: Mapping, b: Mapping, t: float) -> tuple:
    first, second = _box(a), _box(b)
    x, y, w, h = (p + t * (q - p) for p, q in zip(first[:4], second[:4]))
    turn = (second[4] - first[4] + 180.0) % 360.0 - 180.0  # the shorter way round
    return (x, y, w, h, first[4] + t * turn)


def load_tracks(
    results: list[dict],
    field: FieldSchema,
    frame: Frame,
    originals: Mapping[int, Mapping[str, Any]],
) -> tuple[dict[int, dict[str, Any]], list[Problem]]:
    """The detections of the tracks' regions, ``{frame number: {label id:
    detection}}``; ``originals`` are the field's detections as the video had
    them, in the same shape. A track whose region is malformed stays as it was.

    Example:
        >>> f, video = FieldSchema("frames.gt", "detections"), Frame(100, 100, "v", "video", 3, 30.0)
        >>> seq = [{"frame": 2, "enabled": True, "x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0}]
        >>> result = {"id": "drawn", "type": "videorectangle", "value": {"sequence": seq, "labels": ["car"]}}
        >>> loaded, _ = load_tracks([result], f, video, {})
        >>> {n: [(d.label, d.index, d.bounding_box) for d in labels.values()] for n, labels in loaded.items()}
        {2: [('car', 1, [0.1, 0.1, 0.2, 0.2])], 3: [('car', 1, [0.1, 0.1, 0.2, 0.2])]}
    """
    by_id = {i: label for labels in originals.values() for i, label in labels.items()}
    track_of = _tracks_by_label(originals)
    indexes = {label.index for label in by_id.values() if label.index is not None}
    fresh = iter(range(max(indexes, default=0) + 1, 1 << 62))

    def convert(result: dict) -> dict[int, Any]:
        value = result["value"]
        name = _one_label(value)
        sequence = value.get("sequence")
        if not isinstance(sequence, list) or not sequence:
            raise RegionError("'sequence' holds no keyframes")
        visible = visible_boxes(sequence, frame.frames_count)
        track = _track_of(str(result["id"]), visible, by_id, track_of, field, frame)
        if track and _untouched(result, track, name, field, frame):
            return dict(track)
        keyframes = {_frame(k) for k in sequence}
        before = dict(track or ())
        index = track[0][1].index if track else None
        index = next(fresh) if index is None else index
        changed = _changed_attributes(result, track, field)
        frames: dict[int, Any] = {}
        for number, box in visible.items():
            original = before.get(number)
            same = original is not None and _same_box(box, rectangle_of(original, frame))
            if same and original.label == name and not changed:
                frames[number] = original
                continue
            label_id = (  # a drawn frame's id is derived (hashed): only for new labels
                original.id
                if original is not None
                else derived_label_id(frame, field.name, result["id"], number)
            )
            label = label_to_edit(original, fol.Detection, label_id, originals)
            label.label, label.index = name, index
            if not same:
                geometry = dict(zip(_GEOMETRY, box))
                sent = rectangle_of(original, frame) if original is not None else None
                set_geometry(label, geometry, (frame.width, frame.height), sent)
            if field.only_keyframes:
                label[KEYFRAME] = number in keyframes
            apply_attributes(
                label, [result], changed if original is not None else field.attributes, original
            )
            frames[number] = label
        return frames

    problems: list[Problem] = []
    loaded: dict[int, dict[str, Any]] = {}
    for frames in convert_each(results, convert, describe_result, problems):
        for number, label in frames.items():
            loaded.setdefault(number, {})[label.id] = label
    for problem in problems:
        label_id, _ = split_region_id(str(problem.region_id))
        for number, label in track_of.get(label_id, ()):
            loaded.setdefault(number, {})[label.id] = label
    return loaded, problems


def _same_box(box: Sequence[float], sent: Sequence[float]) -> bool:
    """Whether an interpolated box is the label's own, but for float noise
    (1e-9 percent, far below a pixel): a frame between keyframes the
    annotator left as they were keeps its label untouched."""
    return all(abs(a - b) <= 1e-9 for a, b in zip(box, sent))


def _track_of(region_id, visible, by_id, track_of, field, frame) -> list | None:
    """The track a region was sent as (its id is the track's first
    detection's), or loaded as before (ids derived from the region's)."""
    label_id, _ = split_region_id(region_id)
    if label_id in track_of:
        return track_of[label_id]
    for number in visible:
        derived = derived_label_id(frame, field.name, region_id, number)
        if derived in by_id:
            return track_of[derived]
    return None


def _changed_attributes(result: dict, track, field: FieldSchema) -> tuple:
    """The attributes whose value the annotator changed on a track's region:
    the others keep each frame's own value (FiftyOne's may vary by frame)."""
    if not track:
        return field.attributes
    first = track[0][1]
    return tuple(a for a in field.attributes if not attributes_as_sent(first, [result], (a,)))


def _one_label(value: Mapping) -> str:
    labels = value.get("labels")
    if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
        raise RegionError(f"'labels' must hold exactly one class, got {labels!r}")
    return labels[0]


def _untouched(result, track, name, field, frame) -> bool:
    """Whether a track's region is exactly as it was sent."""
    sent, _ = export_tracks({n: [label] for n, label in track}, field, frame)
    first = track[0][1]
    return (
        len(sent) == 1
        and sent[0]["value"]["sequence"] == result["value"].get("sequence")
        and name == first.label
        and attributes_as_sent(first, [result], field.attributes)
    )


def _tracks_by_label(originals) -> dict[str, list]:
    frames = {number: list(labels.values()) for number, labels in originals.items()}
    found = {}
    for track in tracks_of(frames):
        for _, label in track:
            found[label.id] = track
    return found


VIDEO_TRACKS = Family(
    control="VideoRectangle",
    result_type="videorectangle",
    anno_type="detections",
    export=export_tracks,
    load=load_tracks,
    choice_tag=None,
)
"""Its classes are a ``Labels`` control beside it (see :func:`.schema.labeling_config`)."""

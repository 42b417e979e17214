"""What Label Studio's video editor shows for a track's keyframes, written
from its source (1.23.2, ``libs/editor/src/regions/VideoRectangleRegion.js``
``getShape`` and ``regions/VideoRegion.js`` ``isInLifespan``,
``utils/props.ts`` ``interpolateProp``), independently of the plugin's
``conversions.video``; and the checks that the labels loaded from a submitted
video annotation are what the annotator saw, shared by
tests/test_video_in_the_editor.py (on the dataset) and
tests/test_video_editor_fixtures.py (on the conversion core's output).

Labels are given as ``{frame number: [Detection, ...]}`` (one video's frames),
temporal detections as a list.
"""

from __future__ import annotations

from labels_equal import assert_values_equal

TOLERANCE = 1e-9
"""Relative coordinates: what the editor submitted, divided by 100, to float noise."""
PROPS = ("x", "y", "width", "height", "rotation")


def _interpolate(start: dict, end: dict, frame: int, prop: str) -> float:
    r = (frame - start["frame"]) / (end["frame"] - start["frame"])
    if prop == "rotation":  # the shorter way round
        turn = (end[prop] - start[prop] + 180.0) % 360.0 - 180.0
        return start[prop] + turn * r
    return start[prop] + (end[prop] - start[prop]) * r


def _shape(sequence: list[dict], frame: int) -> dict | None:
    """``getShape(frame)``: the keyframe's own values on a keyframe, linear
    between two keyframes, held after the last one, none before the first."""
    previous = following = None
    for item in sequence:
        if item["frame"] == frame:
            return {p: item.get(p, 0) for p in PROPS}
        if item["frame"] > frame:
            following = item
            break
        previous = item
    if previous is None:
        return None
    if following is None:
        return {p: previous.get(p, 0) for p in PROPS}
    return {p: _interpolate(previous, following, frame, p) for p in PROPS}


def _in_lifespan(sequence: list[dict], frame: int) -> bool:
    """``isInLifespan(frame)``: after a keyframe with ``enabled: false`` the
    track is hidden (but drawn on that keyframe itself)."""
    earlier = [k for k in sequence if k["frame"] <= frame]
    closest = earlier[-1] if earlier else next((k for k in sequence if k["frame"] >= frame), None)
    if closest is None:
        return False
    if closest["frame"] == frame and not closest["enabled"]:
        return True
    return bool(closest["enabled"])


def shown_boxes(sequence: list[dict], frames_count: int) -> dict[int, list[float]]:
    """``{frame: [x, y, w, h]}`` (relative) where the editor draws a track
    with these keyframes, on frames 1..``frames_count``."""
    keys = sorted(sequence, key=lambda k: k["frame"])
    shown = {}
    for frame in range(1, frames_count + 1):
        shape = _shape(keys, frame)
        if shape is not None and _in_lifespan(keys, frame):
            assert shape["rotation"] == 0, "these tests draw no rotated boxes"
            shown[frame] = [shape[p] / 100 for p in ("x", "y", "width", "height")]
    return shown


def close(actual, expected, tolerance=TOLERANCE) -> bool:
    return len(actual) == len(expected) and all(
        abs(a - e) <= tolerance for a, e in zip(actual, expected)
    )


def of_index(frames: dict, index) -> dict:
    """``{frame: detection}`` of the track with ``index`` (one per frame)."""
    found = {}
    for number, detections in frames.items():
        mine = [d for d in detections or () if d.index == index]
        assert len(mine) <= 1, f"frame {number}: {len(mine)} detections with index {index}"
        if mine:
            found[number] = mine[0]
    return found


def indexes(frames: dict) -> set:
    return {d.index for detections in frames.values() for d in detections or ()}


def keyframes_of(result: dict) -> list[int]:
    return [k["frame"] for k in result["value"]["sequence"]]


def check_edited_track(before, after, result, index, frames_count, where=""):
    """A track the annotator edited in the editor: on every frame the editor
    shows it, its box is the editor's (interpolated between keyframes), under
    the same index and id it had on that frame; a frame whose box the edit
    did not change keeps its label as it was; ``keyframe`` is set on the
    submitted keyframes only. Returns ``{frame: box}``, the boxes shown."""
    shown = shown_boxes(result["value"]["sequence"], frames_count)
    old, new = of_index(before, index), of_index(after, index)
    assert sorted(new) == sorted(shown), f"{where}track {index} on frames {sorted(new)}"
    assert sorted(old) == sorted(shown), "the edit did not change the span of the track"
    keyframes = set(keyframes_of(result))
    for number, box in shown.items():
        label, original = new[number], old[number]
        assert label.id == original.id, f"{where}frame {number}: a new id"
        assert label.label == original.label, f"{where}frame {number}"
        assert close(label.bounding_box, box), (
            f"{where}frame {number}: {label.bounding_box} != {box} (the editor's)"
        )
        assert label["keyframe"] is (number in keyframes), f"{where}frame {number}: keyframe"
        if close(original.bounding_box, box):
            assert_values_equal(label, original, f"{where}frame {number} (box unchanged)")
    return shown


def check_untouched_track(before, after, index, where=""):
    """A track the annotator left alone: the very labels it had."""
    old, new = of_index(before, index), of_index(after, index)
    assert old, f"no track {index} before"
    assert sorted(new) == sorted(old), f"{where}track {index} moved to frames {sorted(new)}"
    for number, original in old.items():
        assert_values_equal(new[number], original, f"{where}frame {number}, track {index}")


def check_new_track(before, after, result, frames_count, where=""):
    """A track drawn in the editor: one new index (above every index the
    video had) on exactly the frames the editor shows it, with its boxes and
    class, new ids (one per frame). Returns ``(index, {frame: detection})``."""
    shown = shown_boxes(result["value"]["sequence"], frames_count)
    [label] = result["value"]["labels"]
    new_indexes = indexes(after) - indexes(before)
    assert len(new_indexes) == 1, f"{where}new indexes {new_indexes}"
    [index] = new_indexes
    assert index == max(i for i in indexes(before) if i is not None) + 1, f"{where}index {index}"
    track = of_index(after, index)
    assert sorted(track) == sorted(shown), f"{where}drawn track on frames {sorted(track)}"
    old_ids = {d.id for detections in before.values() for d in detections or ()}
    ids = [d.id for d in track.values()]
    assert len(set(ids)) == len(ids) and not set(ids) & old_ids, f"{where}ids {ids}"
    keyframes = set(keyframes_of(result))
    for number, box in shown.items():
        assert track[number].label == label, f"{where}frame {number}"
        assert close(track[number].bounding_box, box), (
            f"{where}frame {number}: {track[number].bounding_box} != {box}"
        )
        assert track[number]["keyframe"] is (number in keyframes), f"{where}frame {number}"
    return index, track


def check_segments(before, after, results, drawn_id, where=""):
    """Temporal detections: the segment drawn on the timeline is one new
    detection whose ``support`` is its range (1-based, inclusive, as
    submitted); the others are as they were. Returns the new detection."""
    [drawn] = [r for r in results if r["id"] == drawn_id]
    [span] = drawn["value"]["ranges"]
    [label] = drawn["value"]["timelinelabels"]
    old = {d.id: d for d in before}
    new = [d for d in after if d.id not in old]
    assert len(new) == 1, f"{where}new temporal detections {new}"
    assert new[0].label == label and new[0].support == [span["start"], span["end"]], (
        f"{where}{new[0]}"
    )
    kept = {d.id: d for d in after if d.id in old}
    assert kept.keys() == old.keys(), f"{where}temporal detections lost: {old.keys() - kept.keys()}"
    for label_id, original in old.items():
        assert_values_equal(kept[label_id], original, f"{where}temporal detection {label_id}")
    return new[0]

"""Videos in Label Studio's own video editor (1.23.2, headless Chromium), on a
project this plugin made; then the annotation is loaded back into FiftyOne
and the dataset is checked against what the editor submitted.

Two 40-frame videos (10 fps, 480x360, H.264 by ffmpeg) with tracks in
``frames.gt`` (car/person; ``keyframe`` set on some frames, so the run sends
only keyframes, as FiftyOne does) and ``events`` (temporal detections, a
``TimelineLabels`` control). On video 1, logged in with the login form, the
annotator accepts the pre-annotations, then

- (a) goes to frame 20, a keyframe of track 1 (keyframes 1, 20, 40), and
  drags the box: the frames 2-39 follow by interpolation;
- (b) goes to frame 25 of track 2 (keyframes 1, 40) and drags the box there:
  a new keyframe;
- (c) arms the label "car", draws a box on frame 8, goes to frame 18 and
  drags it (a second keyframe), and toggles the interpolation off there: the
  track ends on frame 18;

and submits. The annotation is loaded with FiftyOne's
``dataset.load_annotations()``, then (the video's labels put back as they
were) with the plugin's bulk ``fiftyone_labelstudio.load_annotations(...,
full=True)``: both give the same dataset. Then, in the same annotation,

- (d) arms "leave" on the timeline and draws a segment over frames 25-35,

and clicks Update; both loads again. Track 3 (frames 5-15) and the "enter"
event are left alone, video 2 is not opened.

(d) is drawn after the first submit and loaded apart, so that the checks of
the tracks do not depend on it.

``RECORD_EDITOR_FIXTURES=1`` also (re)writes ``tests/assets/video/*.json``
(what the editor submitted; see tests/assets/README.md), which
tests/test_video_editor_fixtures.py runs through the conversion core.
Screenshots: tests/artifacts/video/.
"""

from __future__ import annotations

import json
import os
import types
import uuid

import fiftyone as fo
import fiftyone.core.labels as fol
import pytest
from annotator import Annotator
from app import CHROMIUM, CHROMIUM_ARGS, in_thread
from labels_equal import assert_values_equal
from ls_editor import SLOW, VideoEditor
from test_video import write_video
from video_checks import (
    check_edited_track,
    check_new_track,
    check_segments,
    check_untouched_track,
    close,
    keyframes_of,
    of_index,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSETS = os.path.join(ROOT, "tests", "assets", "video")
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts", "video")
RECORD = os.environ.get("RECORD_EDITOR_FIXTURES") == "1"
LABEL_STUDIO_VERSION = "1.23.2"
KEY = "video_editor"

FRAMES, FPS, SIZE = 40, 10, (480, 360)
TRACK_CLASSES = ("car", "person")
EVENT_CLASSES = ("enter", "leave")
SCHEMA = {
    "frames.gt": {"type": "detections", "classes": list(TRACK_CLASSES)},
    "events": {"type": "temporal_detections", "classes": list(EVENT_CLASSES)},
}

# The tracks of each video: index -> class, frames, FiftyOne keyframes.
MOVED, KEYFRAMED, UNTOUCHED = 1, 2, 3
TRACKS = {
    MOVED: ("car", range(1, FRAMES + 1), (1, 20, FRAMES)),
    KEYFRAMED: ("person", range(1, FRAMES + 1), (1, FRAMES)),
    UNTOUCHED: ("car", range(5, 16), (5, 15)),
}

# What the annotator does on video 1 (frames 1-based; moves in displayed pixels,
# 10% of the frame per 48 px across and 36 px down at the editor's zoom 1).
MOVE_AT, MOVE_BY = 20, (48, 36)  # (a)
KEYFRAME_AT, KEYFRAME_BY = 25, (-48, 72)  # (b)
NEW_FIRST, NEW_LAST = 8, 18  # (c)
NEW_BOX = [(0.05, 0.65), (0.25, 0.85)]  # corners, fractions of the frame
NEW_MOVE_BY = (96, -36)
SEGMENT = ("leave", 25, 35)  # (d)
LOADS = ("fiftyone", "bulk")
"""``dataset.load_annotations()`` into the run's fields, and
``fiftyone_labelstudio.load_annotations(dest_field=...)`` into new fields."""
BULK_FIELDS = {"tracks": ("gt_bulk", "events_bulk"), "segment": ("gt_bulk2", "events_bulk2")}
"""The new fields of the bulk load of each submission: ``(frame field, events field)``."""


# -- the dataset ------------------------------------------------------------------


def box_of(index, n, shift=0.0):
    """Track 1 moves right 0.005 a frame (its keyframes lie on that line, so
    the frames between them are the editor's interpolation); 2 and 3 stand."""
    if index == MOVED:
        return [0.05 + 0.005 * (n - 1) + shift, 0.08 + shift, 0.15, 0.15]
    if index == KEYFRAMED:
        return [0.75 - shift, 0.08 + shift, 0.12, 0.25]
    return [0.45 + shift, 0.45 + shift, 0.15, 0.15]


def build_dataset(folder):
    dataset = fo.Dataset(f"video-editor-{uuid.uuid4().hex[:10]}")
    samples = []
    for i in range(2):
        path = write_video(os.path.join(folder, f"clip_{i}.mp4"), frames=FRAMES, fps=FPS, size=SIZE)
        sample = fo.Sample(filepath=path)
        for n in range(1, FRAMES + 1):
            detections = [
                fol.Detection(
                    label=label,
                    bounding_box=box_of(index, n, shift=0.01 * i),
                    index=index,
                    keyframe=n in keyframes,
                )
                for index, (label, frames, keyframes) in TRACKS.items()
                if n in frames
            ]
            sample.frames[n] = fo.Frame(gt=fol.Detections(detections=detections))
        sample["events"] = fol.TemporalDetections(
            detections=[fol.TemporalDetection(label="enter", support=[1, 10 + i])]
        )
        samples.append(sample)
    dataset.add_samples(samples)
    dataset.compute_metadata()
    return dataset


def snapshot(dataset, frames_field="gt", events_field="events"):
    """``{sample id: {"frames": {frame: [Detection]}, "events": [TemporalDetection]}}``
    of two fields, copies with the ids."""
    found = {}
    for sample in dataset.select_fields([f"frames.{frames_field}", events_field]):
        events = sample[events_field]
        found[sample.id] = {
            "frames": {
                n: list(fol.Detections.from_dict(frame[frames_field].to_dict()).detections)
                if frame[frames_field]
                else []
                for n, frame in sample.frames.items()
            },
            "events": list(fol.TemporalDetections.from_dict(events.to_dict()).detections)
            if events
            else [],
        }
    return found


# -- the annotator's session ---------------------------------------------------------


"""FiftyOne's refusal of a ``TemporalDetection`` made without its ``support``
(conversions/temporal.py, ``fol.TemporalDetection(id=label_id)``)."""


@pytest.fixture(scope="module")
def run(label_studio):
    """Requests the run, annotates video 1 in the editor (tracks, Submit;
    then a segment, Update) and loads each time both ways."""
    from fiftyone_labelstudio import annotate, load_annotations
    from playwright.sync_api import sync_playwright

    folder = os.path.join(label_studio.document_root, "video-editor-" + uuid.uuid4().hex[:8])
    credentials = {"url": label_studio.url, "api_key": label_studio.pat}
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED", "true")
        monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", label_studio.document_root)
        dataset = build_dataset(folder)
        try:
            results = annotate(dataset, KEY, label_schema=SCHEMA, **credentials)
            state = types.SimpleNamespace(dataset=dataset, project_id=results.project_id)
            state.media_mode = results.media_mode
            state.ids = dataset.values("id")
            state.before = snapshot(dataset)
            state.label_schema = dataset.get_annotation_info(KEY).config.label_schema
            annotator = Annotator(label_studio.url, label_studio.pat)

            state.task_ids, state.tasks, state.label_config = annotator.as_served(
                results.project_id, state.ids
            )

            def load(phase):
                """FiftyOne's load into the run's fields, then the plugin's bulk
                load of everything into new fields (``BULK_FIELDS[phase]``: the
                run knows none of their labels yet)."""
                frames_field, events_field = BULK_FIELDS[phase]
                dest = {"frames.gt": f"frames.{frames_field}", "events": events_field}
                after, reports = {}, {}
                dataset.load_annotations(KEY, api_key=label_studio.pat)
                after["fiftyone"] = snapshot(dataset)
                # a second load changes nothing
                reports["again"] = load_annotations(dataset, KEY, **credentials)
                after["again"] = snapshot(dataset)
                reports["bulk"] = load_annotations(
                    dataset, KEY, dest_field=dest, full=True, **credentials
                )
                after["bulk"] = snapshot(dataset, frames_field, events_field)
                return after, reports

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                try:
                    context = browser.new_context(viewport={"width": 1600, "height": 1000})
                    context.set_default_timeout(SLOW)
                    editor = VideoEditor(context.new_page(), label_studio.url, ARTIFACTS)
                    try:
                        editor.login(label_studio.username, label_studio.password)
                        annotate_tracks(editor, state)
                        state.first = annotator.get(f"api/annotations/{state.submitted_id}")
                        state.after, state.reports = in_thread(load, "tracks")
                        annotate_segment(editor, state)
                    except BaseException:
                        editor.shot("failure")
                        raise
                finally:
                    browser.close()

            state.submitted = annotator.get(f"api/annotations/{state.submitted_id}")
            state.untouched_task = annotator.get(f"api/tasks/{state.task_ids[1]}")
            state.after_segment, state.segment_reports = load("segment")
            if RECORD:
                write_fixtures(state)
            yield state
        finally:
            dataset.delete()


def annotate_tracks(editor: VideoEditor, state) -> None:
    """(a)-(c) on video 1, then Submit."""
    sample_id = state.ids[0]
    before = state.before[sample_id]["frames"]
    predicted = state.tasks[0]["predictions"][0]["result"]
    state.regions = regions = len({r["id"] for r in predicted})  # 3 tracks and 1 segment

    editor.open_task(state.project_id, state.task_ids[0], regions=regions)
    editor.accept_prediction(regions=regions)
    state.video = editor.video_state()
    assert state.video["length"] == FRAMES and state.video["framerate"] == FPS
    assert (state.video["width"], state.video["height"]) == SIZE
    editor.shot("accepted")

    def centre(detection):
        x, y, w, h = detection.bounding_box
        return editor.at(x + w / 2, y + h / 2)

    def moved(point, offset):
        return (point[0] + offset[0], point[1] + offset[1])

    def move_on(frame, index, offset, shot):
        """Moves the box of track ``index`` on ``frame``: that frame becomes a keyframe."""
        editor.seek(frame)
        track = of_index(before, index)
        point = centre(track[frame])
        assert editor.select_track_at(point) == track[1].id
        editor.move(point, offset)
        assert keyframes_of_region(editor, track[1].id) == [1, frame, FRAMES]
        editor.shot(shot)

    move_on(MOVE_AT, MOVED, MOVE_BY, "a-keyframe-moved")  # (a) track 1's keyframe 20
    move_on(KEYFRAME_AT, KEYFRAMED, KEYFRAME_BY, "b-keyframe-added")  # (b) track 2, frame 25

    # (c) a new track: drawn on frame 8, moved on frame 18, ended there
    editor.seek(NEW_FIRST)
    start, end = editor.at(*NEW_BOX[0]), editor.at(*NEW_BOX[1])
    state.new_track_id = editor.draw_track(TRACK_CLASSES, "car", start, end)
    editor.seek(NEW_LAST)
    point = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    assert editor.select_track_at(point) == state.new_track_id
    editor.move(point, NEW_MOVE_BY)
    assert editor.select_track_at(moved(point, NEW_MOVE_BY)) == state.new_track_id
    editor.toggle_interpolation()
    drawn = editor.region(state.new_track_id)
    assert drawn["labels"] == ["car"]
    sequence = drawn["sequence"]
    assert [(k["frame"], k["enabled"]) for k in sequence] == [
        (NEW_FIRST, True),
        (NEW_LAST, False),
    ], sequence
    editor.unselect()
    editor.shot("c-track-drawn")

    editor.wait_for_regions(regions + 1)
    state.submitted_id = editor.submit()["id"]
    editor.shot("submitted")


def annotate_segment(editor: VideoEditor, state) -> None:
    """(d) in the same annotation, then Update."""
    label, first, last = SEGMENT
    state.segment_id = editor.draw_segment(EVENT_CLASSES, label, first, last)
    segment = editor.region(state.segment_id)
    assert (segment["labels"], segment["ranges"]) == ([label], [{"start": first, "end": last}])
    editor.shot("d-segment-drawn")
    editor.wait_for_regions(state.regions + 2)
    assert editor.submit()["id"] == state.submitted_id  # Update: the same annotation
    editor.shot("updated")


def label_count(videos) -> int:
    """The labels of a :func:`snapshot`."""
    return sum(
        len(video["events"]) + sum(map(len, video["frames"].values())) for video in videos.values()
    )


def keyframes_of_region(editor, region_id):
    return [k["frame"] for k in editor.region(region_id)["sequence"]]


def assert_same(actual, expected, where):
    """Two :func:`snapshot` s hold the same labels, ids and values."""
    assert actual.keys() == expected.keys(), where
    for sample_id, value in expected.items():
        assert actual[sample_id]["frames"].keys() == value["frames"].keys(), where
        for n, detections in value["frames"].items():
            assert_values_equal(
                {d.id: d for d in actual[sample_id]["frames"][n]},
                {d.id: d for d in detections},
                f"{where}: sample {sample_id} frame {n}",
            )
        assert_values_equal(
            {d.id: d for d in actual[sample_id]["events"]},
            {d.id: d for d in value["events"]},
            f"{where}: sample {sample_id} events",
        )


# -- reading what was submitted ----------------------------------------------------------


def results_of(annotation, field):
    control = field.replace(".", "_")
    return [r for r in annotation["result"] if r.get("from_name") == control]


def result_by_id(run, region_id):
    [result] = [r for r in run.submitted["result"] if r["id"] == region_id]
    return result


def predicted_by_id(run, region_id):
    [result] = [r for r in run.tasks[0]["predictions"][0]["result"] if r["id"] == region_id]
    return result


def track_ids(run):
    """The region ids of tracks 1-3: each its first detection's id."""
    before = run.before[run.ids[0]]["frames"]
    return {index: next(iter(of_index(before, index).values())).id for index in TRACKS}


# -- the tests ---------------------------------------------------------------------------


def test_the_videos_are_referenced_and_the_run_sends_only_keyframes(run):
    assert run.media_mode == "local_storage"
    assert run.label_schema["frames.gt"].get("only_keyframes") is True
    assert '<Video value="$video" frameRate="$fps"' in run.label_config
    for task in run.tasks:
        assert task["data"]["fps"] == FPS
        tracks = [r for r in task["predictions"][0]["result"] if r["type"] == "videorectangle"]
        assert sorted(keyframes_of(r) for r in tracks) == sorted(
            list(keyframes) for _, _, keyframes in TRACKS.values()
        )


def test_the_editor_submitted_what_the_annotator_did(run):
    ids = track_ids(run)
    width, height = run.video["width"] * run.video["zoom"], run.video["height"] * run.video["zoom"]

    moved = result_by_id(run, ids[MOVED])["value"]["sequence"]
    sent = predicted_by_id(run, ids[MOVED])["value"]["sequence"]
    assert [k["frame"] for k in moved] == [1, MOVE_AT, FRAMES]
    assert moved[0] == sent[0] and moved[2] == sent[2]  # the other keyframes as sent
    dx, dy = moved[1]["x"] - sent[1]["x"], moved[1]["y"] - sent[1]["y"]
    assert abs(dx - 100 * MOVE_BY[0] / width) < 0.5 and abs(dy - 100 * MOVE_BY[1] / height) < 0.5
    assert moved[1]["width"] == sent[1]["width"] and moved[1]["enabled"] is True

    keyframed = result_by_id(run, ids[KEYFRAMED])["value"]["sequence"]
    sent = predicted_by_id(run, ids[KEYFRAMED])["value"]["sequence"]
    assert [k["frame"] for k in keyframed] == [1, KEYFRAME_AT, FRAMES]
    assert keyframed[0] == sent[0] and keyframed[2] == sent[1]
    assert keyframed[1]["enabled"] is True
    assert abs(keyframed[1]["x"] - sent[0]["x"] - 100 * KEYFRAME_BY[0] / width) < 0.5
    assert abs(keyframed[1]["y"] - sent[0]["y"] - 100 * KEYFRAME_BY[1] / height) < 0.5

    untouched = result_by_id(run, ids[UNTOUCHED])["value"]
    sent = predicted_by_id(run, ids[UNTOUCHED])["value"]
    assert (untouched["sequence"], untouched["labels"]) == (sent["sequence"], sent["labels"])
    assert untouched["framesCount"] == sent["framesCount"] == FRAMES

    drawn = result_by_id(run, run.new_track_id)
    assert drawn["from_name"] == "frames_gt" and drawn["value"]["labels"] == ["car"]
    first, last = drawn["value"]["sequence"]
    assert (first["frame"], first["enabled"], last["frame"], last["enabled"]) == (
        NEW_FIRST,
        True,
        NEW_LAST,
        False,
    )
    (x0, y0), (x1, y1) = NEW_BOX
    assert close([first["x"], first["y"], first["width"], first["height"]],
                 [100 * x0, 100 * y0, 100 * (x1 - x0), 100 * (y1 - y0)], tolerance=0.5)  # fmt: skip
    assert abs(last["x"] - first["x"] - 100 * NEW_MOVE_BY[0] / width) < 0.5
    assert abs(last["y"] - first["y"] - 100 * NEW_MOVE_BY[1] / height) < 0.5
    assert drawn["value"]["framesCount"] == FRAMES

    segment = result_by_id(run, run.segment_id)
    label, start, end = SEGMENT
    assert segment["from_name"] == "events" and segment["type"] == "timelinelabels"
    assert segment["value"] == {"ranges": [{"start": start, "end": end}], "timelinelabels": [label]}
    predicted = run.tasks[0]["predictions"][0]["result"]
    assert len(run.submitted["result"]) == len(predicted) + 2
    # the first submission: the same tracks, no segment yet
    assert run.first["id"] == run.submitted["id"] and len(run.first["result"]) == len(predicted) + 1
    assert results_of(run.first, "frames.gt") == results_of(run.submitted, "frames.gt")
    assert [(r["id"], r["value"]) for r in results_of(run.first, "events")] == [
        (r["id"], r["value"]) for r in predicted if r["from_name"] == "events"
    ]


@pytest.mark.parametrize("load", LOADS)
def test_a_moved_keyframe_moves_the_frames_between_its_neighbours(run, load):
    before, after = run.before[run.ids[0]]["frames"], run.after[load][run.ids[0]]["frames"]
    result = result_by_id(run, track_ids(run)[MOVED])
    shown = check_edited_track(before, after, result, MOVED, FRAMES, f"{load}: ")
    # the keyframe moved, the frames on either side by interpolation, not the ends
    old = of_index(before, MOVED)
    changed = [n for n in shown if not close(shown[n], old[n].bounding_box)]
    assert changed == list(range(2, FRAMES))
    k = result["value"]["sequence"][1]
    assert close(of_index(after, MOVED)[MOVE_AT].bounding_box,
                 [k["x"] / 100, k["y"] / 100, k["width"] / 100, k["height"] / 100])  # fmt: skip


@pytest.mark.parametrize("load", LOADS)
def test_an_added_keyframe_lands_on_its_frame_and_interpolates_both_sides(run, load):
    before, after = run.before[run.ids[0]]["frames"], run.after[load][run.ids[0]]["frames"]
    result = result_by_id(run, track_ids(run)[KEYFRAMED])
    shown = check_edited_track(before, after, result, KEYFRAMED, FRAMES, f"{load}: ")
    old = of_index(before, KEYFRAMED)
    changed = [n for n in shown if not close(shown[n], old[n].bounding_box)]
    assert changed == list(range(2, FRAMES))
    track = of_index(after, KEYFRAMED)
    assert track[KEYFRAME_AT]["keyframe"] is True and track[KEYFRAME_AT - 1]["keyframe"] is False


@pytest.mark.parametrize("load", LOADS)
def test_the_untouched_track_keeps_its_ids_and_values(run, load):
    before, after = run.before[run.ids[0]]["frames"], run.after[load][run.ids[0]]["frames"]
    check_untouched_track(before, after, UNTOUCHED, f"{load}: ")


@pytest.mark.parametrize("load", LOADS)
def test_a_drawn_track_has_one_new_index_on_every_frame_of_its_span(run, load):
    before, after = run.before[run.ids[0]]["frames"], run.after[load][run.ids[0]]["frames"]
    result = result_by_id(run, run.new_track_id)
    index, track = check_new_track(before, after, result, FRAMES, f"{load}: ")
    assert index == max(TRACKS) + 1
    assert sorted(track) == list(range(NEW_FIRST, NEW_LAST + 1))


@pytest.mark.parametrize("load", LOADS)
def test_the_drawn_segment_is_a_temporal_detection_of_its_frames(run, load):
    after = run.after_segment[load][run.ids[0]]
    new = check_segments(
        run.before[run.ids[0]]["events"],
        after["events"],
        results_of(run.submitted, "events"),
        run.segment_id,
        f"{load}: ",
    )
    label, start, end = SEGMENT
    assert (new.label, new.support) == (label, [start, end])
    # the tracks are as the load of the first submission made them, ids and all
    assert_same(
        {"video": {"frames": after["frames"], "events": []}},
        {"video": {"frames": run.after[load][run.ids[0]]["frames"], "events": []}},
        f"{load}: tracks after the update",
    )
    if load == "bulk":
        assert_same(run.after_segment["bulk"], run.after_segment["fiftyone"], "bulk vs fiftyone")
        report = run.segment_reports["bulk"]
        assert (report["added"], report["edited"], report["deleted"]) == (
            label_count(run.after_segment["bulk"]),
            0,
            0,
        )
    else:
        again = run.segment_reports["again"]
        assert (again["added"], again["edited"], again["deleted"]) == (0, 0, 0)


@pytest.mark.parametrize("load", LOADS)
def test_the_video_not_annotated_is_unchanged(run, load):
    assert run.untouched_task["annotations"] == [] and run.untouched_task["drafts"] == []
    sample_id = run.ids[1]
    assert_same(
        {sample_id: run.after[load][sample_id]},
        {sample_id: run.before[sample_id]},
        f"{load}: video 2",
    )


def test_both_loads_give_the_same_labels_and_a_second_load_changes_nothing(run):
    assert_same(run.after["bulk"], run.after["fiftyone"], "bulk vs fiftyone")
    # into new fields, every label is added: the loaded ones and the copies
    report = run.reports["bulk"]
    assert (report["loaded"], report["not_annotated"], report["problems"]) == (1, 1, 0)
    assert (report["added"], report["edited"], report["deleted"]) == (
        label_count(run.after["bulk"]),
        0,
        0,
    )
    again = run.reports["again"]
    assert (again["added"], again["edited"], again["deleted"]) == (0, 0, 0)
    assert_same(run.after["again"], run.after["fiftyone"], "second load")


# -- recording ------------------------------------------------------------------------------


def write_fixtures(state) -> None:
    """Writes tests/assets/video/<case>.json from what the editor submitted."""
    sample_id = state.ids[0]
    before = state.before[sample_id]
    ids = track_ids(state)
    predicted = state.tasks[0]["predictions"][0]["result"]
    [enter] = before["events"]
    originals = {
        "frames.gt": {
            str(n): [d.to_dict(extended=True) for d in detections]
            for n, detections in before["frames"].items()
        },
        "events": [d.to_dict(extended=True) for d in before["events"]],
    }
    cases = {
        "tracks_keyframe_moved": (
            "frames.gt",
            f"went to frame {MOVE_AT} (a keyframe of this track) in the frame counter, "
            "clicked the box and dragged it",
            [ids[MOVED]],
        ),
        "tracks_keyframe_added": (
            "frames.gt",
            f"went to frame {KEYFRAME_AT} (between this track's keyframes 1 and {FRAMES}), "
            "clicked the box and dragged it: a new keyframe",
            [ids[KEYFRAMED]],
        ),
        "tracks_accepted_untouched": (
            "frames.gt",
            "accepted the prediction; left this track (frames 5-15, keyframes 5 and 15) as it was",
            [ids[UNTOUCHED]],
        ),
        "tracks_drawn_span": (
            "frames.gt",
            f"on frame {NEW_FIRST} clicked the label 'car' and drew a box on an empty spot; "
            f"went to frame {NEW_LAST}, dragged the box there, clicked it and the timeline's "
            "'Toggle Interpolation' button: the track ends on that keyframe",
            [state.new_track_id],
        ),
        "timeline_accepted_untouched": (
            "events",
            "accepted the prediction; left this segment as it was",
            [enter.id],
        ),
        "timeline_segment_drawn": (
            "events",
            f"clicked the TimelineLabels label '{SEGMENT[0]}' and dragged on the timeline's "
            f"new row from frame {SEGMENT[1]} to frame {SEGMENT[2]}",
            [state.segment_id],
        ),
    }
    for case, (field, action, regions) in cases.items():
        control = field.replace(".", "_")
        fixture = {
            "label_studio_version": LABEL_STUDIO_VERSION,
            "action": action,
            "video": {
                "width": SIZE[0],
                "height": SIZE[1],
                "frames_count": FRAMES,
                "fps": FPS,
            },
            "sample_id": sample_id,
            "labeling_config": state.label_config,
            "fields": {field: state.label_schema[field]},
            "originals": {field: originals[field]},
            "prediction": [r for r in predicted if r["from_name"] == control],
            "regions": regions,
            "result": results_of(state.submitted, field),
        }
        _write(os.path.join(ASSETS, f"{case}.json"), fixture)


def _write(path, fixture) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1, allow_nan=False)
        f.write("\n")

"""Videos against the real Label Studio: frame-level detections as tracks of
``VideoRectangle`` keyframes, temporal detections as ``TimelineLabels`` and
video classes as ``Choices``, read back from the dataset after each load
(FiftyOne's ``load_annotations()`` and the plugin's own)."""

import copy
import logging
import os
import subprocess
import uuid

import fiftyone as fo
import fiftyone.core.labels as fol
import pytest
from annotator import Annotator
from fiftyone_labelstudio import annotate
from fiftyone_labelstudio.backend import load_annotations
from labels_equal import assert_values_equal

FRAMES, FPS, WIDTH, HEIGHT = 30, 10, 64, 48
TRACKS = {"frames.gt": {"type": "detections", "classes": ["car", "person"]}}


def write_video(path, frames=FRAMES, fps=FPS, codec="libx264", size=(WIDTH, HEIGHT)):
    """A test-pattern video made with ffmpeg (Debian's, see scripts/install.sh)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run(
        [
            "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", f"testsrc=size={size[0]}x{size[1]}:rate={fps}",
            "-frames:v", str(frames), "-c:v", codec, "-pix_fmt", "yuv420p", path,
        ],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture
def media_dir(label_studio):
    return os.path.join(label_studio.document_root, "video-" + uuid.uuid4().hex[:8])


def box(x, y, label="car", index=None, **attributes):
    return fol.Detection(label=label, bounding_box=[x, y, 0.25, 0.25], index=index, **attributes)


def video_dataset(dataset, folder, count=2):
    """Videos with tracks: index 1 on every frame, moving; index 2 on frames
    5-9 and 20-24 (two spans); a detection without index on frame 3."""
    for i in range(count):
        sample = fo.Sample(filepath=write_video(os.path.join(folder, f"clip {i} (é).mp4")))
        for n in range(1, FRAMES + 1):
            detections = [box(0.01 * n + 0.1 * i, 0.2, index=1)]
            if 5 <= n <= 9 or 20 <= n <= 24:
                detections.append(box(0.6, 0.1 + 0.01 * n, "person", index=2))
            if n == 3:
                detections.append(box(0.3, 0.6, "person"))
            sample.frames[n] = fo.Frame(gt=fol.Detections(detections=detections))
        dataset.add_sample(sample)
    dataset.compute_metadata()
    return dataset


def frames_of(dataset, field="gt"):
    """``{sample id: {frame number: Detections}}`` as the database holds them now."""
    found = {}
    for sample in dataset.select_fields(f"frames.{field}"):
        found[sample.id] = {
            n: fol.Detections.from_dict(frame[field].to_dict()) if frame[field] else None
            for n, frame in sample.frames.items()
        }
    return found


def request(samples, key, label_studio, **kwargs):
    kwargs.setdefault("label_schema", TRACKS)
    return annotate(samples, key, url=label_studio.url, api_key=label_studio.pat, **kwargs)


def tracks_of_task(task):
    return [r for r in Annotator.predicted(task) if r["type"] == "videorectangle"]


def test_tracks_round_trip_exactly(dataset, label_studio, media_dir):
    video_dataset(dataset, media_dir)
    before = frames_of(dataset)
    results = request(dataset, "v1", label_studio)
    annotator = Annotator(label_studio.url, label_studio.pat)
    tasks = annotator.tasks(results.project_id)
    for task in tasks.values():
        assert task["data"]["fps"] == FPS
        tracks = tracks_of_task(task)
        assert len(tracks) == 3  # index 1, index 2 (two spans), the one without index
        two = next(
            t
            for t in tracks
            if t["value"]["labels"] == ["person"] and len(t["value"]["sequence"]) == 10
        )
        ends = [k["frame"] for k in two["value"]["sequence"] if not k["enabled"]]
        assert ends == [9, 24]  # a span ends where the track leaves the picture
        assert two["value"]["framesCount"] == FRAMES
        assert two["value"]["duration"] == FRAMES / FPS
    annotator.accept_all(results.project_id)
    dataset.load_annotations("v1")
    assert_values_equal(frames_of(dataset), before)
    report = load_annotations(dataset, "v1", full=True)
    assert (report["added"], report["edited"], report["deleted"]) == (0, 0, 0)
    assert_values_equal(frames_of(dataset), before)


def test_an_edit_on_one_keyframe_changes_the_frames_the_editor_changes(
    dataset, label_studio, media_dir
):
    video_dataset(dataset, media_dir, count=1)
    before = frames_of(dataset)
    (sample_id,) = before
    results = request(dataset, "v2", label_studio)
    annotator = Annotator(label_studio.url, label_studio.pat)
    (task,) = annotator.tasks(results.project_id).values()
    result = Annotator.predicted(task)
    track = next(
        r for r in result if r["type"] == "videorectangle" and r["value"]["labels"] == ["car"]
    )
    keyframe = next(k for k in track["value"]["sequence"] if k["frame"] == 12)
    keyframe["x"] += 5.0  # the annotator moves the box on frame 12
    annotator.submit(task, result)
    report = load_annotations(dataset, "v2")
    assert report["edited"] == 1 and report["added"] == report["deleted"] == 0
    after = frames_of(dataset)
    for n, detections in before[sample_id].items():
        if n != 12:
            assert_values_equal(after[sample_id][n], detections, f"frame {n}")
    moved = after[sample_id][12].detections[0]
    original = before[sample_id][12].detections[0]
    assert moved.id == original.id and moved.index == 1
    assert moved.bounding_box[0] == pytest.approx(original.bounding_box[0] + 0.05, abs=1e-9)
    assert moved.bounding_box[1:] == pytest.approx(original.bounding_box[1:], abs=1e-9)


def test_only_keyframes_interpolates_between_them(dataset, label_studio, media_dir):
    video_dataset(dataset, media_dir, count=1)
    view = dataset.filter_labels("frames.gt", fo.ViewField("index") == 1)
    for frame in dataset.first().frames.values():
        for detection in frame.gt.detections:
            detection["keyframe"] = frame.frame_number in (1, 10, 20, 30)
        frame.save()
    results = request(view, "v3", label_studio)  # FiftyOne picks only_keyframes: keyframes exist
    assert results.config.label_schema["frames.gt"].get("only_keyframes") is True
    annotator = Annotator(label_studio.url, label_studio.pat)
    (task,) = annotator.tasks(results.project_id).values()
    result = Annotator.predicted(task)
    (track,) = [r for r in result if r["type"] == "videorectangle"]
    assert [k["frame"] for k in track["value"]["sequence"]] == [1, 10, 20, 30]
    before = frames_of(dataset)
    track["value"]["sequence"][1]["y"] += 10.0  # keyframe 10 moves down by 10%
    annotator.submit(task, result)
    dataset.load_annotations("v3")
    after = frames_of(dataset)
    (sample_id,) = after
    for n in range(1, FRAMES + 1):
        old = next(d for d in before[sample_id][n].detections if d.index == 1)
        new = next(d for d in after[sample_id][n].detections if d.index == 1)
        assert new.id == old.id, f"frame {n}"
        # the editor's linear interpolation from keyframes 1 and 20 through 10
        shift = 0.1 * ((n - 1) / 9 if n <= 10 else (20 - n) / 10) if n < 20 else 0.0
        assert new.bounding_box[1] == pytest.approx(0.2 + shift, abs=1e-9), f"frame {n}"
        if n in (1, 20, 30):
            assert_values_equal(new, old, f"frame {n}")
    assert next(d for d in after[sample_id][10].detections if d.index == 1)["keyframe"] is True
    assert next(d for d in after[sample_id][11].detections if d.index == 1)["keyframe"] is False


def test_a_new_two_keyframe_track_lands_on_every_frame_of_its_span(
    dataset, label_studio, media_dir
):
    video_dataset(dataset, media_dir, count=1)
    results = request(dataset, "v4", label_studio)
    annotator = Annotator(label_studio.url, label_studio.pat)
    (task,) = annotator.tasks(results.project_id).values()
    result = Annotator.predicted(task)
    sequence = [
        {"frame": 5, "enabled": True, "x": 10.0, "y": 10.0, "width": 20.0, "height": 20.0,
         "rotation": 0, "time": 0.5},
        {"frame": 15, "enabled": False, "x": 30.0, "y": 10.0, "width": 20.0, "height": 20.0,
         "rotation": 0, "time": 1.5},
    ]  # fmt: skip
    result.append(
        {
            "id": "newTrack01",
            "from_name": "frames_gt",
            "to_name": "video",
            "type": "videorectangle",
            "origin": "manual",
            "value": {
                "sequence": sequence,
                "labels": ["car"],
                "framesCount": FRAMES,
                "duration": FRAMES / FPS,
            },
        }  # fmt: skip
    )
    annotator.submit(task, result)
    report = load_annotations(dataset, "v4")
    assert report["added"] == 11
    frames = frames_of(dataset)
    (sample_id,) = frames
    new = {
        n: [d for d in f.detections if d.index not in (1, 2, None)]
        for n, f in frames[sample_id].items()
    }
    spanned = sorted(n for n, found in new.items() if found)
    assert spanned == list(range(5, 16))
    assert {d.index for n in spanned for d in new[n]} == {3}  # one index, a new one
    assert new[10][0].bounding_box == pytest.approx([0.2, 0.1, 0.2, 0.2], abs=1e-9)
    # loading again changes nothing, and keeps the ids
    ids = {n: [d.id for d in new[n]] for n in spanned}
    report = load_annotations(dataset, "v4", full=True)
    assert (report["added"], report["edited"], report["deleted"]) == (0, 0, 0)
    again = frames_of(dataset)[sample_id]
    assert {n: [d.id for d in again[n].detections if d.index == 3] for n in spanned} == ids


def test_temporal_detections_and_video_classes_round_trip(dataset, label_studio, media_dir):
    video_dataset(dataset, media_dir)
    for i, sample in enumerate(dataset):
        sample["events"] = fol.TemporalDetections(
            detections=[
                fol.TemporalDetection(label="enter", support=[1, 5 + i]),
                fol.TemporalDetection(label="leave", support=[20, 30]),
            ]
        )
        sample["weather"] = fol.Classification(label="sunny")
        sample.save()
    schema = {
        "events": {"type": "temporal_detections", "classes": ["enter", "leave"]},
        "weather": {"type": "classification", "classes": ["sunny", "rain"]},
    }
    before = {s.id: (s.events, s.weather) for s in dataset}
    results = request(dataset, "v5", label_studio, label_schema=schema)
    annotator = Annotator(label_studio.url, label_studio.pat)
    tasks = annotator.tasks(results.project_id)
    edited_id = dataset.first().id
    for sample_id, task in tasks.items():
        result = Annotator.predicted(task)
        if sample_id == edited_id:
            timeline = next(
                r
                for r in result
                if r["type"] == "timelinelabels" and r["value"]["timelinelabels"] == ["leave"]
            )
            timeline["value"]["ranges"] = [{"start": 18, "end": 29}]
            choice = next(r for r in result if r["type"] == "choices")
            choice["value"]["choices"] = ["rain"]
        annotator.submit(task, result)
    dataset.load_annotations("v5")  # FiftyOne's merge, and the plugin for what it lacks
    for sample in dataset:
        events, weather = before[sample.id]
        if sample.id != edited_id:
            assert_values_equal(sample.events, events)
            assert_values_equal(sample.weather, weather)
            continue
        enter, leave = sample.events.detections
        assert_values_equal(enter, events.detections[0])
        assert leave.id == events.detections[1].id and leave.support == [18, 29]
        assert sample.weather.label == "rain" and sample.weather.id == weather.id


def test_fiftyone_annotate_refuses_temporal_and_the_plugin_says_why(dataset, media_dir):
    video_dataset(dataset, media_dir, count=1)
    with pytest.raises(ValueError, match="frame-level field"):
        annotate(dataset, "v6", label_schema={"gt": {"type": "detections", "classes": ["car"]}})
    images = fo.Dataset()
    try:
        images.add_sample(fo.Sample(filepath=os.path.join(media_dir, "a.png")))
        with pytest.raises(ValueError, match="belong to videos"):
            annotate(
                images, "v6", label_schema={"ev": {"type": "temporal_detections", "classes": ["a"]}}
            )
    finally:
        images.delete()
    assert dataset.list_annotation_runs() == []


def test_frame_labels_of_classes_the_schema_does_not_list_are_refused_at_request(
    dataset, label_studio, media_dir
):
    """As for images: tracks of a class the schema lacks stop the request
    before anything is made, counted by frame label."""
    video_dataset(dataset, media_dir, count=1)
    schema = {"frames.gt": {"type": "detections", "classes": ["car"]}}
    before = {p.id for p in Annotator(label_studio.url, label_studio.pat).ls.projects.list()}
    with pytest.raises(
        ValueError,
        match=r"11 labels of 'frames.gt' have a class its classes do not list \('person'\)",
    ):
        request(dataset, "v8", label_studio, label_schema=schema)
    after = {p.id for p in Annotator(label_studio.url, label_studio.pat).ls.projects.list()}
    assert after == before and dataset.list_annotation_runs() == []


def test_a_video_the_browser_cannot_play_is_named_before_anything_is_made(
    dataset, label_studio, media_dir
):
    path = write_video(os.path.join(media_dir, "old camera.avi"), codec="mpeg4")
    dataset.add_sample(fo.Sample(filepath=path))
    projects_before = {
        p.id for p in Annotator(label_studio.url, label_studio.pat).ls.projects.list()
    }
    with pytest.raises(ValueError, match=r"cannot play 1 \.avi file \(old camera\.avi\)"):
        request(dataset, "v7", label_studio)
    projects_after = {
        p.id for p in Annotator(label_studio.url, label_studio.pat).ls.projects.list()
    }
    assert projects_after == projects_before
    assert dataset.list_annotation_runs() == []


def test_uploaded_videos_and_a_frame_count_mismatch(dataset, label_studio, tmp_path, caplog):
    video_dataset(dataset, str(tmp_path))  # outside the document root: uploaded
    results = request(dataset, "v8", label_studio, media="upload")
    assert results.media_mode == "upload"
    annotator = Annotator(label_studio.url, label_studio.pat)
    tasks = annotator.tasks(results.project_id)
    for task in tasks.values():
        assert task["data"]["video"].startswith("/data/upload/")
        result = Annotator.predicted(task)
        for r in result:
            r["value"]["framesCount"] = FRAMES + 1  # the editor counted otherwise
        annotator.submit(task, copy.deepcopy(result))
    with caplog.at_level(logging.WARNING):
        load_annotations(dataset, "v8")
    assert "counts [31] frames where FiftyOne's metadata.total_frame_count is 30" in caplog.text

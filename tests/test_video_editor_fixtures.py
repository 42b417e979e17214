"""What Label Studio 1.23.2's own video editor submitted (tests/assets/video/,
recorded by tests/test_video_in_the_editor.py; see tests/assets/README.md)
through the plugin's conversion core (``conversions.load_sample``, which
reads tracks with ``conversions.video`` and segments with
``conversions.temporal``): no server, no browser, no database.

Each fixture holds one field's results of the submitted annotation of one
video (40 frames at 10 fps), the labels the video had (``originals``; a
track's region id is its first detection's id) and the region ids the
annotator's action concerns (``regions``). The facts checked are those
tests/test_video_in_the_editor.py checks on the dataset (tests/video_checks.py).
"""

from __future__ import annotations

import glob
import json
import os

import fiftyone.core.labels as fol
import pytest
from fiftyone_labelstudio.backend.stored_labels import (
    StoredLabel,
    StoredLabelIndex,
    as_label,
    same_label,
)
from fiftyone_labelstudio.conversions import VIDEO_TAG, Frame, field_schemas, load_sample
from labels_equal import assert_values_equal
from test_editor_fixtures import stored_label
from video_checks import (
    check_edited_track,
    check_new_track,
    check_segments,
    check_untouched_track,
    close,
    keyframes_of,
    of_index,
)

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets", "video")
FIXTURES = sorted(
    os.path.basename(path)[: -len(".json")] for path in glob.glob(os.path.join(ASSETS, "*.json"))
)
KEYS = {
    "label_studio_version",
    "action",
    "video",
    "sample_id",
    "labeling_config",
    "fields",
    "originals",
    "prediction",
    "regions",
    "result",
}


def read(name: str) -> dict:
    with open(os.path.join(ASSETS, name + ".json")) as f:
        return json.load(f)


def label_from(data: dict):
    return getattr(fol, data["_cls"]).from_dict(data, extended=True)


class Loaded:
    """One fixture through ``load_sample``: ``before`` and ``after`` as
    ``{frame: [Detection]}`` (tracks) or ``[TemporalDetection]`` (segments),
    ``raw`` the core's own ``{frame: {id: label}}`` / ``{id: label}``. With
    ``stored``, the originals are given as the plugin's load reads them from
    the database (:class:`StoredLabelIndex`), and drawn labels are made as
    stored documents."""

    def __init__(self, name: str, results: list[dict] | None = None, stored: bool = False):
        self.fixture = fixture = read(name)
        [self.field] = field_schemas(fixture["fields"])
        video = fixture["video"]
        self.frames_count = video["frames_count"]
        self.frame = Frame(
            video["width"],
            video["height"],
            fixture["sample_id"],
            VIDEO_TAG,
            video["frames_count"],
            float(video["fps"]),
        )
        raw = fixture["originals"][self.field.name]
        make = (lambda data: stored_label(label_from(data))) if stored else label_from
        if self.field.is_frame_field:
            originals = {
                int(n): {label.id: label for label in map(make, labels)}
                for n, labels in raw.items()
            }
            self.before = {n: list(labels.values()) for n, labels in originals.items()}
        else:
            originals = {label.id: label for label in map(make, raw)}
            self.before = list(originals.values())
        if stored:
            originals = StoredLabelIndex(originals)
        self.originals = originals
        self.results = fixture["result"] if results is None else results
        self.sample = load_sample(
            self.results, [self.field], self.frame, {self.field.name: originals}
        )
        self.raw = self.sample.values[self.field.name]
        if self.field.is_frame_field:
            self.after = {n: list(labels.values()) for n, labels in self.raw.items()}
        else:
            self.after = list(self.raw.values())
        self.regions = fixture["regions"]

    def result(self, region_id: str) -> dict:
        [found] = [r for r in self.fixture["result"] if r["id"] == region_id]
        return found

    def index_of(self, region_id: str):
        """The index of the track sent as region ``region_id``."""
        [index] = {d.index for labels in self.before.values() for d in labels if d.id == region_id}
        return index


# -- every fixture ------------------------------------------------------------------


def test_the_fixtures_are_there():
    assert FIXTURES == sorted(
        [
            "tracks_keyframe_moved",
            "tracks_keyframe_added",
            "tracks_accepted_untouched",
            "tracks_drawn_span",
            "timeline_accepted_untouched",
            "timeline_segment_drawn",
        ]
    )


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_is_complete_and_loads_without_problems(name):
    fixture = read(name)
    assert KEYS <= set(fixture), sorted(KEYS - set(fixture))
    assert fixture["label_studio_version"] == "1.23.2"
    assert all(r["to_name"] == "video" for r in fixture["result"])
    loaded = Loaded(name)
    assert loaded.sample.problems == [] and loaded.sample.unexpected == []
    # loading twice gives the same labels, with the same ids
    again = Loaded(name)
    if loaded.field.is_frame_field:
        assert {n: list(v) for n, v in again.raw.items()} == {
            n: list(v) for n, v in loaded.raw.items()
        }
    else:
        assert list(again.raw) == list(loaded.raw)


@pytest.mark.parametrize("name", FIXTURES)
def test_originals_read_from_the_database_load_as_the_same_labels(name):
    """As for images (test_editor_fixtures): edits of originals read raw are
    the labels the core makes from FiftyOne labels."""
    expected, loaded = Loaded(name), Loaded(name, stored=True)
    if loaded.field.is_frame_field:
        pairs = [(labels, expected.raw[n], n) for n, labels in loaded.raw.items()]
        assert list(loaded.raw) == list(expected.raw)
    else:
        pairs = [(loaded.raw, expected.raw, None)]
    for labels, wanted, n in pairs:
        assert list(labels) == list(wanted), n
        for label_id, label in labels.items():
            assert same_label(label, wanted[label_id]), (n, label_id)
            assert_values_equal(as_label(label), wanted[label_id], f"{n}: {label_id}")
            if loaded.field.is_frame_field and label_id not in loaded.originals.get(n, {}):
                assert isinstance(label, StoredLabel), (n, label_id)  # drawn: a stored document


# -- VideoRectangle tracks -------------------------------------------------------------


def test_a_keyframe_moved_in_the_editor_moves_the_frames_between_its_neighbours():
    loaded = Loaded("tracks_keyframe_moved")
    [region] = loaded.regions
    result = loaded.result(region)
    index = loaded.index_of(region)
    sent = next(r for r in loaded.fixture["prediction"] if r["id"] == region)
    assert keyframes_of(result) == keyframes_of(sent) == [1, 20, 40]
    shown = check_edited_track(loaded.before, loaded.after, result, index, loaded.frames_count)
    old = of_index(loaded.before, index)
    assert [n for n in shown if not close(shown[n], old[n].bounding_box)] == list(range(2, 40))
    # the frames whose box did not change are the very labels sent
    for n in (1, 40):
        assert loaded.raw[n][old[n].id] is old[n]


def test_a_keyframe_added_in_the_editor_splits_the_interpolation():
    loaded = Loaded("tracks_keyframe_added")
    [region] = loaded.regions
    result = loaded.result(region)
    index = loaded.index_of(region)
    sent = next(r for r in loaded.fixture["prediction"] if r["id"] == region)
    assert keyframes_of(sent) == [1, 40] and keyframes_of(result) == [1, 25, 40]
    shown = check_edited_track(loaded.before, loaded.after, result, index, loaded.frames_count)
    old = of_index(loaded.before, index)
    assert [n for n in shown if not close(shown[n], old[n].bounding_box)] == list(range(2, 40))
    assert of_index(loaded.after, index)[25]["keyframe"] is True


def test_an_accepted_track_is_the_same_labels():
    loaded = Loaded("tracks_accepted_untouched")
    [region] = loaded.regions
    index = loaded.index_of(region)
    check_untouched_track(loaded.before, loaded.after, index)
    for n, label in of_index(loaded.before, index).items():
        assert loaded.raw[n][label.id] is label, n


def test_a_track_drawn_across_a_span_gets_one_new_index_on_each_of_its_frames():
    loaded = Loaded("tracks_drawn_span")
    [region] = loaded.regions
    result = loaded.result(region)
    assert region not in {r["id"] for r in loaded.fixture["prediction"]}
    assert [(k["frame"], k["enabled"]) for k in result["value"]["sequence"]] == [
        (8, True),
        (18, False),
    ]
    index, track = check_new_track(loaded.before, loaded.after, result, loaded.frames_count)
    assert index == 4 and sorted(track) == list(range(8, 19))
    # its ids are derived from the region: the same on every load
    again = Loaded("tracks_drawn_span")
    assert {n: d.id for n, d in of_index(again.after, index).items()} == {
        n: d.id for n, d in track.items()
    }


# -- TimelineLabels segments -------------------------------------------------------------


def test_an_accepted_segment_is_the_same_label():
    fixture = read("timeline_accepted_untouched")
    [region] = fixture["regions"]
    # the accepted segment alone (the annotation also holds a drawn one: see below)
    loaded = Loaded(
        "timeline_accepted_untouched", [r for r in fixture["result"] if r["id"] == region]
    )
    [original] = loaded.before
    assert loaded.raw[region] is original


def test_a_segment_drawn_on_the_timeline_is_a_temporal_detection_of_its_frames():
    loaded = Loaded("timeline_segment_drawn")
    [region] = loaded.regions
    new = check_segments(loaded.before, loaded.after, loaded.fixture["result"], region)
    assert (new.label, new.support) == ("leave", [25, 35])

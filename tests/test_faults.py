"""Faults and bad input against the real Label Studio (behind a fault proxy
where the network or the server must misbehave) and the real database: each
case checks the message the user gets and that nothing was lost, orphaned or
half recorded."""

import json
import logging
import threading
import time
import uuid
from xml.etree import ElementTree

import fiftyone as fo
import fiftyone.core.labels as fol
import pytest
from annotator import Annotator
from conftest import EXPORT_READS
from fault_proxy import FaultProxy
from fiftyone_labelstudio.backend import (
    LabelStudioError,
    load_annotations,
    orphans,
    run_lock,
    tasks,
)
from fiftyone_labelstudio.backend.runs import Credentials, results_with
from labels_equal import assert_values_equal
from test_backend import labeled_dataset, project_ids, snapshot, write_images

SCHEMA = {"boxes": {"type": "detections", "classes": ["cat", "dog"]}}


@pytest.fixture
def proxy(label_studio):
    proxy = FaultProxy(label_studio.url)
    yield proxy
    proxy.close()


@pytest.fixture
def images(label_studio):
    import os

    return os.path.join(label_studio.document_root, "faults-" + uuid.uuid4().hex[:8])


def annotate(samples, key, url, api_key, **kwargs):
    kwargs.setdefault("label_schema", SCHEMA)
    return samples.annotate(key, backend="labelstudio", url=url, api_key=api_key, **kwargs)


def assert_unchanged(dataset, before):
    after = snapshot(dataset)
    for sample_id, fields in before.items():
        for name, value in fields.items():
            assert_values_equal(after[sample_id][name], value, f"{sample_id}.{name}")


def annotate_all(label_studio, project_id, edit=None):
    """Submits every task's predictions, changed by ``edit(result)`` if given."""
    annotator = Annotator(label_studio.url, label_studio.pat)
    for task in annotator.tasks(project_id).values():
        result = annotator.predicted(task)
        annotator.submit(task, edit(result) if edit else result)


# -- the server goes away or misbehaves ----------------------------------------


def test_unreachable_at_connect(label_studio, proxy, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    proxy.down()
    before = project_ids(label_studio)
    with pytest.raises(
        LabelStudioError, match=f"Cannot reach Label Studio at {proxy.url}.*running and the URL"
    ):
        annotate(dataset, "down", proxy.url, label_studio.pat)
    assert dataset.list_annotation_runs() == [] and project_ids(label_studio) == before


@pytest.fixture
def web_page_server():
    """A server that answers every path with a web page (as the FiftyOne
    App does), at 127.0.0.1."""
    import http.server

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><html><body>an app</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("which", ["another app", "a project page", "a wrong path"])
def test_a_url_that_answers_web_pages_says_so(
    label_studio, dataset, images, web_page_server, which
):
    labeled_dataset(dataset, images, [(30, 20)])
    url = {
        "another app": web_page_server,
        "a project page": f"{label_studio.url}/projects/1",
        "a wrong path": f"{label_studio.url}/nothing",
    }[which]
    before = project_ids(label_studio)
    with pytest.raises(LabelStudioError, match="answered with a web page, not Label Studio's API"):
        annotate(dataset, "pages", url, label_studio.pat)
    assert dataset.list_annotation_runs() == [] and project_ids(label_studio) == before


@pytest.mark.parametrize(
    "when,pattern,count,names",
    [
        ("after the project was created", r"^POST /api/projects/?$", 1, ""),
        ("in the middle of the media upload", r"commit_to_project=false", 1, ""),
        # the import (refused, or of unknown outcome), not the listing of what it made
        ("in the middle of the task import", r"return_task_ids", 1, "import 50 tasks"),
    ],
)
def test_killed_mid_request_leaves_no_run_and_its_project_is_deleted_when_back(
    label_studio, proxy, dataset, tmp_path, monkeypatch, when, pattern, count, names
):
    monkeypatch.setattr(tasks, "TASKS_PER_IMPORT", 50)
    paths = write_images(str(tmp_path / "many"), [(12, 8)] * 150)
    dataset.add_samples([fo.Sample(filepath=p, boxes=fol.Detections()) for p in paths])
    before = project_ids(label_studio)
    proxy.die_after(count, pattern)
    with pytest.raises(LabelStudioError, match="Cannot reach Label Studio") as error:
        annotate(dataset, "killed", proxy.url, label_studio.pat, media="upload")
    assert names in str(error.value)
    assert dataset.list_annotation_runs() == []
    [orphan] = project_ids(label_studio) - before
    assert "will be deleted the next time" in "".join(getattr(error.value, "__notes__", []))
    assert orphan in [o["project_id"] for o in orphans.pending(proxy.url)]

    proxy.reset()  # the server is back
    results = annotate(dataset, "after_restart", proxy.url, label_studio.pat, media="upload")
    assert orphan not in project_ids(label_studio) and orphans.pending(proxy.url) == []
    assert project_ids(label_studio) - before == {results.project_id}


def test_killed_in_the_middle_of_a_load_changes_nothing(label_studio, proxy, dataset, images):
    labeled_dataset(dataset, images, [(30, 20), (20, 30)])
    results = annotate(dataset, "cut", proxy.url, label_studio.pat)
    annotate_all(label_studio, results.project_id, edit=lambda result: [])
    stored = dataset.load_annotation_results("cut", cache=False).serialize()
    before = snapshot(dataset)

    # the synchronous export cut, then the snapshot it falls back to
    proxy.cut(200, EXPORT_READS, times=2)
    with pytest.raises(
        LabelStudioError, match="export ended in the middle|Cannot reach|did not answer"
    ):
        dataset.load_annotations("cut")
    assert_unchanged(dataset, before)
    assert dataset.load_annotation_results("cut", cache=False).serialize() == stored
    assert run_lock.holder(dataset, "cut") is None

    dataset.load_annotations("cut")  # the server is fine again
    assert all(len(s["boxes"].detections) == 0 for s in dataset.select_fields("boxes"))


def test_a_slow_server_is_given_up_on_within_the_timeout(label_studio, proxy, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    before = project_ids(label_studio)
    proxy.slow(8, r"commit_to_project=false")
    started = time.monotonic()
    with pytest.raises(
        LabelStudioError, match=r"did not answer in time.*timeout=\.\.\. \(now 2 s\)"
    ):
        annotate(dataset, "slow", proxy.url, label_studio.pat, media="upload", timeout=2)
    assert time.monotonic() - started < 7
    assert dataset.list_annotation_runs() == []
    assert project_ids(label_studio) == before


def test_a_slow_status_call_is_bounded_too(label_studio, proxy, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    results = annotate(dataset, "slow_status", proxy.url, label_studio.pat, timeout=2)
    proxy.slow(8, r"/api/projects/counts/")
    started = time.monotonic()
    with pytest.raises(LabelStudioError, match="did not answer in time"):
        results.get_status()
    assert time.monotonic() - started < 7


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_failing_batch_is_retried_and_the_request_recovers(
    label_studio, proxy, dataset, images, status
):
    labeled_dataset(dataset, images, [(30, 20), (20, 30)])
    proxy.fail(status, times=1, path=r"return_task_ids")
    results = annotate(dataset, "recovers", proxy.url, label_studio.pat)
    assert results.get_status()["total"] == 2
    imports = [path for method, path in proxy.requests if "return_task_ids" in path]
    assert len(imports) == 2  # the failed attempt and its retry


def test_an_upload_batch_failing_once_is_sent_again(label_studio, proxy, dataset, tmp_path):
    paths = write_images(str(tmp_path / "retry"), [(12, 8)] * 3)
    dataset.add_samples([fo.Sample(filepath=p) for p in paths])
    proxy.fail(503, times=1, path=r"commit_to_project=false")
    results = annotate(dataset, "reupload", proxy.url, label_studio.pat, media="upload",
                       label_schema={"gt": {"type": "classification", "classes": ["a"]}})  # fmt: skip
    tasks_ = Annotator(label_studio.url, label_studio.pat).tasks(results.project_id)
    assert len(tasks_) == 3 and all(
        t["data"]["image"].startswith("/data/upload/") for t in tasks_.values()
    )


def test_a_server_failing_for_good_fails_clearly_and_cleans_up(
    label_studio, proxy, dataset, images
):
    labeled_dataset(dataset, images, [(30, 20)])
    before = project_ids(label_studio)
    proxy.fail(500, times=1000, path=r"return_task_ids")
    with pytest.raises(LabelStudioError, match=r"failed to import 1 tasks \(HTTP 500"):
        annotate(dataset, "broken", proxy.url, label_studio.pat, timeout=3)
    assert dataset.list_annotation_runs() == [] and project_ids(label_studio) == before


@pytest.mark.parametrize(
    "read", [r"GET /api/projects/\d+/export\?", r"POST /api/projects/\d+/exports/"]
)
def test_an_export_failing_once_is_retried(label_studio, proxy, dataset, images, read, request):
    if "exports" in read:
        request.getfixturevalue("snapshot_exports")
    labeled_dataset(dataset, images, [(30, 20)])
    results = annotate(dataset, "export_retry", proxy.url, label_studio.pat)
    annotate_all(label_studio, results.project_id)
    proxy.fail(502, times=1, path=read)
    asked_the_time = proxy.hits("GET", r"/api/version")
    dataset.load_annotations("export_retry")
    assert dataset.load_annotation_results("export_retry").last_load["loaded"] == 1
    # the server's clock, for the next load, came with an answer the load needed anyway
    assert proxy.hits("GET", r"/api/version") == asked_the_time
    assert (proxy.hits("POST", r"/exports/") > 0) == ("exports" in read)  # a snapshot if asked


def test_a_synchronous_export_turned_off_falls_back_to_a_snapshot(
    label_studio, proxy, dataset, images
):
    labeled_dataset(dataset, images, [(30, 20)])
    results = annotate(dataset, "no_sync", proxy.url, label_studio.pat)
    annotate_all(label_studio, results.project_id, edit=lambda result: [])
    proxy.fail(404, times=1000, path=r"GET /api/projects/\d+/export\?")
    report = load_annotations(dataset, "no_sync", url=proxy.url, api_key=label_studio.pat)
    assert report["loaded"] == 1 and len(dataset.first()["boxes"].detections) == 0
    assert proxy.hits("POST", r"/api/projects/\d+/exports/") == 1
    exports = Annotator(label_studio.url, label_studio.pat).get(
        f"api/projects/{results.project_id}/exports/"
    )
    assert exports == []  # the snapshot was deleted


# -- credentials ------------------------------------------------------------------


def test_a_wrong_token(label_studio, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    with pytest.raises(
        LabelStudioError, match="HTTP 401.*does not know this key.*personal access token"
    ):
        annotate(dataset, "wrong", label_studio.url, "0123456789abcdef0123456789abcdef01234567")
    assert dataset.list_annotation_runs() == []


def test_an_empty_key_without_a_terminal_says_how_to_give_one(label_studio, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    before = project_ids(label_studio)
    # FiftyOne would prompt for it, and fail where nobody can answer
    with pytest.raises(LabelStudioError, match="No Label Studio API key was given.*api_key="):
        annotate(dataset, "no_key", label_studio.url, "")
    assert dataset.list_annotation_runs() == [] and project_ids(label_studio) == before


def test_an_expired_personal_access_token(label_studio, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    expired = label_studio.django_shell(
        "from datetime import timedelta\n"
        "from users.models import User\n"
        "from jwt_auth.models import LSAPIToken\n"
        f"t = LSAPIToken.for_user(User.objects.get(email={label_studio.username!r}))\n"
        "t.set_exp(lifetime=timedelta(seconds=-60))\n"
        "emit(t.get_full_jwt())\n"
    ).strip()
    with pytest.raises(LabelStudioError, match="HTTP 401.*has expired: create a new one"):
        annotate(dataset, "expired", label_studio.url, expired)
    assert dataset.list_annotation_runs() == []


def test_a_revoked_personal_access_token(label_studio, dataset, images):
    import httpx

    labeled_dataset(dataset, images, [(30, 20)])
    session_pat = label_studio.pat
    revoked = label_studio.mint_pat()
    label_studio.pat = session_pat  # the session keeps its own
    httpx.post(
        f"{label_studio.url}/api/token/blacklist/", json={"refresh": revoked}
    ).raise_for_status()
    with pytest.raises(LabelStudioError, match="HTTP 401.*was revoked: create a new one"):
        annotate(dataset, "revoked", label_studio.url, revoked)
    assert dataset.list_annotation_runs() == []


def test_a_legacy_token_where_legacy_tokens_are_off(label_studio, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    with pytest.raises(LabelStudioError) as error:
        annotate(dataset, "legacy", label_studio.url, label_studio.legacy_token)
    message = str(error.value)
    assert "legacy token, and this organization has legacy tokens turned off" in message
    assert "personal access token" in message and "Organization > API Token Settings" in message
    assert dataset.list_annotation_runs() == []


def test_a_token_revoked_before_a_load_changes_nothing(label_studio, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    annotate(dataset, "later_wrong", label_studio.url, label_studio.pat)
    before = snapshot(dataset)
    # as a fresh process (or the operators) would: the run reconnects with the new key
    results_with(dataset, "later_wrong", Credentials(label_studio.url, "not-a-real-token-at-all"))
    with pytest.raises(LabelStudioError, match="HTTP 401"):
        dataset.load_annotations("later_wrong")
    assert_unchanged(dataset, before)
    assert run_lock.holder(dataset, "later_wrong") is None


def test_a_label_no_export_takes_added_after_the_request_is_left_by_the_load(
    label_studio, dataset, images
):
    """A box stored without its ``bounding_box``, added after the request,
    is read ahead with the rest: the load neither fails nor touches it."""
    labeled_dataset(dataset, images, [(30, 20)])
    results = annotate(dataset, "added_later", label_studio.url, label_studio.pat)
    sample = dataset.first()
    sample["boxes"].detections.append(fol.Detection(label="dog"))
    sample.save()
    before = snapshot(dataset)
    annotate_all(label_studio, results.project_id)
    report = load_annotations(
        dataset, "added_later", url=label_studio.url, api_key=label_studio.pat
    )
    assert (report["loaded"], report["problems"], report["deleted"]) == (1, 0, 0)
    assert_unchanged(dataset, before)


# -- Label Studio changed behind our back ------------------------------------------


def test_a_project_deleted_in_label_studio(label_studio, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    results = annotate(dataset, "gone", label_studio.url, label_studio.pat)
    Annotator(label_studio.url, label_studio.pat).ls.projects.delete(id=results.project_id)
    before = snapshot(dataset)
    with pytest.raises(
        LabelStudioError, match=r"Project \d+ of run 'gone' no longer exists.*nothing was changed"
    ):
        dataset.load_annotations("gone")
    assert_unchanged(dataset, before)
    with pytest.raises(LabelStudioError, match="no longer exists"):
        results.get_status()
    results.cleanup()  # already gone: nothing to do, no error
    assert "gone" in dataset.list_annotation_runs()


def _edit_config(label_studio, project_id, change):
    ls = Annotator(label_studio.url, label_studio.pat).ls
    config = ls.projects.get(id=project_id).label_config
    ls.projects.update(id=project_id, label_config=change(config))


def test_a_control_renamed_in_the_labeling_config(label_studio, dataset, images, caplog):
    labeled_dataset(dataset, images, [(30, 20)])
    results = annotate(dataset, "renamed_control", label_studio.url, label_studio.pat,
                       label_schema={"boxes": {}, "weather": {}})  # fmt: skip
    _edit_config(
        label_studio, results.project_id, lambda c: c.replace('name="boxes"', 'name="boxes_v2"')
    )

    def rename(result):
        for region in result:
            if region["from_name"] == "boxes":
                region["from_name"] = "boxes_v2"
        return result

    annotate_all(label_studio, results.project_id, edit=rename)
    before = snapshot(dataset)
    with caplog.at_level(logging.WARNING):
        dataset.load_annotations("renamed_control")
    assert "control 'boxes_v2'" in caplog.text and "fit no field of this run" in caplog.text
    assert_unchanged(dataset, before)  # the boxes were not deleted for want of a 'boxes' control
    assert dataset.load_annotation_results("renamed_control").last_load["unexpected"] > 0


def _without_control(label_config, name):
    root = ElementTree.fromstring(label_config)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.get("name") == name:
                parent.remove(child)
    return ElementTree.tostring(root, encoding="unicode")


def test_a_control_removed_after_a_load_is_read_in_full_once_then_incrementally(
    label_studio, dataset, images
):
    labeled_dataset(dataset, images, [(30, 20)])
    results = annotate(dataset, "removed_control", label_studio.url, label_studio.pat,
                       label_schema={"boxes": {}, "weather": {}})  # fmt: skip
    # Label Studio refuses to drop a control that annotations use
    without_weather = lambda result: [r for r in result if r["from_name"] != "weather"]  # noqa: E731
    annotate_all(label_studio, results.project_id, edit=without_weather)
    credentials = {"url": label_studio.url, "api_key": label_studio.pat}
    assert load_annotations(dataset, "removed_control", **credentials)["incremental"] is False
    _edit_config(label_studio, results.project_id, lambda c: _without_control(c, "weather"))
    before = snapshot(dataset)
    # the last load read both fields; this one reads the live one, from a full export
    assert load_annotations(dataset, "removed_control", **credentials)["incremental"] is False
    assert load_annotations(dataset, "removed_control", **credentials)["incremental"] is True
    assert_unchanged(dataset, before)  # the weather labels are left as they are


def test_a_control_changed_to_another_type_gives_unexpected_labels(label_studio, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    results = annotate(dataset, "retyped", label_studio.url, label_studio.pat)
    annotator = Annotator(label_studio.url, label_studio.pat)
    [task] = annotator.tasks(results.project_id).values()
    polygon = {
        "id": "pOly1", "from_name": "boxes", "to_name": "image", "type": "polygonlabels",
        "original_width": 30, "original_height": 20,
        "value": {"points": [[10, 10], [50, 10], [50, 50]], "polygonlabels": ["cat"]},
    }  # fmt: skip
    annotator.submit(task, annotator.predicted(task) + [polygon])
    unexpected = dataset.load_annotations("retyped", unexpected="return")
    assert list(unexpected["boxes"]) == ["polylines"]
    assert "polylines" not in dataset.get_field_schema()
    # into a dest_field, both loads return them under the destination field
    fiftyone_returned = dataset.load_annotations(
        "retyped", dest_field="reviewed_by_fiftyone", unexpected="return"
    )
    assert list(fiftyone_returned) == ["reviewed_by_fiftyone"]
    outcome = load_annotations(
        dataset, "retyped", dest_field="reviewed", unexpected="return", full=True,
        url=label_studio.url, api_key=label_studio.pat,
    )  # fmt: skip
    assert list(outcome["unexpected_labels"]) == ["reviewed"]
    assert list(outcome["unexpected_labels"]["reviewed"]) == ["polylines"]
    assert "polylines" not in dataset.get_field_schema()


MALFORMED = {
    "unknown from_name": lambda r: r.update(from_name="nope"),
    "wrong type": lambda r: r.update(type="keypointlabels"),
    "out of range": lambda r: r["value"].update(x=130.0),
    "scaled by 100": lambda r: r["value"].update(
        x=r["value"]["x"] * 100, width=r["value"]["width"] * 100
    ),
    "text": lambda r: r["value"].update(width="3"),
    "no class": lambda r: r["value"].update(rectanglelabels=[]),
}


def test_malformed_regions_are_skipped_with_a_warning_naming_task_and_region(
    label_studio, dataset, images, caplog
):
    labeled_dataset(dataset, images, [(40, 40)])
    sample = dataset.first()
    results = annotate(dataset, "malformed", label_studio.url, label_studio.pat,
                       label_schema={"boxes": {}, "instances": {"type": "instances"}})  # fmt: skip
    annotator = Annotator(label_studio.url, label_studio.pat)
    [task] = annotator.tasks(results.project_id).values()
    result = annotator.predicted(task)
    boxes = [r for r in result if r["from_name"] == "boxes"]
    brushes = [r for r in result if r["from_name"] == "instances"]
    bad = {}
    for (name, change), box in zip(MALFORMED.items(), boxes * 2):
        copy = json.loads(json.dumps(box))
        copy["id"] = f"bad{len(bad)}"
        change(copy)
        bad[name] = copy
    broken = dict(json.loads(json.dumps(brushes[0])), id="badRle")
    broken["value"]["rle"] = [1, 2, 3]
    sizeless = dict(json.loads(json.dumps(brushes[1])), id="noSize")
    del sizeless["original_width"], sizeless["original_height"]
    annotator.submit(task, result + list(bad.values()) + [broken])
    with caplog.at_level(logging.WARNING):
        dataset.load_annotations("malformed", unexpected="ignore")
    for region_id in ["bad1", "bad2", "bad3", "bad4", "bad5", "badRle"]:
        assert f"Task {task['id']}, region {region_id}" in caplog.text, region_id
    assert "control 'nope'" in caplog.text
    loaded = dataset.first()
    assert [d.id for d in loaded["boxes"].detections] == [d.id for d in sample["boxes"].detections]
    assert [d.id for d in loaded["instances"].detections] == [
        d.id for d in sample["instances"].detections
    ]
    assert dataset.load_annotation_results("malformed").last_load["problems"] == 6

    annotator.submit(task, result + [sizeless])  # the task's own size stands in for it
    dataset.load_annotations("malformed")
    assert len(dataset.first()["instances"].detections) == len(sample["instances"].detections)


# -- bad input through the Python API ----------------------------------------------

BAD_INPUT = [
    (
        {"label_schema": {"nope": {}}},
        ValueError,
        "You must specify a type for new label field 'nope'",
    ),
    (
        {"label_schema": {"boxes": {"type": "classification"}}},
        ValueError,
        "does not match its actual type",
    ),
    ({"label_schema": {"fresh": {"type": "detections"}}}, ValueError, "class list"),
    (
        {"project_name": "p" * 51},
        ValueError,
        "project_name has 51 characters; Label Studio allows 50",
    ),
    ({"project_name": "   "}, ValueError, "project_name='   ': give a title of 3 to 50"),
    ({"existing_labels": "drafts"}, ValueError, "existing_labels='drafts' is not one of"),
    ({"media": "ftp"}, ValueError, "media='ftp' is not one of"),
    ({"media": "url"}, ValueError, "media='url' needs http"),
    ({"media_field": "boxes"}, ValueError, "media_field: 1 samples hold no file path or URL"),
    ({"url": "not a url"}, LabelStudioError, "is not a Label Studio URL"),
    ({"timeout": -1}, ValueError, "timeout=-1 must be a positive number"),
    (
        {"existing_label": "annotations"},
        ValueError,
        "got existing_label (did you mean existing_labels",
    ),
    ({"token": "x"}, ValueError, "got token, which the Label Studio backend does not take"),
    ({"launch_editr": False}, ValueError, "got launch_editr (did you mean launch_editor"),
]


@pytest.mark.parametrize("change,error,message", BAD_INPUT, ids=[m for _, _, m in BAD_INPUT])
def test_bad_python_input_is_refused_before_anything_changes(
    label_studio, dataset, images, change, error, message
):
    labeled_dataset(dataset, images, [(30, 20)])
    before, projects_before = snapshot(dataset), project_ids(label_studio)
    kwargs = {"label_schema": SCHEMA, "url": label_studio.url, **change}
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        dataset.annotate("bad", backend="labelstudio", api_key=label_studio.pat, **kwargs)
    assert dataset.list_annotation_runs() == []
    assert project_ids(label_studio) == projects_before
    assert_unchanged(dataset, before)


def test_a_mistyped_load_parameter_is_named_with_the_one_it_may_mean(label_studio, dataset, images):
    """Either load given a parameter it does not take: an error naming it and
    the one meant (FiftyOne's passed it on to ``load_credentials()``, which
    failed with Python's bare TypeError), nothing changed."""
    labeled_dataset(dataset, images, [(30, 20)])
    annotate(dataset, "typo", label_studio.url, label_studio.pat)
    before = snapshot(dataset)
    for load in (load_annotations, fo.Dataset.load_annotations):
        with pytest.raises(TypeError, match=r"got dest_feild \(did you mean dest_field\?\)"):
            load(dataset, "typo", dest_feild="x", api_key=label_studio.pat)
    with pytest.raises(TypeError, match=r"full is a parameter of fiftyone_labelstudio.load_"):
        dataset.load_annotations("typo", full=True, api_key=label_studio.pat)
    assert_unchanged(dataset, before)
    assert dataset.load_annotation_results("typo").last_load is None


def test_a_label_no_export_takes_fails_naming_the_sample_and_cleans_up(
    label_studio, dataset, images
):
    """A box stored without its ``bounding_box`` stops the request with the
    sample, the label, the field and the fix; the project it made is deleted,
    no run kept."""
    labeled_dataset(dataset, images, [(30, 20), (40, 30)])
    sample = dataset.last()
    name = next(n for n, info in SCHEMA.items() if info["type"] == "detections")
    broken = fol.Detection(label=sample[name].detections[0].label)
    sample[name].detections.append(broken)
    sample.save()
    before = project_ids(label_studio)
    with pytest.raises(
        ValueError, match=f"Sample {sample.id}: label {broken.id} .* of '{name}' cannot be sent"
    ):
        annotate(dataset, "unsendable", label_studio.url, label_studio.pat)
    assert dataset.list_annotation_runs() == [] and project_ids(label_studio) == before


def test_a_used_key_is_refused_and_the_first_run_kept(label_studio, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    first = annotate(dataset, "twice", label_studio.url, label_studio.pat)
    with pytest.raises(ValueError, match="already exists"):
        annotate(dataset, "twice", label_studio.url, label_studio.pat)
    assert dataset.load_annotation_results("twice").project_id == first.project_id


def test_an_empty_view_and_a_missing_video(label_studio, dataset, images, tmp_path):
    labeled_dataset(dataset, images, [(30, 20)])
    with pytest.raises(ValueError, match="is empty; there is nothing to annotate"):
        annotate(
            dataset.match({"filepath": "nowhere"}), "empty", label_studio.url, label_studio.pat
        )
    video = fo.Dataset()
    try:
        video.add_sample(fo.Sample(filepath=str(tmp_path / "clip.mp4")))
        with pytest.raises(ValueError, match="1 media files do not exist: .*clip.mp4"):
            annotate(
                video,
                "video",
                label_studio.url,
                label_studio.pat,
                label_schema={"gt": {"type": "classification", "classes": ["a"]}},
            )
        assert video.list_annotation_runs() == []
    finally:
        video.delete()


def test_missing_media_files_are_named(label_studio, dataset, tmp_path):
    paths = write_images(str(tmp_path / "missing"), [(10, 10)] * 2)
    dataset.add_samples([fo.Sample(filepath=p) for p in paths])
    (tmp_path / "missing" / "image_00001.png").unlink()
    with pytest.raises(ValueError, match="1 media files do not exist: .*image_00001.png"):
        annotate(dataset, "missing", label_studio.url, label_studio.pat,
                 label_schema={"gt": {"type": "classification", "classes": ["a"]}})  # fmt: skip
    assert dataset.list_annotation_runs() == []


def test_media_outside_the_local_storage_root(label_studio, dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED", "true")
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", label_studio.document_root)
    # a sibling whose name starts like the root: a substring test would take it
    outside = label_studio.document_root + "-outside"
    paths = write_images(outside, [(10, 10)])
    dataset.add_samples([fo.Sample(filepath=p) for p in paths])
    with pytest.raises(
        ValueError,
        match=r"media='local_storage' cannot serve these files: .* is not in a folder under the document root",
    ):
        annotate(dataset, "outside", label_studio.url, label_studio.pat, media="local_storage",
                 label_schema={"gt": {"type": "classification", "classes": ["a"]}})  # fmt: skip
    results = annotate(dataset, "auto_uploads", label_studio.url, label_studio.pat,
                       label_schema={"gt": {"type": "classification", "classes": ["a"]}})  # fmt: skip
    assert results.media_mode == "upload"


def test_media_neither_the_browser_nor_pillow_reads_are_refused(label_studio, dataset, tmp_path):
    path = tmp_path / "scan.tif"
    path.write_bytes(b"\x00\x01 not an image")
    dataset.add_sample(fo.Sample(filepath=str(path)))
    before = project_ids(label_studio)
    with pytest.raises(
        ValueError, match=r"media='upload' cannot send 1 \.tif file \(scan\.tif\).*convert them"
    ):
        annotate(dataset, "raw", label_studio.url, label_studio.pat, media="upload",
                 label_schema={"gt": {"type": "classification", "classes": ["a"]}})  # fmt: skip
    assert project_ids(label_studio) == before and dataset.list_annotation_runs() == []


# -- concurrency --------------------------------------------------------------------


def _slow_load_in_background(dataset_name, key, errors):
    def load():
        try:
            fo.load_dataset(dataset_name).load_annotations(key)
        except Exception as error:  # reported to the test
            errors.append(error)

    thread = threading.Thread(target=load)
    thread.start()
    return thread


def _wait_for_export(dataset, key, proxy, timeout=60):
    """Until the load in the background holds the run's lock and has asked
    for the export (it has read the run's results from the database, which
    two threads of one process must not read at once: FiftyOne shares the
    file)."""
    deadline = time.monotonic() + timeout
    while run_lock.holder(dataset, key) is None or not proxy.hits("GET", EXPORT_READS):
        assert time.monotonic() < deadline, "the first load never started"
        time.sleep(0.05)


def test_two_loads_at_once_the_second_fails_clearly(label_studio, proxy, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    dataset.persistent = True
    results = annotate(dataset, "twice_at_once", proxy.url, label_studio.pat)
    annotate_all(label_studio, results.project_id)
    proxy.slow(4, EXPORT_READS)
    errors = []
    first = _slow_load_in_background(dataset.name, "twice_at_once", errors)
    _wait_for_export(dataset, "twice_at_once", proxy)
    with pytest.raises(
        run_lock.RunBusy,
        match="Run 'twice_at_once' is being loaded by process .* wait for it to finish",
    ):
        dataset.load_annotations("twice_at_once")
    first.join()
    assert errors == []
    before = snapshot(dataset)
    proxy.reset()
    dataset.load_annotations("twice_at_once")  # now free, and idempotent
    assert_unchanged(dataset, before)


def test_a_rename_during_a_load_keeps_the_loaded_state(label_studio, proxy, dataset, images):
    labeled_dataset(dataset, images, [(30, 20)])
    dataset.persistent = True
    results = annotate(dataset, "moving", proxy.url, label_studio.pat)
    annotator = Annotator(label_studio.url, label_studio.pat)
    [task] = annotator.tasks(results.project_id).values()
    drawn = {
        "id": "nEwBox1", "from_name": "boxes", "to_name": "image", "type": "rectanglelabels",
        "original_width": 30, "original_height": 20,
        "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0, "rectanglelabels": ["dog"]},
    }  # fmt: skip
    annotator.submit(task, annotator.predicted(task) + [drawn])
    proxy.slow(4, EXPORT_READS)
    errors = []
    loading = _slow_load_in_background(dataset.name, "moving", errors)
    _wait_for_export(dataset, "moving", proxy)
    dataset.rename_annotation_run("moving", "moved")
    loading.join()
    assert errors == []
    assert dataset.list_annotation_runs() == ["moved"]
    proxy.reset()
    count = len(dataset.first()["boxes"].detections)
    dataset.load_annotations("moved")  # the added box is known to the run: no duplicate
    assert len(dataset.first()["boxes"].detections) == count


def test_a_delete_during_a_load_loads_the_labels_and_keeps_the_record_deleted(
    label_studio, proxy, dataset, images, caplog
):
    labeled_dataset(dataset, images, [(30, 20)])
    dataset.persistent = True
    results = annotate(dataset, "doomed_load", proxy.url, label_studio.pat)
    annotate_all(label_studio, results.project_id, edit=lambda result: [])
    proxy.slow(4, EXPORT_READS)
    errors = []
    loading = _slow_load_in_background(dataset.name, "doomed_load", errors)
    _wait_for_export(dataset, "doomed_load", proxy)
    dataset.delete_annotation_run("doomed_load")
    with caplog.at_level(logging.WARNING):
        loading.join()
    assert errors == []
    dataset.reload()
    assert dataset.list_annotation_runs() == []
    assert len(dataset.first()["boxes"].detections) == 0


# -- guarantees ----------------------------------------------------------------------


def test_the_api_key_is_nowhere_in_the_database_or_the_logs(
    label_studio, dataset, images, caplog, mongod
):
    import fiftyone.core.odm as foo_odm
    import gridfs

    labeled_dataset(dataset, images, [(30, 20)])
    with caplog.at_level(logging.DEBUG):
        results = annotate(dataset, "no_secrets", label_studio.url, label_studio.pat)
        annotate_all(label_studio, results.project_id)
        dataset.load_annotations("no_secrets")
        results.get_status()
    secrets = [label_studio.pat, label_studio.legacy_token]
    assert not any(s in caplog.text for s in secrets)
    database = foo_odm.get_db_conn()
    for name in database.list_collection_names():
        for document in database[name].find({}):
            text = json.dumps(document, default=str)
            assert not any(s in text for s in secrets), name
    for bucket in ("fs",):
        fs = gridfs.GridFS(database, collection=bucket)
        for stored in fs.find():
            data = stored.read().decode(errors="replace")
            assert not any(s in data for s in secrets)


def test_a_refused_key_is_not_used_again(label_studio, dataset, images, monkeypatch, caplog):
    """A load with a mistyped key fails, saying so (and not that the export
    fell back to a snapshot); the next load without a key uses the configured
    one, not the key the server refused."""
    labeled_dataset(dataset, images, [(30, 20)])
    annotate(dataset, "typo", label_studio.url, label_studio.pat)
    with pytest.raises(LabelStudioError, match="refused the API key"):
        load_annotations(dataset, "typo", api_key="typo")
    assert "snapshot export is read instead" not in caplog.text
    monkeypatch.setitem(fo.annotation_config.backends["labelstudio"], "api_key", label_studio.pat)
    assert load_annotations(dataset, "typo")["not_annotated"] == 1


def test_a_url_that_was_not_reached_is_not_used_again(label_studio, dataset, images, caplog):
    """A load given a mistyped URL fails, saying so (and not that the export
    fell back to a snapshot); the next load without a URL uses the run's."""
    labeled_dataset(dataset, images, [(30, 20)])
    annotate(dataset, "typo_url", label_studio.url, label_studio.pat)
    with pytest.raises(LabelStudioError, match="Cannot reach Label Studio at http://127.0.0.1:1"):
        load_annotations(dataset, "typo_url", url="http://127.0.0.1:1")
    assert "snapshot export is read instead" not in caplog.text
    assert load_annotations(dataset, "typo_url")["not_annotated"] == 1

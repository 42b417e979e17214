"""Safe by construction, against the real Label Studio (on SQLite and on
PostgreSQL) and the real database: the API key is stored on no path; a
remembered orphan project is deleted only if it is provably the plugin's;
a create the server did but did not confirm is not made twice; a failed
load leaves the run free for the next, in any process; local storage grants
no more than the media's folder; exports that are still being built are
waited for, and deleted whether read or not (that the setup writes nothing
in the user's home is in test_infrastructure.py, which runs once per CI
run)."""

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import fiftyone as fo
import fiftyone.core.labels as fol
import fiftyone.operators as foo
import pytest
import servers
from annotator import Annotator
from fault_proxy import FaultProxy
from fiftyone.operators.delegated import DelegatedOperationService
from fiftyone.operators.executor import ExecutionError
from fiftyone_labelstudio.backend import (
    LabelStudioError,
    load_annotations,
    orphans,
    run_lock,
)
from fiftyone_labelstudio.operators.common import KEY_NOT_DELEGATED
from test_backend import labeled_dataset, project_ids, write_images

URI = "@annotate/labelstudio/"
SCHEMA = {"boxes": {"type": "detections", "classes": ["cat", "dog"]}}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def proxy(label_studio):
    proxy = FaultProxy(label_studio.url)
    yield proxy
    proxy.close()


@pytest.fixture
def images(label_studio):
    return os.path.join(label_studio.document_root, "safety-" + uuid.uuid4().hex[:8])


def annotate(samples, key, url, api_key, **kwargs):
    kwargs.setdefault("label_schema", SCHEMA)
    return samples.annotate(key, backend="labelstudio", url=url, api_key=api_key, **kwargs)


def assert_stored_nowhere(secrets):
    """No collection of FiftyOne's database, and no file in its GridFS,
    holds any of ``secrets``."""
    import fiftyone.core.odm as fo_odm
    import gridfs

    database = fo_odm.get_db_conn()
    for name in database.list_collection_names():
        for document in database[name].find({}):
            text = json.dumps(document, default=str)
            for secret in secrets:
                assert secret not in text, f"collection {name} holds a key: {text[:300]}"
    for stored in gridfs.GridFS(database).find():
        data = stored.read().decode(errors="replace")
        assert not any(secret in data for secret in secrets), "GridFS holds a key"


def operator(name, dataset, params, **ctx):
    return foo.execute_operator(URI + name, ctx={"dataset": dataset, "params": params, **ctx})


# -- the API key --------------------------------------------------------------------


def test_the_api_key_is_stored_on_no_path(label_studio, dataset, images, monkeypatch, caplog):
    labeled_dataset(dataset, images, [(30, 20), (20, 30)])
    pat = label_studio.pat
    annotator = Annotator(label_studio.url, pat)
    with caplog.at_level(logging.DEBUG):
        # Python: FiftyOne's API and the plugin's load
        results = annotate(dataset, "python", label_studio.url, pat)
        annotator.accept_all(results.project_id)
        dataset.load_annotations("python", api_key=pat)
        load_annotations(dataset, "python", url=label_studio.url, api_key=pat)
        results.get_status()

        # the operators, run now, with the key typed into the form
        creds = {"url": label_studio.url, "api_key": pat}
        made = operator(
            "request_annotations", dataset, {"anno_key": "typed", "label_schema": SCHEMA, **creds}
        )
        operator("load_annotations", dataset, {"anno_key": "typed", **creds})
        operator("manage_runs", dataset, {"action": "status", "anno_key": "typed", **creds})
        assert made.result["num_tasks"] == 2

        # delegated: a typed key is refused before anything is queued...
        service = DelegatedOperationService()
        queued_before = len(service.list_operations())
        for name, params in (
            ("request_annotations", {"anno_key": "later", "label_schema": SCHEMA, **creds}),
            ("load_annotations", {"anno_key": "typed", **creds}),
        ):
            with pytest.raises(ExecutionError, match="api_key: a key typed here would be stored"):
                operator(name, dataset, params, request_delegation=True)
        assert len(service.list_operations()) == queued_before
        # ...and the plugin's secrets serve it
        monkeypatch.setenv("FIFTYONE_LABELSTUDIO_URL", label_studio.url)
        monkeypatch.setenv("FIFTYONE_LABELSTUDIO_API_KEY", pat)
        for name, params in (
            ("request_annotations", {"anno_key": "later", "label_schema": SCHEMA}),
            ("load_annotations", {"anno_key": "later"}),
        ):
            queued = operator(name, dataset, params, request_delegation=True)
            assert queued.delegated
            service.execute_queued_operations(operator=URI + name)
            assert service.get(queued.result["id"]).run_state == "completed"
    assert "later" in dataset.list_annotation_runs()
    assert pat not in caplog.text and label_studio.legacy_token not in caplog.text
    assert_stored_nowhere([pat, pat[-24:], label_studio.legacy_token])


def test_the_key_input_is_masked_and_a_typed_key_refused_as_the_user_ticks_background(
    dataset,
):
    import asyncio

    from fiftyone.operators import OperatorRegistry
    from fiftyone.operators.executor import resolve_type

    dataset.add_sample(fo.Sample(filepath="/nonexistent/x.png"))
    params = {"dataset_name": dataset.name, "params": {"api_key": "typed", "delegate": True}}
    form = asyncio.run(resolve_type(OperatorRegistry(), URI + "request_annotations", params))
    properties = form.to_json()["type"]["properties"]
    api_key = properties["api_key"]["view"]
    assert api_key["componentsProps"]["field"]["type"] == "password"
    assert properties["api_key_error"]["error_message"] == KEY_NOT_DELEGATED
    assert "FIFTYONE_LABELSTUDIO_API_KEY" in KEY_NOT_DELEGATED


# -- orphans --------------------------------------------------------------------------


def test_a_remembered_project_is_deleted_only_while_it_is_still_the_plugins(
    label_studio, proxy, dataset, tmp_path
):
    paths = write_images(str(tmp_path / "orphan"), [(12, 8)] * 3)
    dataset.add_samples([fo.Sample(filepath=p, boxes=fol.Detections()) for p in paths])
    before = project_ids(label_studio)
    proxy.die_after(1, r"^POST /api/projects/?$")
    with pytest.raises(LabelStudioError, match="Cannot reach Label Studio"):
        annotate(dataset, "orphaned", proxy.url, label_studio.pat, media="upload")
    [orphan] = project_ids(label_studio) - before
    assert [o["project_id"] for o in orphans.pending(proxy.url)] == [orphan]

    # Label Studio is reinstalled at the same URL: ids start again, and the
    # remembered id now names someone else's project
    fresh = servers.start_label_studio(
        data_dir=str(tmp_path / "reinstalled"), document_root=str(tmp_path / "media")
    )
    try:
        proxy.target = ("127.0.0.1", fresh.port)
        proxy.reset()
        someone = Annotator(fresh.url, fresh.pat).ls
        while True:
            project = someone.projects.create(title="Someone else's work")
            if project.id >= orphan:
                break
        assert project.id == orphan
        annotate(dataset, "after_reinstall", proxy.url, fresh.pat, media="upload")
        assert someone.projects.get(id=orphan).title == "Someone else's work"
        assert orphans.pending(proxy.url) == []  # forgotten, not retried forever
    finally:
        fresh.stop()
    # the real orphan is still on the first server, where nobody deleted it
    assert orphan in project_ids(label_studio)


# -- no duplicates on retry -------------------------------------------------------------


@pytest.mark.parametrize(
    "create,pattern",
    [
        ("the project", r"^POST /api/projects/?$"),
        ("the tasks", r"^POST /api/projects/\d+/import\?.*return_task_ids"),
        ("the media", r"^POST /api/projects/\d+/import\?.*commit_to_project=false"),
    ],
)
def test_a_create_done_but_answered_with_a_gateway_error_is_not_repeated(
    label_studio, proxy, dataset, tmp_path, create, pattern
):
    paths = write_images(str(tmp_path / "retry"), [(12, 8)] * 5)
    dataset.add_samples([fo.Sample(filepath=p, boxes=fol.Detections()) for p in paths])
    before = project_ids(label_studio)
    proxy.fail_after_forward(502, times=1, path=pattern)
    results = annotate(dataset, "once", proxy.url, label_studio.pat, media="upload")
    assert proxy.hits("POST", pattern) >= 1
    assert project_ids(label_studio) - before == {results.project_id}
    tasks = Annotator(label_studio.url, label_studio.pat).tasks(results.project_id)
    ls = Annotator(label_studio.url, label_studio.pat).ls
    assert len(ls.tasks.list(project=results.project_id).items) == 5
    assert set(tasks) == set(dataset.values("id"))
    uploads = ls._client_wrapper.httpx_client.request(
        f"api/projects/{results.project_id}/file-uploads", method="GET", params={"all": "true"}
    ).json()
    assert len(uploads) == 5


def test_an_import_that_kept_only_bare_tasks_is_taken_out_and_sent_again(
    label_studio, proxy, dataset, images
):
    # Label Studio on SQLite, retrying an import after a database lock, can
    # keep the tasks without their predictions: its answer's counts say so
    labeled_dataset(dataset, images, [(30, 20), (20, 30), (25, 25)])
    imports = r"^POST /api/projects/\d+/import\?.*return_task_ids"
    proxy.rewrite(lambda answer: {**answer, "prediction_count": 0}, times=1, path=imports)
    results = annotate(dataset, "bare", proxy.url, label_studio.pat)
    assert proxy.hits("POST", imports) == 2
    annotator = Annotator(label_studio.url, label_studio.pat)
    assert len(annotator.ls.tasks.list(project=results.project_id).items) == 3
    tasks = annotator.tasks(results.project_id)
    assert set(tasks) == set(dataset.values("id"))
    assert all(annotator.predicted(task) for task in tasks.values())
    assert sorted(results.created_tasks) == sorted(task["id"] for task in tasks.values())


# -- locks ------------------------------------------------------------------------------


def _load_in_another_process(dataset_name, key, api_key, url, then):
    """Runs the plugin's load in a fresh process that ``then`` fails ("raise")
    or hangs in ("hang") while writing; returns the process."""
    script = textwrap.dedent(
        f"""
        import time
        import fiftyone as fo
        from fiftyone_labelstudio.backend import dataset_io, load
        def fail(*args, **kwargs):
            if {then!r} == "hang":
                print("WRITING", flush=True)
                time.sleep(600)
            raise RuntimeError("the database went away")
        load.write_field = fail
        dataset = fo.load_dataset({dataset_name!r})
        load.load_annotations(dataset, {key!r}, url={url!r}, api_key={api_key!r})
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("then", ["raise", "hang"])
def test_a_load_failing_in_another_process_leaves_the_run_free(label_studio, dataset, images, then):
    labeled_dataset(dataset, images, [(30, 20)])
    dataset.persistent = True
    results = annotate(dataset, "shared", label_studio.url, label_studio.pat)
    annotator = Annotator(label_studio.url, label_studio.pat)
    [task] = annotator.tasks(results.project_id).values()
    annotator.submit(task, [])
    other = _load_in_another_process(
        dataset.name, "shared", label_studio.pat, label_studio.url, then
    )
    if then == "raise":
        _, err = other.communicate(timeout=300)
        assert other.returncode != 0 and "the database went away" in err
    else:
        while other.stdout.readline().strip() != "WRITING":  # it holds the run's lock now
            assert other.poll() is None, other.stderr.read()
        assert run_lock.holder(dataset, "shared") is not None
        other.send_signal(signal.SIGKILL)  # a worker killed mid-load
        other.wait(timeout=30)
    started = time.monotonic()
    report = load_annotations(dataset, "shared", url=label_studio.url, api_key=label_studio.pat)
    assert report["deleted"] == 3 and time.monotonic() - started < 120
    assert len(dataset.first()["boxes"].detections) == 0


# -- local storage --------------------------------------------------------------------------


def test_local_storage_covers_only_the_folder_holding_the_media(label_studio, dataset, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED", "true")
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", label_studio.document_root)
    home = os.path.join(label_studio.document_root, "home-" + uuid.uuid4().hex[:8])
    media = write_images(os.path.join(home, "photos", "2024"), [(10, 10)] * 2)
    media += write_images(os.path.join(home, "photos", "2024", "june"), [(10, 10)])
    [private] = write_images(os.path.join(home, "private"), [(10, 10)])
    dataset.add_samples([fo.Sample(filepath=p) for p in media])
    results = annotate(dataset, "scoped", label_studio.url, label_studio.pat,
                       label_schema={"gt": {"type": "classification", "classes": ["a"]}})  # fmt: skip
    assert results.media_mode == "local_storage"
    annotator = Annotator(label_studio.url, label_studio.pat)
    http = annotator.ls._client_wrapper.httpx_client
    [storage] = http.request(
        "api/storages/localfiles", method="GET", params={"project": results.project_id}
    ).json()
    assert storage["path"] == os.path.join(home, "photos", "2024")
    assert storage["recursive_scan"] is False
    for task in annotator.tasks(results.project_id).values():
        assert http.request(task["data"]["image"].lstrip("/"), method="GET").status_code == 200
    relative = os.path.relpath(private, label_studio.document_root)
    response = http.request("data/local-files/", method="GET", params={"d": relative})
    assert response.status_code == 404  # the folder next to the media is not served


# -- exports built in the background ------------------------------------------------------


def test_an_export_still_in_progress_is_waited_for(
    label_studio, proxy, dataset, images, snapshot_exports
):
    labeled_dataset(dataset, images, [(30, 20)])
    results = annotate(dataset, "background", proxy.url, label_studio.pat)
    Annotator(label_studio.url, label_studio.pat).accept_all(results.project_id)
    proxy.rewrite(
        lambda snapshot: {**snapshot, "status": "in_progress"},
        times=1,
        path=r"^POST /api/projects/\d+/exports/?$",
    )
    report = load_annotations(dataset, "background", url=proxy.url, api_key=label_studio.pat)
    assert report["loaded"] == 1
    assert proxy.hits("GET", r"/api/projects/\d+/exports/\d+/?$") >= 1


def test_an_export_is_deleted_whether_the_load_read_it_or_stopped_first(
    label_studio, dataset, images, snapshot_exports
):
    labeled_dataset(dataset, images, [(30, 20)])
    results = annotate(dataset, "exports", label_studio.url, label_studio.pat)
    annotator = Annotator(label_studio.url, label_studio.pat)
    annotator.accept_all(results.project_id)
    credentials = {"url": label_studio.url, "api_key": label_studio.pat}
    exports = f"api/projects/{results.project_id}/exports/"
    # the export is begun before the users are read, and this load stops there
    with pytest.raises(ValueError, match="no user of Label Studio"):
        load_annotations(dataset, "exports", annotation_choice="nobody@example.com", **credentials)
    deadline = time.monotonic() + 30  # deleted in the background once made
    while annotator.get(exports) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert annotator.get(exports) == []
    assert load_annotations(dataset, "exports", **credentials)["loaded"] == 1
    assert annotator.get(exports) == []  # read, then deleted before the load returned

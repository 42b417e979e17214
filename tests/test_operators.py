"""The three operators through ``execute_operator`` (as scripts and the App run
them), immediately and delegated, against the real Label Studio."""

import os
import uuid

import fiftyone as fo
import fiftyone.core.labels as fol
import fiftyone.operators as foo
import pytest
from annotator import Annotator
from fiftyone.operators.delegated import DelegatedOperationService
from fiftyone.operators.executor import ExecutionError
from test_backend import labeled_dataset, project_ids, snapshot, write_images

URI = "@annotate/labelstudio/"
SCHEMA = {"boxes": {"type": "detections", "classes": ["cat", "dog"]}}


@pytest.fixture
def images(label_studio):
    return os.path.join(label_studio.document_root, "ops-" + uuid.uuid4().hex[:8])


@pytest.fixture
def creds(label_studio):
    return {"url": label_studio.url, "api_key": label_studio.pat}


def run(name, dataset_or_view, params, **ctx):
    if isinstance(dataset_or_view, fo.Dataset):
        ctx["dataset"] = dataset_or_view
    else:
        ctx["view"] = dataset_or_view
    result = foo.execute_operator(URI + name, ctx={**ctx, "params": params})
    return result.result


def request(dataset_or_view, creds, key="run", **params):
    params = {"anno_key": key, "label_schema": SCHEMA, **creds, **params}
    return run("request_annotations", dataset_or_view, params)


# -- request, load, manage ------------------------------------------------------


def test_request_load_and_every_manage_action(label_studio, dataset, images, creds):
    labeled_dataset(dataset, images, [(30, 20), (20, 30), (25, 25)])
    view = dataset.limit(2)
    created = request(view, creds, key="ops")
    assert created["num_tasks"] == 2 and created["project_url"].endswith(
        f"/projects/{created['project_id']}"
    )

    annotator = Annotator(label_studio.url, label_studio.pat)
    tasks = annotator.tasks(created["project_id"])
    first, second = view.values("id")
    annotator.submit(tasks[first], [])  # every box deleted
    annotator.skip(tasks[second])

    loaded = run("load_annotations", dataset, {"anno_key": "ops", **creds})
    assert (loaded["loaded"], loaded["skipped"], loaded["added"]) == (1, 1, 0)
    assert loaded["deleted"] > 0 and len(dataset[first]["boxes"].detections) == 0

    info = run("manage_runs", dataset, {"action": "info", "anno_key": "ops", **creds})
    assert info["project_id"] == created["project_id"] and info["last_load"]["loaded"] == 1
    assert label_studio.pat not in str(info) and "api_key" not in info["config"]

    status = run("manage_runs", dataset, {"action": "status", "anno_key": "ops", **creds})
    assert (status["total"], status["annotated"], status["skipped"], status["remaining"]) == (
        2,
        1,
        1,
        0,
    )

    opened = run("manage_runs", dataset, {"action": "open_editor", "anno_key": "ops"})
    assert opened["project_url"] == created["project_url"]

    shown = run("manage_runs", dataset, {"action": "load_view", "anno_key": "ops"})
    assert shown["num_samples"] == 2

    run("manage_runs", dataset, {"action": "rename", "anno_key": "ops", "new_anno_key": "renamed"})
    assert dataset.list_annotation_runs() == ["renamed"]

    deleted = run(
        "manage_runs",
        dataset,
        {"action": "delete", "anno_key": "renamed", "cleanup": True, **creds},
    )
    assert deleted["project_deleted"] is True
    assert dataset.list_annotation_runs() == []
    assert created["project_id"] not in project_ids(label_studio)


def test_credentials_come_from_the_secrets_alone(label_studio, dataset, images, monkeypatch):
    monkeypatch.setenv("FIFTYONE_LABELSTUDIO_URL", label_studio.url)
    monkeypatch.setenv("FIFTYONE_LABELSTUDIO_API_KEY", label_studio.pat)
    labeled_dataset(dataset, images, [(30, 20)])
    created = run(
        "request_annotations", dataset, {"anno_key": "from_secrets", "label_schema": SCHEMA}
    )
    status = run("manage_runs", dataset, {"action": "status", "anno_key": "from_secrets"})
    assert status["total"] == 1
    loaded = run("load_annotations", dataset, {"anno_key": "from_secrets"})
    assert loaded["not_annotated"] == 1
    assert created["project_id"] in project_ids(label_studio)


def test_one_field_shorthand_and_json_schema(label_studio, dataset, images, creds):
    labeled_dataset(dataset, images, [(30, 20)])
    shorthand = run("request_annotations", dataset, {
        "anno_key": "short", "label_field": "fresh", "label_type": "classification",
        "classes": ["a", "b"], **creds,
    })  # fmt: skip
    assert shorthand["num_tasks"] == 1
    as_json = run("request_annotations", dataset, {
        "anno_key": "json", "label_schema": '{"boxes": {}}', "schema_source": "JSON", **creds,
    })  # fmt: skip
    assert as_json["num_tasks"] == 1
    assert dataset.get_annotation_info("json").config.label_schema["boxes"]["type"] == "detections"


# -- delegated ------------------------------------------------------------------


def test_request_and_load_run_delegated_with_progress(
    label_studio, dataset, images, creds, monkeypatch
):
    labeled_dataset(dataset, images, [(30, 20), (20, 30)])
    service = DelegatedOperationService()
    progress = []
    original = DelegatedOperationService.set_progress

    def record(self, doc_id, value):
        progress.append((value.progress, value.label))
        return original(self, doc_id, value)

    monkeypatch.setattr(DelegatedOperationService, "set_progress", record)
    # a delegated operation takes its key from the plugin's secrets, never its params
    monkeypatch.setenv("FIFTYONE_LABELSTUDIO_URL", label_studio.url)
    monkeypatch.setenv("FIFTYONE_LABELSTUDIO_API_KEY", label_studio.pat)

    queued = foo.execute_operator(
        URI + "request_annotations",
        ctx={"dataset": dataset, "params": {"anno_key": "later", "label_schema": SCHEMA}},
        request_delegation=True,
    )
    assert queued.delegated and "later" not in dataset.list_annotation_runs()
    service.execute_queued_operations(operator=URI + "request_annotations")
    op = service.get(queued.result["id"])
    assert op.run_state == "completed", op.status
    dataset.reload()
    assert "later" in dataset.list_annotation_runs()
    assert any("Imported 2 of 2 tasks" in (label or "") for _, label in progress)

    progress.clear()
    queued = foo.execute_operator(
        URI + "load_annotations",
        ctx={"dataset": dataset, "params": {"anno_key": "later", "delegate": True}},
    )
    assert queued.delegated
    service.execute_queued_operations(operator=URI + "load_annotations")
    assert service.get(queued.result["id"]).run_state == "completed"
    assert any("Writing the changed labels" in (label or "") for _, label in progress)


def test_big_views_default_to_delegated(label_studio, dataset, tmp_path, creds, monkeypatch):
    from fiftyone_labelstudio.operators import common

    monkeypatch.setattr(common, "DELEGATION_THRESHOLD", 2)
    paths = write_images(str(tmp_path / "big"), [(8, 8)] * 3)
    dataset.add_samples([fo.Sample(filepath=p) for p in paths])
    params = {
        "anno_key": "big",
        "label_schema": {"gt": {"type": "classification", "classes": ["a"]}},
    }
    # a typed key would be stored with the delegated operation: refused
    with pytest.raises(ExecutionError, match="api_key: a key typed here would be stored"):
        foo.execute_operator(
            URI + "request_annotations", ctx={"dataset": dataset, "params": {**params, **creds}}
        )
    monkeypatch.setenv("FIFTYONE_LABELSTUDIO_URL", label_studio.url)
    monkeypatch.setenv("FIFTYONE_LABELSTUDIO_API_KEY", label_studio.pat)
    queued = foo.execute_operator(
        URI + "request_annotations", ctx={"dataset": dataset, "params": params}
    )
    assert queued.delegated
    DelegatedOperationService().delete_operation(queued.result["id"])


# -- validation: the message names the param and the fix; nothing changes -------

BAD_REQUESTS = [
    ({"anno_key": "not valid"}, "anno_key='not valid' is not a valid Python identifier"),
    ({"anno_key": ""}, "anno_key"),
    (
        {"label_schema": {"nope": {}}},
        "label_schema['nope']: the field does not exist; give its type",
    ),
    (
        {"label_schema": {"boxes": {"type": "classification"}}},
        "label_schema['boxes']: the field holds detections or instances labels",
    ),
    (
        {"label_schema": {"new": {"type": "detections"}}},
        "label_schema['new']: a new detections field needs classes",
    ),
    (
        {"label_schema": {"new": {"type": "segmentation"}}},
        "label_schema['new']: a new segmentation field needs mask_targets",
    ),
    (
        {"label_schema": {"new": {"type": "cuboids", "classes": ["a"]}}},
        "type 'cuboids' is not one of",
    ),
    ({"label_schema": "{not json", "schema_source": "JSON"}, "label_schema is not valid JSON"),
    (
        {"label_schema": {"filepath": {"type": "scalar"}}},
        "label_schema: 'filepath' cannot hold labels",
    ),
    ({"project_name": "x" * 51}, "project_name has 51 characters; Label Studio allows 50"),
    ({"media": "url"}, "media: media='url' needs http(s) or cloud URLs"),
    ({"url": "http://127.0.0.1:9"}, "url: Cannot reach Label Studio at http://127.0.0.1:9"),
    ({"api_key": "wrong"}, "api_key: Label Studio at"),
]


@pytest.mark.parametrize("change,message", BAD_REQUESTS, ids=[m for _, m in BAD_REQUESTS])
def test_bad_request_params_are_refused_before_anything_changes(
    label_studio, dataset, images, creds, change, message
):
    labeled_dataset(dataset, images, [(30, 20)])
    before_projects = project_ids(label_studio)
    before = snapshot(dataset)
    params = {"anno_key": "bad", "label_schema": SCHEMA, **creds, **change}
    with pytest.raises(ExecutionError, match="Validation error") as error:
        run("request_annotations", dataset, params)
    assert message in str(error.value)
    assert dataset.list_annotation_runs() == []
    assert project_ids(label_studio) == before_projects
    assert snapshot(dataset).keys() == before.keys()


def test_a_used_key_an_empty_view_and_missing_media_are_refused(
    label_studio, dataset, images, creds
):
    labeled_dataset(dataset, images, [(30, 20)])
    request(dataset, creds, key="taken")
    with pytest.raises(ExecutionError, match="anno_key='taken' is already a run of this dataset"):
        request(dataset, creds, key="taken")
    with pytest.raises(ExecutionError, match="view_target: the target is empty"):
        request(dataset.match({"filepath": "none"}), creds, key="empty")
    os.remove(dataset.first().filepath)
    with pytest.raises(ExecutionError, match="media_field: 1 media files do not exist"):
        request(dataset, creds, key="missing")
    assert dataset.list_annotation_runs() == ["taken"]


def test_bad_load_and_manage_params_are_refused(label_studio, dataset, images, creds):
    labeled_dataset(dataset, images, [(30, 20)])
    request(dataset, creds, key="first")
    request(dataset, creds, key="second", label_schema={"boxes": {}, "weather": {}})
    cases = [
        ("load_annotations", {"anno_key": "nope"}, "anno_key: 'nope' is not a Label Studio run"),
        (
            "load_annotations",
            {"anno_key": "first", "dest_field": "not valid"},
            "dest_field: 'not valid' is not a valid field name",
        ),
        (
            "load_annotations",
            {"anno_key": "first", "dest_field": "weather"},
            "dest_field: field 'weather' holds Classification, not Detections",
        ),
        (
            "load_annotations",
            {"anno_key": "second", "dest_field": "new"},
            "dest_field: this run has 2 fields",
        ),
        (
            "load_annotations",
            {"anno_key": "second", "dest_field": {"other": "x"}},
            "dest_field names ['other']",
        ),
        (
            "manage_runs",
            {"action": "rename", "anno_key": "first", "new_anno_key": "second"},
            "new_anno_key='second' is already a run",
        ),
        (
            "manage_runs",
            {"action": "rename", "anno_key": "first", "new_anno_key": "a b"},
            "new_anno_key='a b' is not a valid Python identifier",
        ),
    ]
    before = snapshot(dataset)
    for name, params, message in cases:
        with pytest.raises(ExecutionError, match="Validation error") as error:
            run(name, dataset, {**creds, **params})
        assert message in str(error.value), name
    assert sorted(dataset.list_annotation_runs()) == ["first", "second"]
    after = snapshot(dataset)
    for sample_id in before:
        assert after[sample_id]["boxes"] == before[sample_id]["boxes"]


def test_load_into_a_new_field_leaves_the_original_alone(label_studio, dataset, images, creds):
    labeled_dataset(dataset, images, [(30, 20)])
    created = request(dataset, creds, key="copy")
    annotator = Annotator(label_studio.url, label_studio.pat)
    [task] = annotator.tasks(created["project_id"]).values()
    annotator.submit(task, annotator.predicted(task))
    before = dataset.first()["boxes"]
    run("load_annotations", dataset, {"anno_key": "copy", "dest_field": "reviewed", **creds})
    sample = dataset.first()
    assert sample["boxes"] == before
    assert [d.id for d in sample["reviewed"].detections] == [d.id for d in before.detections]
    assert isinstance(sample["reviewed"], fol.Detections)

"""The "labelstudio" backend against a real Label Studio: FiftyOne's own
annotation API, with an annotator simulated through Label Studio's API."""

import json
import os
import subprocess
import sys
import uuid

import fiftyone as fo
import fiftyone.core.labels as fol
import numpy as np
import pytest
from annotator import Annotator
from fiftyone_labelstudio.backend import LabelStudioError
from fiftyone_labelstudio.backend.progress import reporting
from labels_equal import assert_values_equal
from PIL import Image
from sample_labels import SCHEMA, make_sample

FIELDS = list(SCHEMA)


def write_images(folder, sizes):
    """PNG files of the given ``(width, height)`` sizes; returns their paths."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    rng = np.random.default_rng(len(sizes))
    for i, (width, height) in enumerate(sizes):
        path = os.path.join(folder, f"image_{i:05d}.png")
        Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def media_dir(label_studio):
    """A fresh folder under Label Studio's document root."""
    return os.path.join(label_studio.document_root, uuid.uuid4().hex[:10])


def labeled_dataset(dataset, folder, sizes):
    """``dataset`` with one sample per image, each holding labels of every type."""
    paths = write_images(folder, sizes)
    samples = []
    for i, (path, (width, height)) in enumerate(zip(paths, sizes)):
        sample = fo.Sample(filepath=path)
        sample.update_fields(make_sample(i, width, height))
        samples.append(sample)
    dataset.add_samples(samples)
    dataset.mask_targets = {
        name: info["mask_targets"] for name, info in SCHEMA.items() if "mask_targets" in info
    }
    dataset.compute_metadata()
    return dataset


def snapshot(dataset, names=FIELDS):
    """Every sample's values of the run's fields, by sample id, as the
    database holds them now: detached from the live documents a load changes
    in memory, with their label ids (``Sample.copy()`` makes new ones)."""
    found = {}
    for sample in dataset.select_fields(names):
        detached = fo.Sample.from_dict(sample.to_mongo_dict())
        found[sample.id] = {name: detached[name] for name in names}
    return found


def project_ids(label_studio):
    ls = Annotator(label_studio.url, label_studio.pat).ls
    return {project.id for project in ls.projects.list()}


def annotate(dataset_or_view, key, label_studio, **kwargs):
    kwargs.setdefault("label_schema", SCHEMA)
    return dataset_or_view.annotate(
        key, backend="labelstudio", url=label_studio.url, api_key=label_studio.pat, **kwargs
    )


# -- credentials --------------------------------------------------------------


def test_a_personal_access_token_connects(label_studio):
    from fiftyone_labelstudio.backend import LabelStudioAnnotationAPI

    info = LabelStudioAnnotationAPI(label_studio.url, label_studio.pat).server_info()
    assert info.version == "1.23.2" and info.user == label_studio.username


def test_a_legacy_token_is_explained_when_disabled_and_works_when_enabled(label_studio):
    from fiftyone_labelstudio.backend import LabelStudioAnnotationAPI

    with pytest.raises(LabelStudioError) as error:
        LabelStudioAnnotationAPI(label_studio.url, label_studio.legacy_token).server_info()
    message = str(error.value)
    assert "HTTP 401" in message and "legacy token" in message
    assert "personal access token" in message and "API Token Settings" in message

    label_studio.set_legacy_tokens(True)
    try:
        api = LabelStudioAnnotationAPI(label_studio.url, label_studio.legacy_token)
        assert api.server_info().user == label_studio.username
    finally:
        label_studio.set_legacy_tokens(False)


def test_a_wrong_token_and_a_server_that_is_down_say_what_to_do(label_studio, dataset, media_dir):
    from fiftyone_labelstudio.backend import LabelStudioAnnotationAPI

    with pytest.raises(LabelStudioError, match="HTTP 401.*personal access token"):
        LabelStudioAnnotationAPI(label_studio.url, "not-a-token").server_info()

    labeled_dataset(dataset, media_dir, [(32, 24)])
    before = project_ids(label_studio)
    with pytest.raises(LabelStudioError, match="Cannot reach Label Studio at http://127.0.0.1:9"):
        dataset.annotate(
            "down",
            backend="labelstudio",
            label_schema=SCHEMA,
            url="http://127.0.0.1:9",
            api_key=label_studio.pat,
        )
    assert "down" not in dataset.list_annotation_runs()
    assert project_ids(label_studio) == before


# -- every label type, end to end ---------------------------------------------


def test_every_label_type_round_trips_through_an_annotator(label_studio, dataset, media_dir):
    sizes = [(64, 48), (40, 60), (50, 50), (33, 21), (48, 64), (20, 30)]
    labeled_dataset(dataset, media_dir, sizes)
    before = snapshot(dataset)
    ids = dataset.values("id")

    results = annotate(dataset, "everything", label_studio)
    assert len(results.sample_ids) == 6
    annotator = Annotator(label_studio.url, label_studio.pat)
    tasks = annotator.tasks(results.project_id)
    assert set(tasks) == set(ids)

    # sample 0: accepted as is
    annotator.submit(tasks[ids[0]], annotator.predicted(tasks[ids[0]]))
    # sample 1: edited: a box moved and relabelled, one drawn, a keypoint
    # deleted, the count changed
    edited = annotator.predicted(tasks[ids[1]])
    box = next(r for r in edited if r["from_name"] == "boxes")
    box["value"].update(x=5.0, rectanglelabels=["cat"])
    drawn = dict(
        box, id="Dr4wnInLS1", value=dict(box["value"], x=50.0, y=50.0, width=10.0, height=10.0)
    )
    face = before[ids[1]]["poses"].keypoints[1]
    edited = [r for r in edited if not r["id"].startswith(face.id)] + [drawn]
    next(r for r in edited if r["from_name"] == "count")["value"]["number"] = 99
    annotator.submit(tasks[ids[1]], edited)
    # sample 2: skipped
    annotator.skip(tasks[ids[2]])
    # sample 3: two annotations; the later one (unchanged) wins
    annotator.submit(tasks[ids[3]], [])
    annotator.submit(tasks[ids[3]], annotator.predicted(tasks[ids[3]]))
    # sample 4: not annotated; sample 5: every label deleted
    annotator.submit(tasks[ids[5]], [])

    dataset.load_annotations("everything")
    after = snapshot(dataset)
    for i in (0, 2, 3, 4):
        for name in FIELDS:
            assert_values_equal(after[ids[i]][name], before[ids[i]][name], f"sample {i}.{name}")

    changed = after[ids[1]]
    moved_id = box["id"]
    boxes = {d.id: d for d in changed["boxes"].detections}
    assert boxes[moved_id].label == "cat" and boxes[moved_id].bounding_box[0] == 0.05
    original_box = next(d for d in before[ids[1]]["boxes"].detections if d.id == moved_id)
    assert boxes[moved_id]["iscrowd"] == original_box["iscrowd"]
    assert len(boxes) == len(before[ids[1]]["boxes"].detections) + 1
    assert face.id not in {k.id for k in changed["poses"].keypoints}
    assert changed["count"] == 99
    for name in set(FIELDS) - {"boxes", "poses", "count"}:
        assert_values_equal(changed[name], before[ids[1]][name], f"sample 1.{name}")

    emptied = after[ids[5]]
    for name, info in SCHEMA.items():
        value = emptied[name]
        if info["type"] == "scalar" or info["type"] in ("classification", "segmentation"):
            assert value is None, name
        else:
            assert len(value[value._LABEL_LIST_FIELD]) == 0, name

    report = dataset.load_annotation_results("everything").last_load
    assert (report["loaded"], report["skipped"], report["not_annotated"], report["missing"]) == (
        4,
        1,
        1,
        0,
    )
    assert report["added"] == 1 and report["problems"] == 0 and report["unexpected"] == 0

    # loading twice changes nothing, and the drawn box keeps its id
    drawn_id = (set(boxes) - {d.id for d in before[ids[1]]["boxes"].detections}).pop()
    dataset.load_annotations("everything")
    again = snapshot(dataset)
    for sample_id in ids:
        for name in FIELDS:
            assert_values_equal(again[sample_id][name], after[sample_id][name], name)
    assert drawn_id in {d.id for d in again[ids[1]]["boxes"].detections}

    status = dataset.load_annotation_results("everything").get_status()
    assert (status["total"], status["annotated"], status["skipped"], status["remaining"]) == (
        6,
        4,
        1,
        1,
    )


def test_existing_labels_as_annotations_load_back_unchanged(label_studio, dataset, media_dir):
    labeled_dataset(dataset, media_dir, [(30, 20), (20, 30)])
    before = snapshot(dataset)
    annotate(dataset, "as_annotations", label_studio, existing_labels="annotations")
    dataset.load_annotations("as_annotations")
    after = snapshot(dataset)
    for sample_id in before:
        for name in FIELDS:
            assert_values_equal(after[sample_id][name], before[sample_id][name], name)
    report = dataset.load_annotation_results("as_annotations").last_load
    assert (report["loaded"], report["added"], report["edited"], report["deleted"]) == (2, 0, 0, 0)


def test_new_fields_are_created_from_what_annotators_draw(label_studio, dataset, media_dir):
    labeled_dataset(dataset, media_dir, [(40, 40)])
    schema = {
        "new_boxes": {"type": "detections", "classes": ["car"]},
        "caption": {"type": "scalar"},
    }
    results = annotate(dataset, "fresh", label_studio, label_schema=schema)
    annotator = Annotator(label_studio.url, label_studio.pat)
    [task] = annotator.tasks(results.project_id).values()
    assert annotator.predicted(task) == []
    base = {"to_name": "image", "original_width": 40, "original_height": 40}
    annotator.submit(task, [
        {**base, "id": "a1", "from_name": "new_boxes", "type": "rectanglelabels",
         "value": {"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0, "rectanglelabels": ["car"]}},
        {**base, "id": "a2", "from_name": "caption", "type": "textarea", "value": {"text": ["a car"]}},
    ])  # fmt: skip
    dataset.load_annotations("fresh")
    sample = dataset.first()
    [box] = sample["new_boxes"].detections
    assert box.label == "car" and box.bounding_box == [0.1, 0.2, 0.3, 0.4]
    assert sample["caption"] == "a car"


def test_untouched_labels_load_into_a_new_field_in_full(label_studio, dataset, media_dir):
    labeled_dataset(dataset, media_dir, [(30, 20), (20, 30)])
    results = annotate(dataset, "copy_all", label_studio, label_schema={"boxes": {}, "count": {}})
    Annotator(label_studio.url, label_studio.pat).accept_all(results.project_id)
    dataset.load_annotations("copy_all", dest_field={"boxes": "boxes_copy"})
    for sample in dataset:
        assert [d.id for d in sample["boxes_copy"].detections] == [
            d.id for d in sample["boxes"].detections
        ]
    dataset.load_annotations("copy_all")  # into their own fields: nothing to change
    assert dataset.load_annotation_results("copy_all").last_load["edited"] == 0


def test_fiftyone_loads_no_second_copy_of_labels_the_run_never_sent(
    label_studio, dataset, media_dir
):
    # a sample nobody annotated gives FiftyOne's merge its labels as they are: were the
    # dogs the view filtered out, or a box added since, among them, it would add them again
    labeled_dataset(dataset, media_dir, [(30, 20), (20, 30)])
    view = dataset.filter_labels("boxes", fo.ViewField("label") == "cat")
    annotate(view, "cats", label_studio, label_schema={"boxes": {}})
    sample = dataset.first()
    sample["boxes"].detections.append(fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.2, 0.2]))
    sample.save()
    before = snapshot(dataset, ["boxes"])
    dataset.load_annotations("cats")
    after = snapshot(dataset, ["boxes"])
    assert sum(len(s["boxes"].detections) for s in after.values()) == 7  # 3 + 3 + 1
    for sample_id in before:
        assert_values_equal(after[sample_id]["boxes"], before[sample_id]["boxes"], sample_id)


# -- media --------------------------------------------------------------------


def test_250_uploaded_images_go_in_batches_of_at_most_100(label_studio, dataset, tmp_path):
    paths = write_images(str(tmp_path / "upload"), [(16, 12)] * 250)
    dataset.add_samples(
        [fo.Sample(filepath=p, ground_truth=fol.Classification(label="a")) for p in paths]
    )
    schema = {"ground_truth": {"type": "classification", "classes": ["a", "b"]}}
    results = annotate(dataset, "many", label_studio, label_schema=schema, media="upload")
    assert results.media_mode == "upload"
    # the tasks go in two imports (a first batch of 200, then 50): each once
    assert len(set(results.created_tasks)) == len(results.created_tasks) == 250
    tasks = Annotator(label_studio.url, label_studio.pat).tasks(results.project_id)
    assert set(tasks) == set(dataset.values("id"))
    urls = {task["data"]["image"] for task in tasks.values()}
    assert len(urls) == 250 and all(u.startswith("/data/upload/") for u in urls)
    assert_each_task_shows_its_image(label_studio, tasks, dataset)


def served_bytes(label_studio, url):
    """The bytes Label Studio serves at a task's media URL, as the editor gets them."""
    ls = Annotator(label_studio.url, label_studio.pat).ls
    response = ls._client_wrapper.httpx_client.request(url.lstrip("/"), method="GET")
    assert response.status_code == 200, url
    return response.content


def assert_each_task_shows_its_image(label_studio, tasks, samples):
    """Every task's image, fetched back from the server, is its own sample's file."""
    for sample in samples.select_fields():
        with open(sample.filepath, "rb") as f:
            expected = f.read()
        assert served_bytes(label_studio, tasks[sample.id]["data"]["image"]) == expected, (
            sample.filepath
        )


def test_files_named_as_people_name_them_upload_and_show_their_own_image(
    label_studio, dataset, tmp_path
):
    names = [
        "Capture d’écran du 2021-06-07 12-05-52.png",
        "IMG_0001 (1).jpg",
        "a" * 120 + " #1 + 2 & 3 'quoted' \"double\" " + "b" * 20 + ".png",
        "left/frame.png",
        "right/frame.png",
        "日本語の名前.png",
    ]
    rng = np.random.default_rng(7)
    paths = []
    for name in names:
        path = tmp_path / "names" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8))
        image.save(path, format="JPEG" if name.endswith(".jpg") else "PNG")
        paths.append(str(path))
    dataset.add_samples([fo.Sample(filepath=p) for p in paths])
    schema = {"gt": {"type": "classification", "classes": ["x"]}}
    results = annotate(dataset, "names", label_studio, label_schema=schema, media="upload")
    tasks = Annotator(label_studio.url, label_studio.pat).tasks(results.project_id)
    assert set(tasks) == set(dataset.values("id"))
    assert_each_task_shows_its_image(label_studio, tasks, dataset)


def test_tiff_files_are_uploaded_as_png_and_refused_where_referenced(
    label_studio, dataset, media_dir, monkeypatch
):
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED", "true")
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", label_studio.document_root)
    os.makedirs(media_dir)
    pixels = np.random.default_rng(3).integers(0, 255, (10, 14, 3), dtype=np.uint8)
    path = os.path.join(media_dir, "scan 1.tif")
    Image.fromarray(pixels).save(path)
    dataset.add_sample(fo.Sample(filepath=path))
    schema = {"gt": {"type": "classification", "classes": ["x"]}}
    before = project_ids(label_studio)
    with pytest.raises(
        ValueError, match=r"media='local_storage'.*\.tif.*scan 1\.tif.*media='upload'"
    ):
        annotate(dataset, "tiff_local", label_studio, label_schema=schema, media="local_storage")
    assert project_ids(label_studio) == before and dataset.list_annotation_runs() == []

    results = annotate(dataset, "tiff", label_studio, label_schema=schema)  # auto
    assert results.media_mode == "upload"
    [task] = Annotator(label_studio.url, label_studio.pat).tasks(results.project_id).values()
    import io

    shown = Image.open(io.BytesIO(served_bytes(label_studio, task["data"]["image"])))
    assert shown.format == "PNG" and np.array_equal(np.asarray(shown), pixels)


@pytest.mark.parametrize("through", ["its folder", "a folder link"])
def test_media_under_the_document_root_are_referenced_not_copied(
    label_studio, dataset, media_dir, monkeypatch, tmp_path, through
):
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED", "true")
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", label_studio.document_root)
    folder = media_dir
    if through == "a folder link":  # the dataset names its files through a link into the root
        os.makedirs(media_dir)
        folder = str(tmp_path / "alias")
        os.symlink(media_dir, folder)
    labeled_dataset(dataset, folder, [(30, 20)] * 3)
    assert dataset.first().filepath.startswith(folder)
    results = annotate(dataset, "local", label_studio, label_schema={"boxes": {}})
    assert results.media_mode == "local_storage"
    annotator = Annotator(label_studio.url, label_studio.pat)
    task = next(iter(annotator.tasks(results.project_id).values()))
    url = task["data"]["image"]
    assert url.startswith("/data/local-files/?d=")
    response = annotator.ls._client_wrapper.httpx_client.request(url.lstrip("/"), method="GET")
    assert response.status_code == 200 and response.content[:4] == b"\x89PNG"


def test_a_document_root_that_is_a_link_is_kept_as_set_for_storages(tmp_path):
    """Label Studio checks a storage's path against its document root as
    written, without resolving links: the media are located under the
    resolved root, the storages named under the root as set (a trial's
    server with ``/data -> /mnt/disk/data`` refused the resolved path)."""
    from fiftyone_labelstudio.backend.media import LocalFiles

    (tmp_path / "disk" / "data").mkdir(parents=True)
    (tmp_path / "data").symlink_to(tmp_path / "disk" / "data")
    local = LocalFiles.from_environment(
        {
            "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
            "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": str(tmp_path / "data"),
        }
    )
    assert local.document_root == os.path.realpath(tmp_path / "disk" / "data")
    assert local.root_as_set == str(tmp_path / "data")


def test_local_storage_resolves_links_as_label_studio_serves_them(tmp_path):
    from fiftyone_labelstudio.backend.media import LocalFiles, plan_media

    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "imgs").mkdir(parents=True)
    outside.mkdir()
    Image.new("RGB", (4, 3)).save(root / "imgs" / "a b.png")
    Image.new("RGB", (4, 3)).save(outside / "far.png")
    (tmp_path / "alias").symlink_to(root / "imgs")  # a folder link into the root
    (root / "imgs" / "far.png").symlink_to(outside / "far.png")  # a file link out of it
    local = LocalFiles(True, str(root))

    via_alias = str(tmp_path / "alias" / "a b.png")
    plan = plan_media([via_alias], "auto", local)
    assert plan.mode == "local_storage"
    assert plan.relatives == {via_alias: os.path.join("imgs", "a b.png")}
    leaving = str(root / "imgs" / "far.png")
    assert plan_media([via_alias, leaving], "auto", local).mode == "upload"
    with pytest.raises(
        ValueError,
        match=r"local_storage.*far\.png \(a link to .*outside.far\.png\) is not in a folder under",
    ):
        plan_media([leaving], "local_storage", local)


def test_url_media_are_passed_as_urls(label_studio, dataset, tmp_path):
    paths = write_images(str(tmp_path / "remote"), [(10, 10)] * 3)
    urls = [f"https://images.example.com/{i}.jpg" for i in range(3)]
    dataset.add_samples([fo.Sample(filepath=p, url=u) for p, u in zip(paths, urls)])
    schema = {"gt": {"type": "classification", "classes": ["x"]}}
    results = annotate(dataset, "urls", label_studio, label_schema=schema, media_field="url")
    assert results.media_mode == "url"
    tasks = Annotator(label_studio.url, label_studio.pat).tasks(results.project_id)
    assert sorted(t["data"]["image"] for t in tasks.values()) == sorted(urls)


# -- failures -----------------------------------------------------------------


def test_a_request_failing_after_project_creation_leaves_no_project_and_no_run(
    label_studio, dataset, tmp_path
):
    paths = write_images(str(tmp_path / "vanishing"), [(16, 12)] * 5)
    dataset.add_samples([fo.Sample(filepath=p) for p in paths])
    before = project_ids(label_studio)

    def delete_a_file_once_the_project_exists(fraction, label):
        if "created" in label:
            os.remove(paths[3])

    with reporting(delete_a_file_once_the_project_exists), pytest.raises(FileNotFoundError):
        annotate(
            dataset,
            "doomed",
            label_studio,
            label_schema={"gt": {"type": "classification", "classes": ["x"]}},
            media="upload",
        )
    assert "doomed" not in dataset.list_annotation_runs()
    assert project_ids(label_studio) == before
    write_images(str(tmp_path / "vanishing"), [(16, 12)] * 5)
    annotate(
        dataset,
        "doomed",
        label_studio,
        label_schema={"gt": {"type": "classification", "classes": ["x"]}},
    )


def test_a_task_deleted_in_label_studio_leaves_its_labels_alone(label_studio, dataset, media_dir):
    labeled_dataset(dataset, media_dir, [(30, 20), (20, 30)])
    before = snapshot(dataset)
    results = annotate(dataset, "pruned", label_studio)
    annotator = Annotator(label_studio.url, label_studio.pat)
    tasks = annotator.tasks(results.project_id)
    first, second = dataset.values("id")
    annotator.ls.tasks.delete(id=str(tasks[first]["id"]))
    annotator.submit(tasks[second], [])
    dataset.load_annotations("pruned")
    after = snapshot(dataset)
    for name in FIELDS:
        assert_values_equal(after[first][name], before[first][name], name)
    assert dataset.load_annotation_results("pruned").last_load["missing"] == 1


# -- run management -------------------------------------------------------------


def test_runs_load_in_a_fresh_process_and_cleanup_deletes_the_project(
    label_studio, dataset, media_dir
):
    labeled_dataset(dataset, media_dir, [(30, 20)])
    dataset.persistent = True
    results = annotate(dataset, "fresh_process", label_studio, label_schema={"boxes": {}})
    script = (
        "import fiftyone as fo\n"
        f"ds = fo.load_dataset({dataset.name!r})\n"
        f"r = ds.load_annotation_results('fresh_process', api_key={label_studio.pat!r})\n"
        "ds.load_annotations('fresh_process', api_key=" + repr(label_studio.pat) + ")\n"
        "print('RESULT', type(r).__module__, r.get_status()['total'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1].split() == [
        "RESULT",
        "fiftyone_labelstudio.backend.annotation_backend",
        "1",
    ]

    results.cleanup()
    assert results.project_id not in project_ids(label_studio)
    dataset.delete_annotation_run("fresh_process")
    assert dataset.list_annotation_runs() == []


def test_the_api_key_is_never_stored(label_studio, dataset, media_dir):
    labeled_dataset(dataset, media_dir, [(30, 20)])
    annotate(dataset, "secret", label_studio, label_schema={"boxes": {}})
    info = dataset.get_annotation_info("secret")
    stored = json.dumps(info.serialize(), default=str) + json.dumps(
        dataset.load_annotation_results("secret").serialize(), default=str
    )
    assert label_studio.pat not in stored and "api_key" not in stored

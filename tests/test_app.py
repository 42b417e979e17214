"""The plugin in the real FiftyOne App, driven by a real browser (headless
Chromium through Playwright), against the session's real Label Studio.

One App server per module, with the session's private database and plugins
dir and the plugin's secrets in its environment. Each test makes its own
persistent dataset (the App reads it from another process) and deletes it.
Screenshots of each step go to tests/artifacts/app/NN-step.png.
"""

import copy
import glob
import os
import re
import signal
import uuid
from types import SimpleNamespace

import fiftyone as fo
import fiftyone.core.labels as fol
import fiftyone.operators as foo
import numpy as np
import pytest
from annotator import Annotator
from app import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PANEL,
    SLOW,
    app_env,
    choose,
    close_output,
    close_panels,
    field,
    fill,
    form,
    in_thread,
    label_counts,
    new_page,
    open_dataset,
    open_operator,
    open_panel,
    panel,
    run_row,
    shot,
    start_app,
    start_worker,
    submit,
    wait_until,
)
from fiftyone.operators.delegated import DelegatedOperationService
from fiftyone_labelstudio.backend import load_annotations
from fiftyone_labelstudio.backend.incremental import OVERLAP
from fiftyone_labelstudio.backend.plan import annotator_field
from fiftyone_labelstudio.backend.runs import plugin_runs, run_meta
from PIL import Image
from playwright.sync_api import expect, sync_playwright
from test_backend import project_ids
from test_safety import assert_stored_nowhere

URI = "@annotate/labelstudio/"
REQUEST = "Label Studio: request annotations"
LOAD = "Label Studio: load annotations"
SECOND = "second.annotator@example.com"
SETTLE_MS = int(OVERLAP.total_seconds() * 1000) + 1500
"""How long a change waits before a load: a load looks :data:`OVERLAP` before
the previous one started, so a change made just before it would count twice."""


# -- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(label_studio):
    """The FiftyOne App server of this module: ``.url``, ``.env``."""
    for old in glob.glob(os.path.join(ARTIFACTS, "*.png")):
        os.remove(old)
    env = app_env(label_studio)
    server, url = start_app(env)
    try:
        yield SimpleNamespace(url=url, env=env)
    finally:
        server.stop()  # before the session disconnects from the database


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    page = new_page(browser)
    try:
        yield page
    finally:
        try:
            close_panels(page, timeout=10_000)  # after a failure too: the server remembers them
        except Exception:  # a form left open by a failed test covers the tabs
            pass
        page.context.close()


@pytest.fixture
def make_dataset(tmp_path):
    """Makes persistent datasets of ``n`` images with one box each
    (cat, dog, cat, ...), the first ``tagged`` tagged "batch", and a saved
    view "batch" (tag "batch", limit 2); deletes them afterwards."""
    made = []

    def make(n, tagged=0):
        dataset = fo.Dataset(f"app-{uuid.uuid4().hex[:10]}", persistent=True)
        made.append(dataset)
        samples = []
        for i in range(n):
            path = str(tmp_path / f"{dataset.name}-{i}.png")
            pixels = np.full((240, 320, 3), (40 + 40 * i, 90, 140), np.uint8)
            pixels[30:130, 40:170] = (230, 200, 60)
            Image.fromarray(pixels).save(path)
            sample = fo.Sample(filepath=path, tags=["batch"] if i < tagged else [])
            sample["ground_truth"] = fol.Detections(
                detections=[
                    fol.Detection(
                        label=("cat", "dog")[i % 2], bounding_box=[0.125, 0.125, 0.4, 0.4]
                    )
                ]
            )
            samples.append(sample)
        dataset.add_samples(samples)
        dataset.classes = {"ground_truth": ["cat", "dog", "bird"]}
        dataset.save_view("batch", dataset.match_tags("batch").limit(2))
        return dataset

    yield make
    for dataset in made:
        if not dataset.deleted:
            dataset.delete()


@pytest.fixture
def annotator(label_studio):
    return Annotator(label_studio.url, label_studio.pat)


@pytest.fixture(scope="module")
def second(label_studio):
    """A second annotator of the admin's organization (as in test_long_runs)."""
    return Annotator(label_studio.url, label_studio.add_user(SECOND, "second-annotator-pw"))


def request(view, key, label_studio, **extra):
    """A run of the ground truth boxes made with the operator (as a script does);
    ``extra`` params go to the operator too."""
    params = {
        "anno_key": key,
        "label_schema": {"ground_truth": {}},
        "url": label_studio.url,
        "api_key": label_studio.pat,
        **extra,
    }
    done = in_thread(
        foo.execute_operator, URI + "request_annotations", ctx={"view": view, "params": params}
    )
    return done.result


def drawn_box(like, label, x, y):
    """A region drawn in Label Studio: a new id, the task's image size."""
    return {
        "id": uuid.uuid4().hex[:10],
        "from_name": "ground_truth",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": like["original_width"],
        "original_height": like["original_height"],
        "image_rotation": 0,
        "value": {
            "x": x,
            "y": y,
            "width": 20.0,
            "height": 25.0,
            "rotation": 0,
            "rectanglelabels": [label],
        },
    }


# -- tests ----------------------------------------------------------------------


def test_request_on_a_filtered_view_annotate_and_load_in_the_app(
    app, page, label_studio, annotator, make_dataset
):
    dataset = make_dataset(5, tagged=3)
    view = dataset.load_saved_view("batch")
    ids = view.values("id")
    assert len(ids) == 2

    open_dataset(page, app.url, dataset.name, saved_view="batch")
    expect(page.locator("[data-cy=looker]")).to_have_count(2, timeout=SLOW)
    assert label_counts(page, "ground_truth") == {"cat": 1, "dog": 1}
    shot(page, "01-filtered-view-before")

    modal = open_operator(page, REQUEST)
    modal.get_by_text("Connected to Label Studio").wait_for(timeout=SLOW)
    expect(modal.get_by_text("The 2 samples of the current view")).to_be_visible()
    fill(modal, "Annotation key", "in_app")
    choose(modal, "Existing fields", "ground_truth")
    expect(modal.get_by_text("label_schema: choose at least one field")).to_have_count(0)
    shot(page, "02-request-form")
    submit(modal)
    page.get_by_text("Annotation run created").wait_for(timeout=SLOW)
    expect(form(page)).to_contain_text(re.compile(r"Tasks created:\s*2"))
    shot(page, "03-request-created")
    close_output(page)

    dataset.reload()
    assert plugin_runs(dataset) == ["in_app"]
    project_id = run_meta(dataset, "in_app")["project_id"]
    tasks = annotator.tasks(project_id)
    assert sorted(tasks) == sorted(ids)

    # the annotator relabels and moves the cat, and draws a bird beside the dog
    cat, dog = (tasks[i] for i in ids)
    edited = annotator.predicted(cat)
    edited[0]["value"]["rectanglelabels"] = ["bird"]
    edited[0]["value"]["x"] += 20.0
    annotator.submit(cat, edited)
    kept = annotator.predicted(dog)
    annotator.submit(dog, kept + [drawn_box(kept[0], "bird", 70.0, 60.0)])

    modal = open_operator(page, LOAD)
    modal.get_by_text("Connected to Label Studio").wait_for(timeout=SLOW)
    expect(field(modal, "Annotation run")).to_contain_text("in_app")
    shot(page, "04-load-form")
    submit(modal)
    page.get_by_text("Annotations loaded").wait_for(timeout=SLOW)
    loaded = form(page)
    for pattern in (r"Labels added:\s*1", r"Labels edited:\s*1", r"Tasks loaded:\s*2"):
        expect(loaded).to_contain_text(re.compile(pattern))
    shot(page, "05-load-result")
    close_output(page)

    dataset.reload()
    moved = dataset[ids[0]].ground_truth.detections
    assert [d.label for d in moved] == ["bird"]
    assert moved[0].bounding_box[0] == pytest.approx(0.325)
    assert sorted(d.label for d in dataset[ids[1]].ground_truth.detections) == ["bird", "dog"]
    assert dataset.count_values("ground_truth.detections.label") == {"bird": 2, "dog": 2, "cat": 2}

    wait_until(
        page,
        lambda: label_counts(page, "ground_truth") == {"bird": 2, "dog": 1},
        "the sidebar to count the loaded labels",
    )
    shot(page, "06-filtered-view-after-load")


def test_the_panel_shows_progress_and_runs_each_action(
    app, page, label_studio, annotator, make_dataset
):
    dataset = make_dataset(3)
    first = request(dataset.limit(2), "first", label_studio)
    second = request(dataset.skip(2), "second", label_studio)
    done, skipped = annotator.tasks(first["project_id"]).values()
    annotator.submit(done, annotator.predicted(done))
    annotator.skip(skipped)

    open_dataset(page, app.url, dataset.name)
    content = open_panel(page)
    expect(content).to_contain_text(re.compile(r"Connected to Label Studio \d+\.\d+"))
    expect(content).to_contain_text(f"at {label_studio.url} as {label_studio.username}")
    expect(run_row(content, "first")).to_contain_text(
        "2 tasks: 1 annotated, 1 skipped, 0 remaining"
    )
    expect(run_row(content, "first")).to_contain_text("last loaded never")
    expect(run_row(content, "second")).to_contain_text(
        "1 task: 0 annotated, 0 skipped, 1 remaining"
    )
    link = run_row(content, "first").get_by_role("link", name="Open in Label Studio")
    expect(link).to_have_attribute("href", first["project_url"])
    expect(link).to_have_attribute("target", "_blank")  # not in the App's own tab
    shot(page, "07-panel-runs-and-progress")

    # refresh: the annotator finished the second run meanwhile
    (task,) = annotator.tasks(second["project_id"]).values()
    annotator.submit(task, annotator.predicted(task))
    run_row(content, "second").get_by_role("button", name="Refresh").click()
    expect(run_row(content, "second")).to_contain_text(
        "1 task: 1 annotated, 0 skipped, 0 remaining"
    )

    # the run's view
    run_row(content, "first").get_by_role("button", name="Load view").click()
    expect(page.locator("[data-cy=looker]")).to_have_count(2, timeout=SLOW)
    shot(page, "08-panel-load-view")

    # load: the operator's form, prefilled with the run
    run_row(content, "first").get_by_role("button", name="Load annotations").click()
    modal = form(page)
    modal.get_by_text("Connected to Label Studio").wait_for(timeout=SLOW)
    expect(field(modal, "Annotation run")).to_contain_text("first")
    shot(page, "09-panel-load-form")
    submit(modal)
    page.get_by_text("Annotations loaded").wait_for(timeout=SLOW)
    expect(form(page)).to_contain_text(re.compile(r"Tasks loaded:\s*1"))
    expect(form(page)).to_contain_text(re.compile(r"Tasks skipped by annotators:\s*1"))
    close_output(page)
    expect(run_row(content, "first")).not_to_contain_text("last loaded never")
    dataset.reload()
    last_load = run_meta(dataset, "first")["last_load"]
    assert (last_load["loaded"], last_load["skipped"]) == (1, 1)

    # rename
    run_row(content, "second").get_by_role("button", name="Rename").click()
    modal = form(page)
    fill(modal, "New annotation key", "renamed")
    submit(modal)
    expect(form(page)).to_contain_text(re.compile(r"new_anno_key:\s*renamed"))
    close_output(page)
    expect(run_row(content, "renamed")).to_contain_text("1 task: 1 annotated")
    dataset.reload()
    assert plugin_runs(dataset) == ["first", "renamed"]
    shot(page, "10-panel-renamed")

    # delete without cleanup: the project stays in Label Studio
    run_row(content, "renamed").get_by_role("button", name="Delete").click()
    modal = form(page)
    expect(modal).to_contain_text("The Label Studio project is kept")
    submit(modal)
    expect(form(page)).to_contain_text(re.compile(r"project_deleted:\s*false"))
    close_output(page)
    expect(run_row(content, "renamed")).to_have_count(0)
    dataset.reload()
    assert plugin_runs(dataset) == ["first"]
    assert second["project_id"] in project_ids(label_studio)

    # delete with cleanup: the project is deleted too
    run_row(content, "first").get_by_role("button", name="Delete").click()
    modal = form(page)
    modal.get_by_text("Also delete the Label Studio project, with all its annotations").click()
    expect(modal).to_contain_text("will be deleted from Label Studio")
    shot(page, "11-panel-delete-with-cleanup")
    submit(modal)
    expect(form(page)).to_contain_text(re.compile(r"project_deleted:\s*true"))
    close_output(page)
    expect(content).to_contain_text("No Label Studio runs on this dataset yet")
    dataset.reload()
    assert plugin_runs(dataset) == []
    assert first["project_id"] not in project_ids(label_studio)
    shot(page, "12-panel-empty-state")

    close_panels(page)
    expect(page.locator("[data-cy=panel-tab-labelstudio_panel]")).to_have_count(0)
    # the App and its panel had the key from the plugin's secrets: stored nowhere
    assert_stored_nowhere([label_studio.pat, label_studio.pat[-24:]])


def relabelled(task, label):
    """The task's latest annotation, its first box relabelled ``label``."""
    result = copy.deepcopy(task["annotations"][-1]["result"])
    result[0]["value"]["rectanglelabels"] = [label]
    return result


def open_load_form(content, key):
    """The load form, from the run's row of the panel, once connected."""
    run_row(content, key).get_by_role("button", name="Load annotations").click()
    modal = form(content.page)
    modal.get_by_text("Connected to Label Studio").wait_for(timeout=SLOW)
    expect(field(modal, "Annotation run")).to_contain_text(key)
    return modal


def loaded_result(page, **counts):
    """Waits for the load's result, checks its ``{label: count}`` lines."""
    page.get_by_text("Annotations loaded").wait_for(timeout=SLOW)
    result = form(page)
    for label, count in counts.items():
        expect(result).to_contain_text(re.compile(rf"{re.escape(label)}:\s*{count}(?!\d)"))
    return result


READ = "Tasks read (changed since the last load)"


def test_the_panel_adds_samples_to_a_runs_project_and_loads_what_changed(
    app, page, label_studio, annotator, make_dataset
):
    dataset = make_dataset(5)
    ids = dataset.values("id")
    dataset.save_view("more", dataset.skip(2))  # one sample of the run, and two new
    daily = request(dataset.limit(3), "daily", label_studio)
    project_id = daily["project_id"]

    open_dataset(page, app.url, dataset.name, saved_view="more")
    expect(page.locator("[data-cy=looker]")).to_have_count(3, timeout=SLOW)
    content = open_panel(page)
    row = run_row(content, "daily")
    expect(row).to_contain_text("3 tasks: 0 annotated, 0 skipped, 3 remaining")
    expect(row).not_to_contain_text("since the last load")  # never loaded

    # add the view's samples to the run's project, from the run's row
    row.get_by_role("button", name="Add samples to this project").click()
    modal = form(page)
    modal.get_by_text("Connected to Label Studio").wait_for(timeout=SLOW)
    expect(field(modal, "Add to an existing run's project")).to_contain_text(
        f"Project {project_id} (run daily)"
    )
    expect(modal.get_by_text("The 3 samples of the current view")).to_be_visible()
    expect(modal.get_by_text("Project name", exact=True)).to_have_count(0)
    fill(modal, "Annotation key", "more")
    expect(field(modal, "Existing fields")).to_contain_text("ground_truth")  # the run's fields
    shot(page, "16-panel-add-samples-form")
    submit(modal)
    page.get_by_text("Annotation run created").wait_for(timeout=SLOW)
    expect(form(page)).to_contain_text(re.compile(r"Annotation run:\s*more"))
    expect(
        form(page).get_by_role("link", name="Open the project in Label Studio")
    ).to_have_attribute("href", daily["project_url"])
    shot(page, "17-panel-samples-added")
    close_output(page)

    def recorded():
        dataset.reload()
        return run_meta(dataset, "more").get("project_id") is not None

    # (under load the output has been seen before the record could be read)
    wait_until(page, recorded, "the record of run 'more'")
    assert plugin_runs(dataset) == ["daily", "more"]
    assert run_meta(dataset, "more")["project_id"] == project_id
    listed = [t.data["sample_id"] for t in annotator.ls.tasks.list(project=project_id)]
    assert sorted(listed) == sorted(ids)  # one task a sample: the shared one not sent again
    run_row(content, "more").get_by_role("button", name="Refresh").click()
    expect(run_row(content, "more")).to_contain_text(f"project {project_id}")
    # (how many tasks the request created: see
    # test_the_result_of_adding_samples_counts_the_tasks_it_created)

    # every task accepted; the first load of the run reads all its tasks
    tasks = annotator.tasks(project_id)
    for task in tasks.values():
        annotator.submit(task, annotator.predicted(task))
    page.wait_for_timeout(SETTLE_MS)
    modal = open_load_form(content, "daily")
    read_all = modal.get_by_role("checkbox", name="Read every task")
    expect(read_all).not_to_be_checked()  # incremental by default
    submit(modal)
    loaded_result(page, **{"Tasks loaded": 3, READ: 3, "Labels edited": 0})
    close_output(page)
    row = run_row(content, "daily")
    expect(row).to_contain_text("0 tasks changed since the last load")
    # the run's own tasks, not the 5 of the project it shares
    expect(row).to_contain_text("3 tasks: 3 annotated, 0 skipped, 0 remaining")

    # the annotator relabels the cat of the run's first sample: the row counts it
    tasks = annotator.tasks(project_id)
    annotator.ls.annotations.update(
        id=tasks[ids[0]]["annotations"][-1]["id"], result=relabelled(tasks[ids[0]], "bird")
    )
    run_row(content, "daily").get_by_role("button", name="Refresh").click()
    expect(run_row(content, "daily")).to_contain_text("1 task changed since the last load")
    shot(page, "18-panel-changed-count")

    # an incremental load reads that task only
    page.wait_for_timeout(SETTLE_MS)
    submit(open_load_form(content, "daily"))
    loaded_result(page, **{"Labels edited": 1, "Tasks loaded": 3, READ: 1})
    shot(page, "19-panel-incremental-load")
    close_output(page)
    expect(run_row(content, "daily")).to_contain_text("0 tasks changed since the last load")
    dataset.reload()
    assert run_meta(dataset, "daily")["last_load"]["incremental"] is True
    assert [d.label for d in dataset[ids[0]].ground_truth.detections] == ["bird"]
    assert dataset.count_values("ground_truth.detections.label") == {"bird": 1, "dog": 2, "cat": 2}

    # the annotator relabels the cat of a sample of the other run only (see
    # test_the_changed_count_of_a_run_leaves_out_the_tasks_of_other_runs)
    annotator.ls.annotations.update(
        id=tasks[ids[4]]["annotations"][-1]["id"], result=relabelled(tasks[ids[4]], "dog")
    )

    # a full load (the form's switch) reads every task of the run, and changes nothing
    page.wait_for_timeout(SETTLE_MS)
    modal = open_load_form(content, "daily")
    modal.get_by_text("Read every task", exact=True).click()
    expect(modal.get_by_role("checkbox", name="Read every task")).to_be_checked()
    submit(modal)
    loaded_result(page, **{READ: 3, "Tasks loaded": 3, "Labels edited": 0, "Labels added": 0})
    close_output(page)
    dataset.reload()
    assert run_meta(dataset, "daily")["last_load"]["incremental"] is False

    # the added run loads its own samples, the shared one included
    submit(open_load_form(content, "more"))
    loaded_result(page, **{"Tasks loaded": 3, READ: 3, "Labels edited": 1})
    close_output(page)
    dataset.reload()
    assert [d.label for d in dataset[ids[4]].ground_truth.detections] == ["dog"]
    assert dataset.count_values("ground_truth.detections.label") == {"bird": 1, "dog": 3, "cat": 1}
    assert len(annotator.ls.tasks.list(project=project_id).items) == 5
    shot(page, "20-panel-two-runs-one-project")
    close_panels(page)


def test_the_result_of_adding_samples_counts_the_tasks_it_created(
    app, page, label_studio, annotator, make_dataset
):
    dataset = make_dataset(3)
    daily = request(dataset.limit(2), "daily", label_studio)

    open_dataset(page, app.url, dataset.name)
    content = open_panel(page)
    run_row(content, "daily").get_by_role("button", name="Add samples to this project").click()
    modal = form(page)
    modal.get_by_text("Connected to Label Studio").wait_for(timeout=SLOW)
    fill(modal, "Annotation key", "more")
    submit(modal)
    page.get_by_text("Annotation run created").wait_for(timeout=SLOW)
    result = form(page).inner_text()
    close_output(page)
    close_panels(page)

    # the project held 2 of the 3 samples: one task was created
    assert len(annotator.ls.tasks.list(project=daily["project_id"]).items) == 3
    assert re.search(r"Tasks created:\s*1(?!\d)", result), result


def test_the_changed_count_of_a_run_leaves_out_the_tasks_of_other_runs(
    app, page, label_studio, annotator, make_dataset
):
    dataset = make_dataset(3)
    ids = dataset.values("id")
    daily = request(dataset.limit(2), "daily", label_studio)
    request(dataset.skip(2), "more", label_studio, project_id=daily["project_id"])
    tasks = annotator.tasks(daily["project_id"])
    for task in tasks.values():
        annotator.submit(task, annotator.predicted(task))
    page.wait_for_timeout(SETTLE_MS)
    creds = {"url": label_studio.url, "api_key": label_studio.pat}
    assert load_annotations(dataset, "daily", **creds)["loaded"] == 2
    page.wait_for_timeout(SETTLE_MS)
    # the annotator relabels the only sample of the other run: the next load
    # of this run reads nothing
    other = annotator.tasks(daily["project_id"])[ids[2]]
    annotator.ls.annotations.update(
        id=other["annotations"][-1]["id"], result=relabelled(other, "dog")
    )

    open_dataset(page, app.url, dataset.name)
    row = run_row(open_panel(page), "daily")
    expect(row).to_contain_text("changed since the last load")
    shown = row.inner_text()
    close_panels(page)
    assert load_annotations(dataset, "daily", **creds)["changed"] == 0  # what the count is for
    assert "0 tasks changed since the last load" in shown, shown


def test_the_panel_loads_every_annotator_and_shows_their_agreement(
    app, page, label_studio, annotator, second, make_dataset
):
    dataset = make_dataset(3)
    ids = dataset.values("id")
    pair = request(dataset.view(), "pair", label_studio, maximum_annotations=2)
    # the admin accepts every box; the second annotator relabels the first cat
    for sample_id, task in annotator.tasks(pair["project_id"]).items():
        annotator.submit(task, annotator.predicted(task))
        result = annotator.predicted(task)
        if sample_id == ids[0]:
            result[0]["value"]["rectanglelabels"] = ["bird"]
        second.submit(task, result)

    open_dataset(page, app.url, dataset.name)
    content = open_panel(page)
    expect(run_row(content, "pair")).to_contain_text("3 tasks: 3 annotated")
    expect(run_row(content, "pair")).not_to_contain_text("Agreement")

    modal = open_load_form(content, "pair")
    choose(modal, "Annotations to load", "Every annotator's, into fields of their own")
    shot(page, "21-panel-load-every-annotator-form")
    submit(modal)
    result = loaded_result(page, **{"Tasks loaded": 3})
    mine = annotator_field("ground_truth", label_studio.username)
    theirs = annotator_field("ground_truth", SECOND)
    expect(result).to_contain_text("Each annotator's fields")
    for name in (mine, theirs):
        expect(result).to_contain_text(name)
    expect(result).to_contain_text("Agreement between annotators")
    expect(result).to_contain_text(f"{label_studio.username} vs {SECOND}")
    expect(result).to_contain_text("fscore")
    shot(page, "22-panel-every-annotator-result")
    close_output(page)

    # one detection of three disagrees: precision = recall = F1 = 2/3
    expect(run_row(content, "pair")).to_contain_text(
        f"Agreement · ground_truth: {label_studio.username} vs {SECOND} F1 0.67 (3 samples)"
    )
    shot(page, "23-panel-agreement")
    dataset.reload()
    assert dataset.count_values(f"{mine}.detections.label") == {"cat": 2, "dog": 1}
    assert dataset.count_values(f"{theirs}.detections.label") == {"bird": 1, "dog": 1, "cat": 1}
    assert dataset.count_values("ground_truth.detections.label") == {"cat": 2, "dog": 1}
    assert dataset[ids[0]][theirs].detections[0]["annotator"] == SECOND
    last_load = run_meta(dataset, "pair")["last_load"]
    assert last_load["annotator_fields"] == {
        "ground_truth": {label_studio.username: mine, SECOND: theirs}
    }
    assert last_load["agreement"]["ground_truth"][f"{label_studio.username} vs {SECOND}"][
        "fscore"
    ] == pytest.approx(2 / 3)
    close_panels(page)


def test_a_request_scheduled_in_the_app_runs_under_the_delegated_worker(
    app, page, label_studio, annotator, make_dataset
):
    dataset = make_dataset(3)
    service = DelegatedOperationService()
    open_dataset(page, app.url, dataset.name)

    modal = open_operator(page, REQUEST)
    modal.get_by_text("Connected to Label Studio").wait_for(timeout=SLOW)
    fill(modal, "Annotation key", "scheduled")
    choose(modal, "Existing fields", "ground_truth")
    modal.get_by_text("Run in the background (delegated)").click()
    shot(page, "13-schedule-form")
    submit(modal, "Schedule")
    modal.wait_for(state="hidden")

    wait_until(
        page,
        lambda: service.list_operations(
            operator=URI + "request_annotations", dataset_name=dataset.name
        ),
        "the operation to be queued",
    )
    (queued,) = service.list_operations(
        operator=URI + "request_annotations", dataset_name=dataset.name
    )
    assert queued.run_state == "queued"
    assert "scheduled" not in dataset.list_annotation_runs()

    worker = start_worker(app.env)
    try:
        wait_until(
            page,
            lambda: service.get(queued.id).run_state in ("completed", "failed"),
            "the delegated worker to run the request",
            timeout_ms=240_000,
        )
    finally:
        worker.stop(signal.SIGINT)
    operation = service.get(queued.id)
    assert operation.run_state == "completed", (operation.status, worker.log())

    dataset.reload()
    assert plugin_runs(dataset) == ["scheduled"]
    meta = run_meta(dataset, "scheduled")
    assert meta["num_tasks"] == 3
    assert len(annotator.tasks(meta["project_id"])) == 3

    content = open_panel(page)
    expect(run_row(content, "scheduled")).to_contain_text(
        "3 tasks: 0 annotated, 0 skipped, 3 remaining"
    )
    shot(page, "14-scheduled-run-in-panel")
    close_panels(page)
    expect(page.locator("[data-cy=panel-tab-labelstudio_panel]")).to_have_count(0)


def test_the_panel_says_what_is_wrong_and_how_to_fix_it(label_studio, page, make_dataset):
    dataset = make_dataset(2)
    request(dataset.view(), "offline", label_studio)
    env = dict(app_env(label_studio), FIFTYONE_LABELSTUDIO_API_KEY="not-a-key")
    server, url = start_app(
        env, name="app-server-wrong-key", sleep=lambda s: page.wait_for_timeout(s * 1000)
    )
    try:
        open_dataset(page, url, dataset.name)
        page.locator("[data-cy=new-panel-btn]").first.click()
        page.locator(f"[data-cy=new-panel-option-{PANEL}]").click()
        content = panel(page)
        expect(content).to_contain_text("Not connected to Label Studio", timeout=SLOW)
        expect(content).to_contain_text("HTTP 401")
        expect(content).to_contain_text("Set the plugin's secrets")
        expect(run_row(content, "offline")).to_contain_text(
            "progress unknown: not connected to Label Studio"
        )
        shot(page, "15-panel-not-connected")
        close_panels(page)
    finally:
        server.stop()

"""Runs that live for weeks, against the real Label Studio: samples added to a
run's project, loads that read only what changed, and every annotator's
work (two real Label Studio users)."""

import os
import time
import uuid

import fiftyone as fo
import fiftyone.core.labels as fol
import pytest
from annotator import Annotator
from fiftyone_labelstudio.backend import load_annotations
from fiftyone_labelstudio.backend.incremental import OVERLAP
from fiftyone_labelstudio.backend.plan import annotator_field
from label_studio_sdk.label_interface import LabelInterface
from labels_equal import assert_values_equal
from test_backend import snapshot, write_images

SCHEMA = {"boxes": {"type": "detections", "classes": ["cat", "dog"]}}
SECOND = "second.annotator@example.com"


@pytest.fixture
def images(label_studio):
    return os.path.join(label_studio.document_root, "long-" + uuid.uuid4().hex[:8])


@pytest.fixture(scope="module")
def second(label_studio):
    """A second annotator of the admin's organization, with a key of theirs."""
    return Annotator(label_studio.url, label_studio.add_user(SECOND, "second-annotator-pw"))


def boxes_dataset(dataset, folder, count):
    paths = write_images(folder, [(32, 24)] * count)
    dataset.add_samples(
        [
            fo.Sample(
                filepath=path,
                boxes=fol.Detections(
                    detections=[
                        fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.3, 0.3]),
                        fol.Detection(label="dog", bounding_box=[0.5, 0.5, 0.3, 0.3]),
                    ]
                ),
            )
            for path in paths
        ]
    )
    dataset.compute_metadata()
    return dataset


def annotate(samples, key, label_studio, **kwargs):
    kwargs.setdefault("label_schema", SCHEMA)
    return samples.annotate(
        key, backend="labelstudio", url=label_studio.url, api_key=label_studio.pat, **kwargs
    )


def relabel(result, label="dog", index=0):
    result[index]["value"]["rectanglelabels"] = [label]
    return result


# -- adding samples to a run's project -------------------------------------------------


def test_samples_added_to_a_runs_project_are_not_sent_twice(label_studio, dataset, images):
    boxes_dataset(dataset, images, 15)
    ls = Annotator(label_studio.url, label_studio.pat)
    first = annotate(dataset.limit(10), "first", label_studio)
    schema = {**SCHEMA, "boxes": {"type": "detections", "classes": ["cat", "dog", "bird"]},
              "quality": {"type": "scalar", "classes": ["good", "bad"]}}  # fmt: skip
    second_run = annotate(dataset, "second", label_studio, label_schema=schema,
                          project_id=first.project_id)  # fmt: skip
    assert second_run.project_id == first.project_id
    tasks = ls.tasks(first.project_id)
    assert len(tasks) == 15 and set(tasks) == set(dataset.values("id"))
    assert len(ls.ls.tasks.list(project=first.project_id).items) == 15  # no duplicate
    config = LabelInterface(ls.ls.projects.get(id=first.project_id).label_config)
    assert config.get_control("boxes").labels == ["cat", "dog", "bird"]
    assert config.get_control("quality").tag == "Choices"

    # by title, the same project; loading either run loads its own samples
    third = annotate(dataset.limit(3), "third", label_studio,
                     project_name=ls.ls.projects.get(id=first.project_id).title)  # fmt: skip
    assert third.project_id == first.project_id and len(ls.tasks(first.project_id)) == 15
    for task in tasks.values():
        ls.submit(task, relabel(ls.predicted(task)))
    assert load_annotations(dataset, "first")["loaded"] == 10
    assert load_annotations(dataset, "second")["loaded"] == 15
    assert dataset.count_values("boxes.detections.label") == {"dog": 30}
    # a run's status counts its own tasks, not all of the project's
    assert third.get_status()["total"] == 3 and third.get_status()["annotated"] == 3

    # cleaning up a run of a shared project deletes only its own tasks
    second_run.cleanup()
    assert len(ls.ls.tasks.list(project=first.project_id).items) == 10
    dataset.delete_annotation_run("second")
    dataset.delete_annotation_run("third")
    first.cleanup()
    assert first.project_id not in {p.id for p in ls.ls.projects.list()}


def test_a_title_several_projects_share_is_refused_before_anything_is_made(
    label_studio, dataset, images
):
    boxes_dataset(dataset, images, 2)
    ls = Annotator(label_studio.url, label_studio.pat).ls
    title = f"Shared-{uuid.uuid4().hex[:6]}"
    made = [ls.projects.create(title=title).id for _ in range(2)]
    with pytest.raises(ValueError, match=rf"project_name='{title}' names 2 projects .*project_id"):
        annotate(dataset, "ambiguous", label_studio, project_name=title)
    assert dataset.list_annotation_runs() == []
    for project_id in made:
        assert len(ls.tasks.list(project=project_id).items) == 0


def test_overlap_asks_for_several_annotators_per_task(label_studio, dataset, images):
    boxes_dataset(dataset, images, 2)
    results = annotate(dataset, "overlap", label_studio, maximum_annotations=2,
                       overlap_cohort_percentage=100)  # fmt: skip
    project = Annotator(label_studio.url, label_studio.pat).ls.projects.get(id=results.project_id)
    assert (project.maximum_annotations, project.overlap_cohort_percentage) == (2, 100)


# -- loads of what changed -------------------------------------------------------------------


def test_a_load_reads_only_what_changed_and_gives_what_a_full_load_gives(
    label_studio, dataset, images
):
    boxes_dataset(dataset, images, 12)
    results = annotate(dataset, "daily", label_studio)
    ls = Annotator(label_studio.url, label_studio.pat)
    tasks = ls.tasks(results.project_id)
    ids = dataset.values("id")
    for sample_id in ids[:8]:
        ls.submit(tasks[sample_id], ls.predicted(tasks[sample_id]))
    time.sleep(OVERLAP.total_seconds() + 1)  # the next load looks a little before this one
    first = load_annotations(dataset, "daily")
    assert (first["incremental"], first["loaded"], first["changed"]) == (False, 8, 12)

    # the next day: one box relabelled, one annotation deleted, one task
    # skipped, one task deleted, one new annotation
    edited = ls.ls.tasks.get(id=tasks[ids[0]]["id"]).annotations[0]
    ls.ls.annotations.update(id=edited["id"], result=relabel(ls.predicted(tasks[ids[0]])))
    gone = ls.ls.tasks.get(id=tasks[ids[1]]["id"]).annotations[0]
    ls.ls.annotations.delete(id=gone["id"])
    ls.skip(tasks[ids[8]])
    ls.ls.tasks.delete(id=str(tasks[ids[9]]["id"]))
    ls.submit(tasks[ids[10]], [])
    time.sleep(1)

    again = load_annotations(dataset, "daily")
    assert again["incremental"] is True and again["changed"] == 4
    assert (again["loaded"], again["skipped"], again["not_annotated"], again["missing"]) == (
        8, 1, 2, 1,
    )  # fmt: skip
    after_incremental = snapshot(dataset, ["boxes"])
    full = load_annotations(dataset, "daily", full=True)
    assert full["incremental"] is False and full["changed"] == 11
    assert (full["added"], full["edited"], full["deleted"]) == (0, 0, 0)
    for field in ("loaded", "skipped", "not_annotated", "missing"):
        assert full[field] == again[field], field
    for sample_id, fields in snapshot(dataset, ["boxes"]).items():
        assert_values_equal(fields["boxes"], after_incremental[sample_id]["boxes"], sample_id)
    assert dataset[ids[0]]["boxes"].detections[0].label == "dog"
    assert len(dataset[ids[10]]["boxes"].detections) == 0


def test_deleted_tasks_are_found_while_other_runs_add_to_the_project(label_studio, dataset, images):
    """Deletions are found by counting the tasks in the id span the last load
    saw; tasks that other runs add land above it and are listed."""
    boxes_dataset(dataset, images, 8)
    ids = dataset.values("id")
    results = annotate(dataset.select(ids[:5]), "grown", label_studio)
    ls = Annotator(label_studio.url, label_studio.pat)
    ls.accept_all(results.project_id)
    assert load_annotations(dataset, "grown")["loaded"] == 5

    def span():
        return dataset.load_annotation_results("grown").load_state["span"]

    first_span = span()
    assert first_span[2] == 5
    # another run adds three tasks to the project: above the span, listed next time
    annotate(dataset.select(ids[5:]), "added", label_studio, project_id=results.project_id)
    again = load_annotations(dataset, "grown")
    assert again["incremental"] is True and (again["loaded"], again["missing"]) == (5, 0)
    assert span()[2] == 8 and span()[1] > first_span[1]

    # a task of the run and one of the other run deleted: the count falls
    loaded = snapshot(dataset, ["boxes"])
    tasks = ls.tasks(results.project_id)
    ls.ls.tasks.delete(id=str(tasks[ids[0]]["id"]))
    ls.ls.tasks.delete(id=str(tasks[ids[6]]["id"]))
    gone = load_annotations(dataset, "grown")
    assert gone["incremental"] is True and (gone["loaded"], gone["missing"]) == (4, 1)
    assert span()[2] == 6
    for sample_id, fields in snapshot(dataset, ["boxes"]).items():  # the dataset as it was
        assert_values_equal(fields["boxes"], loaded[sample_id]["boxes"], sample_id)

    # a state recorded before spans were (no "span") lists the ids once
    results = dataset.load_annotation_results("grown")
    results.load_state = {k: v for k, v in results.load_state.items() if k != "span"}
    results.save()
    ls.ls.tasks.delete(id=str(tasks[ids[1]]["id"]))
    older = load_annotations(dataset, "grown")
    assert older["incremental"] is True and (older["loaded"], older["missing"]) == (3, 2)
    full = load_annotations(dataset, "grown", full=True)
    assert (full["loaded"], full["missing"]) == (3, 2) and span()[2] == 5


def test_loading_into_another_field_reads_everything_once(label_studio, dataset, images):
    boxes_dataset(dataset, images, 3)
    results = annotate(dataset, "elsewhere", label_studio)
    Annotator(label_studio.url, label_studio.pat).accept_all(results.project_id)
    load_annotations(dataset, "elsewhere")
    moved = load_annotations(dataset, "elsewhere", dest_field="reviewed")
    assert moved["incremental"] is False and dataset.count("reviewed.detections") == 6
    again = load_annotations(dataset, "elsewhere", dest_field="reviewed")
    assert again["incremental"] is True and again["edited"] == again["added"] == 0
    full = load_annotations(dataset, "elsewhere", dest_field="reviewed", full=True)
    assert full["edited"] == full["added"] == full["deleted"] == 0  # nothing changed


# -- every annotator's work ---------------------------------------------------------------------


def test_every_annotators_labels_go_into_fields_of_their_own(label_studio, dataset, images, second):
    boxes_dataset(dataset, images, 3)
    results = annotate(dataset, "pair", label_studio, maximum_annotations=2)
    admin = Annotator(label_studio.url, label_studio.pat)
    tasks = admin.tasks(results.project_id)
    for task in tasks.values():
        admin.submit(task, admin.predicted(task))  # the admin accepts
        second.submit(task, relabel(second.predicted(task), "cat", 1))  # the second relabels

    report = load_annotations(dataset, "pair", annotation_choice="all")
    mine, theirs = annotator_field("boxes", label_studio.username), annotator_field("boxes", SECOND)
    assert report["annotator_fields"] == {"boxes": {label_studio.username: mine, SECOND: theirs}}
    assert dataset.count_values(f"{mine}.detections.label") == {"cat": 3, "dog": 3}
    assert dataset.count_values(f"{theirs}.detections.label") == {"cat": 6}
    edited = dataset.first()[theirs].detections[1]
    assert edited["annotator"] == SECOND and edited["annotated_at"] is not None
    agreement = report["agreement"]["boxes"][f"{label_studio.username} vs {SECOND}"]
    assert agreement["samples"] == 3 and 0 < agreement["fscore"] < 1
    assert dataset.get_field("boxes") is not None and dataset.count_values(
        "boxes.detections.label"
    ) == {"cat": 3, "dog": 3}
    info = dataset.load_annotation_results("pair").last_load
    assert info["annotator_fields"] == report["annotator_fields"]

    # one annotator's, by email, into the run's own field; through FiftyOne's load too
    load_annotations(dataset, "pair", annotation_choice=SECOND)
    assert dataset.count_values("boxes.detections.label") == {"cat": 6}
    # FiftyOne passes load_annotations()'s keywords only to results it has
    # not cached in this session (as it does url and api_key): cache=False
    dataset.load_annotations(
        "pair", cache=False, annotation_choice=label_studio.username, api_key=label_studio.pat
    )
    assert dataset.count_values("boxes.detections.label") == {"cat": 3, "dog": 3}
    # who made a label is their email, whatever the choice
    who = {d.get_attribute_value("annotator", None) for d in dataset.first()["boxes"].detections}
    assert label_studio.username in who
    # a choice given to a load is that load's: FiftyOne's cached run keeps its own ("latest")
    dataset.load_annotations("pair", api_key=label_studio.pat)
    assert dataset.count_values("boxes.detections.label") == {"cat": 6}
    with pytest.raises(ValueError, match="'nobody@example.com': no user of Label Studio"):
        load_annotations(dataset, "pair", annotation_choice="nobody@example.com")
    dataset.clear_cache()
    with pytest.raises(ValueError, match="annotation_choice='bogus' is not one of"):
        dataset.load_annotations("pair", annotation_choice="bogus", api_key=label_studio.pat)

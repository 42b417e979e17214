"""Requesting annotations: a view's samples, with their labels as
pre-annotations, into a new Label Studio project.

Nothing is created before every check passed (schema, media, the key); a
failure after the project exists deletes it (or, when the server cannot be
reached, remembers it for deletion), so a request either makes a whole run
or leaves nothing behind.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from functools import partial
from typing import Any, Callable

import fiftyone.core.labels as fol
import fiftyone.core.media as fom

from ..conversions import (
    IMAGE_TAG,
    VIDEO_TAG,
    FieldSchema,
    family_of,
    field_schemas,
    labeling_config,
    labels_of,
)
from ..conversions.schema import grown_config, schema_problem
from . import orphans, projects, tasks
from .client import LabelStudioError
from .collector import cycle_collection_paused
from .dataset_io import SampleValues, all_slices, ensure_metadata, label_class, read_samples
from .label_fields import existing_fields, unlisted_classes
from .media import LocalFiles, check_files_exist, known_urls, media_urls, plan_media
from .prefetch import ReadAhead
from .progress import report

logger = logging.getLogger(__name__)

_CHUNK = 1000


def request_annotations(api, samples, config, scalar_types, run_id: str) -> dict:
    """Puts the samples into a new project, or into the existing one the
    config names (``project_id``, or the title ``project_name``); returns what
    the run records: ``{"project_id", "sample_ids", "id_map", "media_mode",
    "created_tasks"}``. A new project's description carries ``run_id``, which
    marks it as this request's.

    Raises ValueError for bad input and :class:`LabelStudioError` for the
    server, before anything is created or after undoing what was (a new
    project deleted; in an existing project, the tasks this request made).
    """
    problem = schema_problem(
        config.label_schema, existing_fields(samples, config.label_schema), samples.media_type
    )
    if problem:
        raise ValueError(problem)
    fields = field_schemas(config.label_schema, scalar_types)
    problem = unlisted_classes(samples, _existing(config, fields))
    if problem:
        raise ValueError(problem)
    sample_ids, filepaths = all_slices(samples).values(["id", config.media_field])
    check_files_exist(filepaths)
    encodings = None
    if samples.media_type == fom.VIDEO:
        # a video's frame count and rate go with its task; its codec decides
        # whether the browser plays it
        ensure_metadata(samples._root_dataset, sample_ids, frames=False)
        encodings = all_slices(samples).values("metadata.encoding_str")
    local_files = LocalFiles.from_environment()
    plan = plan_media(filepaths, config.media, local_files, encodings)
    with cycle_collection_paused():  # a request makes millions of objects
        return _request(api, samples, config, fields, sample_ids, filepaths, plan, run_id)


class _Tasks:
    """The tasks of samples to send, made in a thread from construction on,
    one import batch ahead (:class:`.prefetch.ReadAhead`): the first batch
    while the server makes the project, where the media's URLs are known
    before they are placed (URLs, local files; an upload's once it is in).
    ``id_map`` and ``report`` fill as the batches are made."""

    def __init__(self, samples, config, fields, sample_ids, filepaths, plan):
        self.id_map: dict[str, dict] = {}
        self.report = tasks.ImportReport()
        self.sample_ids = sample_ids
        self._urls: Future = Future()
        known = known_urls(filepaths, plan)
        if known is not None:
            self._urls.set_result(known)
        existing = _existing(config, fields)
        read = partial(_read_chunk, samples, existing)
        stream = _sample_tasks(read, sample_ids, self._urls, existing, self.id_map)
        made = (tasks.task_of(s, fields, config.existing_labels, self.report) for s in stream)
        self.batches = ReadAhead(tasks.encoded_batches(made))

    def placed(self, urls: list[str]) -> None:
        """The media's URLs, now that they are placed."""
        if not self._urls.done():
            self._urls.set_result(urls)

    def close(self) -> None:
        self._urls.cancel()  # a batch waiting on URLs that never came stops
        self.batches.close()

    def __enter__(self) -> _Tasks:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _request(api, samples, config, fields, sample_ids, filepaths, plan, run_id) -> dict:
    connection = api.connection
    # a key that does not work fails the first call, which makes nothing
    orphans.delete_pending(connection)
    new_project = config.project_id is None and config.project_name is None
    # a new project's tasks are made from now on, while the server makes it
    made = _Tasks(samples, config, fields, sample_ids, filepaths, plan) if new_project else None
    try:
        target = projects.find_target(connection, config.project_id, config.project_name)
        if target is not None:
            return _append(connection, target, samples, config, fields, sample_ids, filepaths, plan)
        # a project_name no project has yet: a new project too
        made = made or _Tasks(samples, config, fields, sample_ids, filepaths, plan)
        return _create(
            connection, samples, config, fields, sample_ids, filepaths, plan, run_id, made
        )
    finally:
        if made is not None:
            made.close()


def _create(connection, samples, config, fields, sample_ids, filepaths, plan, run_id, made) -> dict:
    """The run in a new project, its tasks ``made``."""
    dataset_name = samples._root_dataset.name
    title = projects.unique_title(
        connection, config.project_name or projects.default_title(dataset_name)
    )
    about = projects.description(run_id, dataset_name)
    overlap = {
        key: getattr(config, key)
        for key in ("maximum_annotations", "overlap_cohort_percentage")
        if getattr(config, key) is not None
    }
    media = VIDEO_TAG if samples.media_type == fom.VIDEO else IMAGE_TAG
    project_id = projects.create_project(
        connection, title, labeling_config(fields, media), run_id, about, **overlap
    )
    try:
        report(0.0, f"Project {title!r} created; placing media ({plan.reason})")
        created = _send(connection, project_id, filepaths, plan, made, new_project=True)
    except BaseException as error:
        _roll_back(connection, project_id, title, run_id, error)
        raise
    logger.info("Created project %s with %d tasks", project_id, len(created))
    return {
        "project_id": project_id,
        "sample_ids": list(sample_ids),
        "id_map": made.id_map,
        "media_mode": plan.mode,
        "created_tasks": created,
    }


def _append(connection, project, samples, config, fields, sample_ids, filepaths, plan) -> dict:
    """The run's samples into an existing project: its labeling config grown
    by the run's fields, classes and attributes; the samples it already holds
    not sent again (their tasks serve this run too)."""
    project_id = project["id"]
    grown = grown_config(project["label_config"], fields)
    held = tasks.task_ids_by_sample(connection, project_id)
    new = [(sid, path) for sid, path in zip(sample_ids, filepaths) if sid not in held]
    report(0.0, f"Adding {len(new)} of {len(sample_ids)} samples to project {project_id} "
           f"({len(sample_ids) - len(new)} it holds already)")  # fmt: skip
    if grown != project["label_config"]:
        projects.update_project(connection, project_id, label_config=grown)
    created: list[int] = []
    id_map: dict[str, dict] = {}
    try:
        if new:
            new_ids, new_paths = (list(v) for v in zip(*new))
            with _Tasks(samples, config, fields, new_ids, new_paths, plan) as made:
                created = _send(connection, project_id, new_paths, plan, made)
            id_map = made.id_map
        # the labels of the samples already there are known to this run too
        known = _existing(config, fields)
        for chunk in _chunks([sid for sid in sample_ids if sid in held]):
            for sample_id, sample in read_samples(all_slices(samples), chunk, known).items():
                for f in known:
                    id_map.setdefault(f.name, {})[sample_id] = label_ids(sample, f)
    except BaseException:
        if created:
            try:
                tasks.delete_tasks(connection, project_id, created)
            except LabelStudioError:
                logger.warning("Could not delete the %d tasks a failed request added", len(created))
        raise
    logger.info("Added %d tasks to project %s", len(created), project_id)
    return {
        "project_id": project_id,
        "sample_ids": list(sample_ids),
        "id_map": id_map,
        "media_mode": plan.mode,
        "created_tasks": created,
    }


def _send(connection, project_id, filepaths, plan, made: _Tasks, new_project=False) -> list[int]:
    """Places the media and imports the tasks ``made``; returns the task ids."""
    total = len(made.sample_ids)
    urls = media_urls(
        connection,
        project_id,
        filepaths,
        made.sample_ids,
        plan,
        LocalFiles.from_environment(),
        lambda done: report(0.5 * done / total, f"Uploaded {done} of {total} media files"),
        new_project,
    )
    made.placed(urls)
    created = tasks.import_tasks(
        connection,
        project_id,
        made.batches,
        lambda done: report(0.5 + 0.5 * done / total, f"Imported {done} of {total} tasks"),
    )
    for sample_id, problem in made.report.problems:
        logger.warning("Sample %s: %s", sample_id, problem.message)
    return created


def _roll_back(connection, project_id: int, title: str, run_id: str, error) -> None:
    """Deletes the project of a failed request, or writes it down to be
    deleted once the server is back."""
    try:
        projects.delete_project(connection, project_id)
    except LabelStudioError:
        orphans.remember(connection.url, project_id, title, run_id, str(error))
        error.add_note(
            f"Project {project_id} could not be deleted now; it will be deleted the next "
            "time this plugin reaches the server."
        )


def _chunks(items):
    """``items`` in chunks of ``_CHUNK``.

    Example:
        >>> [len(chunk) for chunk in _chunks(list(range(2500)))]
        [1000, 1000, 500]
    """
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _existing(config, fields: list[FieldSchema]) -> list[FieldSchema]:
    """The run's fields that exist on the dataset: their labels are sent."""
    return [f for f in fields if config.label_schema[f.name].get("existing_field")]


def _read_chunk(samples, existing: list[FieldSchema], sample_ids: list[str]) -> dict:
    """The samples with their size and existing labels as the view shows
    them (a view that filters labels sends only those)."""
    ensure_metadata(samples._root_dataset, sample_ids)
    return read_samples(all_slices(samples), sample_ids, existing)


def _sample_tasks(read: Callable[[list], dict], sample_ids, urls: Future, existing, id_map):
    """Each sample as its task needs it, read a chunk at a time (the first
    before ``urls``, the media's URLs in the order of ``sample_ids``, are
    known)."""
    url_of = None
    for chunk in _chunks(sample_ids):
        for sample_id, sample in read(chunk).items():
            for f in existing:
                id_map.setdefault(f.name, {})[sample_id] = label_ids(sample, f)
            if url_of is None:
                url_of = dict(zip(sample_ids, urls.result()))
            frame = sample.frame(sample_id)
            yield tasks.SampleTask(sample_id, url_of[sample_id], frame, sample.values)


def label_ids(sample: SampleValues, field: FieldSchema) -> Any:
    """What the run's ``id_map`` records for a sample's field: a list of ids
    for label lists, one id (or None) for single labels, True for a scalar;
    of a frame-level field, ``{frame id: ids}`` (as FiftyOne records them)."""
    value = sample.values.get(field.name)
    if value is None:
        return None
    if field.label_type == "scalar":
        return True
    unsent = family_of(field).sends_nothing  # annotators never see it: no load deletes it
    if field.is_frame_field:
        return {
            sample.frame_ids[n]: [label.id for label in labels if not unsent(label)]
            for n, labels in value.items()
        }
    ids = [label.id for label in labels_of(value, field) if not unsent(label)]
    if issubclass(label_class(field.label_type), fol._HasLabelList):
        return ids
    return ids[0] if ids else None

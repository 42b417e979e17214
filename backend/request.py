"""Requesting annotations: a view's samples, with their labels as
pre-annotations, into a new Label Studio project.

Nothing is created before every check passed (schema, media, the key); a
failure after the project exists deletes it (or, when the server cannot be
reached, remembers it for deletion), so a request either makes a whole run
or leaves nothing behind.
"""

from __future__ import annotations

import logging
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
from .media import LocalFiles, check_files_exist, media_urls, plan_media
from .prefetch import Prefetch
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
    read = partial(_read_chunk, samples, _existing(config, fields))
    new_project = config.project_id is None and config.project_name is None
    # a new project's first batch is read while the server makes it; no more,
    # so that the calls before the import do not wait on the interpreter lock
    with cycle_collection_paused():  # a request makes millions of objects
        ahead = Prefetch(read, sample_ids[:_CHUNK] if new_project else [], _CHUNK)
        try:
            return _request(
                api, samples, config, fields, sample_ids, filepaths, plan, ahead.read, run_id
            )
        finally:
            ahead.close()


def _request(api, samples, config, fields, sample_ids, filepaths, plan, read, run_id) -> dict:
    connection = api.connection
    # a key that does not work fails the first call, which makes nothing
    orphans.delete_pending(connection)

    target = projects.find_target(connection, config.project_id, config.project_name)
    if target is not None:
        return _append(
            connection, target, samples, config, fields, sample_ids, filepaths, plan, read
        )

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
        id_map: dict[str, dict] = {}
        created = _send(
            connection,
            project_id,
            config,
            fields,
            sample_ids,
            filepaths,
            plan,
            read,
            id_map,
            new_project=True,
        )
    except BaseException as error:
        _roll_back(connection, project_id, title, run_id, error)
        raise
    logger.info("Created project %s with %d tasks", project_id, len(created))
    return {
        "project_id": project_id,
        "sample_ids": list(sample_ids),
        "id_map": id_map,
        "media_mode": plan.mode,
        "created_tasks": created,
    }


def _append(
    connection, project, samples, config, fields, sample_ids, filepaths, plan, read
) -> dict:
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
            created = _send(
                connection, project_id, config, fields, new_ids, new_paths, plan, read, id_map
            )
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


def _send(
    connection,
    project_id,
    config,
    fields,
    sample_ids,
    filepaths,
    plan,
    read,
    id_map,
    new_project=False,
):
    """Places the samples' media and imports their tasks; returns the task
    ids. ``read(ids)`` reads samples (see :func:`_read_chunk`)."""
    local_files = LocalFiles.from_environment()
    urls = media_urls(
        connection,
        project_id,
        filepaths,
        sample_ids,
        plan,
        local_files,
        lambda done: report(
            0.5 * done / len(filepaths), f"Uploaded {done} of {len(filepaths)} media files"
        ),
        new_project,
    )
    import_report = tasks.ImportReport()
    stream = _sample_tasks(read, sample_ids, urls, _existing(config, fields), id_map)
    task_stream = (tasks.task_of(s, fields, config.existing_labels, import_report) for s in stream)
    created = tasks.import_tasks(
        connection,
        project_id,
        task_stream,
        lambda done: report(
            0.5 + 0.5 * done / len(sample_ids), f"Imported {done} of {len(sample_ids)} tasks"
        ),
    )
    for sample_id, problem in import_report.problems:
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


def _sample_tasks(read: Callable[[list], dict], sample_ids, urls, existing, id_map):
    """Each sample as its task needs it, read a chunk at a time."""
    url_of = dict(zip(sample_ids, urls))
    for chunk in _chunks(sample_ids):
        for sample_id, sample in read(chunk).items():
            for f in existing:
                id_map.setdefault(f.name, {})[sample_id] = label_ids(sample, f)
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

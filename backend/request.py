"""Requesting annotations: a view's samples, with their labels as
pre-annotations, into a new Label Studio project.

Nothing is created before every check passed (schema, media, the key); a
failure after the project exists deletes it (or, when the server cannot be
reached, remembers it for deletion), so a request either makes a whole run
or leaves nothing behind.
"""

from __future__ import annotations

import logging
from typing import Any

import fiftyone.core.labels as fol
import fiftyone.utils.annotations as foua

from ..conversions import FieldSchema, Frame, field_schemas, labeling_config, labels_of
from ..conversions.schema import schema_problem
from . import orphans, projects, tasks
from .client import LabelStudioError
from .dataset_io import all_slices, ensure_image_sizes, read_samples
from .label_fields import existing_fields
from .media import LocalFiles, check_files_exist, media_urls, plan_media
from .progress import report

logger = logging.getLogger(__name__)

_CHUNK = 1000


def request_annotations(api, samples, config, scalar_types, run_id: str) -> dict:
    """Creates the run's project and tasks; returns what the run records:
    ``{"project_id", "sample_ids", "id_map", "media_mode"}``. The project's
    description carries ``run_id``, which marks it as this request's.

    Raises ValueError for bad input and :class:`LabelStudioError` for the
    server, before anything is created or after deleting what was.
    """
    connection = api.connection
    problem = schema_problem(config.label_schema, existing_fields(samples, config.label_schema))
    if problem:
        raise ValueError(problem)
    fields = field_schemas(config.label_schema, scalar_types)
    label_config = labeling_config(fields)
    sample_ids, filepaths = all_slices(samples).values(["id", config.media_field])
    check_files_exist(filepaths)
    local_files = LocalFiles.from_environment()
    plan = plan_media(filepaths, config.media, local_files)
    connection.server_info()  # the key works, before anything is made
    orphans.delete_pending(connection)

    dataset_name = samples._root_dataset.name
    title = projects.unique_title(
        connection, config.project_name or projects.default_title(dataset_name)
    )
    about = projects.description(run_id, dataset_name)
    project_id = projects.create_project(connection, title, label_config, run_id, about)
    try:
        report(0.0, f"Project {title!r} created; placing media ({plan.reason})")
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
        )
        id_map: dict[str, dict] = {}
        existing = [f for f in fields if config.label_schema[f.name].get("existing_field")]
        import_report = tasks.ImportReport()
        stream = _sample_tasks(samples, sample_ids, urls, fields, existing, id_map)
        task_stream = (
            tasks.task_of(s, fields, config.existing_labels, import_report) for s in stream
        )
        num_tasks = tasks.import_tasks(
            connection,
            project_id,
            task_stream,
            lambda done: report(
                0.5 + 0.5 * done / len(sample_ids), f"Imported {done} of {len(sample_ids)} tasks"
            ),
        )
    except BaseException as error:
        _roll_back(connection, project_id, title, run_id, error)
        raise

    for sample_id, problem in import_report.problems:
        logger.warning("Sample %s: %s", sample_id, problem.message)
    logger.info("Created project %s with %d tasks", project_id, num_tasks)
    return {
        "project_id": project_id,
        "sample_ids": list(sample_ids),
        "id_map": id_map,
        "media_mode": plan.mode,
    }


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


def _sample_tasks(samples, sample_ids, urls, fields, existing, id_map):
    """Each sample with its size and existing labels as the view shows them
    (a view that filters labels sends only those), read a chunk at a time."""
    url_of = dict(zip(sample_ids, urls))
    view = all_slices(samples)
    for start in range(0, len(sample_ids), _CHUNK):
        chunk = sample_ids[start : start + _CHUNK]
        ensure_image_sizes(samples._root_dataset, chunk)
        for sample_id, sample in read_samples(view, chunk, existing).items():
            for f in existing:
                id_map.setdefault(f.name, {})[sample_id] = label_ids(sample.values.get(f.name), f)
            frame = Frame(sample.width, sample.height, sample_id)
            yield tasks.SampleTask(sample_id, url_of[sample_id], frame, sample.values)


def label_ids(value: Any, field: FieldSchema) -> Any:
    """What the run's ``id_map`` records for a field value: a list of ids for
    label lists, one id (or None) for single labels, True for a scalar."""
    if value is None:
        return None
    if field.label_type == "scalar":
        return True
    ids = [label.id for label in labels_of(value, field)]
    if issubclass(foua._LABEL_TYPES_MAP[field.label_type], fol._HasLabelList):
        return ids
    return ids[0] if ids else None

"""The plugin's own load: from Label Studio to the dataset, writing only what
changed, in bulk, under the run's lock.

It knows its destination fields (``dest_field``, FiftyOne's rules), reads
only the tasks changed since the run's last load (:mod:`.incremental`; or
every task, ``full=True``), converts them (:mod:`.loading`), computes per
field the labels added, edited and deleted with FiftyOne's merge rules
(:mod:`.plan`), and writes the samples that changed, one bulk write per field
(:mod:`.dataset_io`). With ``annotation_choice="all"`` every annotator's
labels go into fields of their own, and their agreement is measured with
FiftyOne's evaluation methods (:mod:`.agreement`).

FiftyOne's ``dataset.load_annotations()`` goes through
:mod:`.fiftyone_load` and FiftyOne's merge instead, to the same dataset.

A sample whose task has no completed annotation (not annotated yet, skipped,
or deleted in Label Studio) holds its labels as they are: they stay unchanged
in their own field, and are copied into a ``dest_field`` (FiftyOne's merge
deletes any label the run sent that a backend does not return, so the labels
are returned as they are there).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

import fiftyone.core.annotation as foan

from ..conversions import family_of, field_schemas, has_control
from . import agreement, incremental, projects, run_lock
from .client import LabelStudioError, NotFoundError, key_refused, url_unreached
from .collector import cycle_collection_paused
from .dataset_io import ensure_metadata, read_samples, write_field
from .export import ProjectExport
from .loading import (
    ANNOTATION_CHOICES,
    References,
    SampleLoad,
    TaskLoads,
    index_labels,
    load_tasks,
    tally,
)
from .plan import UNEXPECTED, annotator_targets, plan_load, targets
from .prefetch import Prefetch
from .progress import report as report_progress
from .sent_labels import SentResults
from .tasks import predictions_by_task

logger = logging.getLogger(__name__)

_CHUNK = 1000


def load_annotations(
    samples,
    anno_key: str,
    dest_field: Any = None,
    unexpected: str = "keep",
    cleanup: bool = False,
    annotation_choice: str | None = None,
    full: bool = False,
    **credentials,
) -> dict:
    """Loads a run's annotations into the dataset, writing only what changed.

    The plugin's own counterpart of FiftyOne's ``dataset.load_annotations()``,
    with the same ``dest_field`` and ``unexpected`` and the same result in the
    dataset, but written in bulk, and reading from Label Studio only the
    tasks changed since the run's last load.

    Args:
        samples: the dataset (or a view of it) the run belongs to
        anno_key: the run
        dest_field (None): a new field for a one-field run, or ``{run field:
            field}``; by default each field loads into itself
        unexpected ("keep"): labels of another type than their field's go
            into a field named after their type (``"keep"``), are dropped
            (``"ignore"``), or are returned (``"return"``)
        cleanup (False): delete the Label Studio project afterwards (or, when
            other runs use it, only this run's tasks)
        annotation_choice (None): ``"latest"`` or ``"earliest"`` completed
            annotation of a task, an annotator's email (their latest), or
            ``"all"``: each annotator's into fields of their own (named from
            the field and the annotator; see ``annotator_fields`` in the
            report); by default the run's own choice
        full (False): read every task, not only those changed since the last
            load (the result is the same)
        **credentials: ``url``, ``api_key`` (never stored)

    A label edited in FiftyOne since the request or a load, which its
    annotator has not changed since, keeps the edit (see :mod:`.sent_labels`).

    Returns:
        the load report: ``loaded``, ``skipped``, ``not_annotated``,
        ``missing`` samples; ``added``, ``edited``, ``deleted`` and ``kept``
        (edited in FiftyOne, left alone by annotators) labels;
        ``unexpected`` and ``problems`` regions; ``changed`` tasks read;
        ``incremental``; with ``"all"``, ``annotator_fields`` and ``agreement``;
        with ``unexpected="return"``, ``unexpected_labels`` ``{field: {type:
        {sample id: labels}}}``, keyed like FiftyOne's by the destination field

    Raises:
        ValueError: bad ``dest_field``, ``unexpected`` or ``annotation_choice``, or
            a field of the run renamed or deleted since the request,
            before anything is read
        LabelStudioError: the server failed; nothing was written
        RunBusy: another load of the run is running
    """
    from .annotation_backend import scalar_types

    dataset = samples._root_dataset
    if unexpected not in UNEXPECTED:
        raise ValueError(f"unexpected={unexpected!r} is not one of {', '.join(UNEXPECTED)}")
    check_choice(annotation_choice)
    results = load_run_results(dataset, anno_key, **credentials)
    choice = annotation_choice or results.config.annotation_choice
    schema = results.config.label_schema
    types = scalar_types(dataset, schema)
    all_targets = targets(field_schemas(schema, types), dest_field)
    for t in all_targets:
        renamed = schema[t.source.name].get("existing_field") and t.dest == t.source.name
        if renamed and dataset.get_field(t.dest) is None:
            raise ValueError(
                f"Field '{t.dest}' of run '{anno_key}' is no longer in the dataset (renamed or "
                f"deleted since the request); rename it back to '{t.dest}', or load into a new "
                f"field: dest_field={{'{t.dest}': '<a field that does not exist yet>'}}"
            )
    if choice == "all" and dest_field is not None:
        raise ValueError(
            "dest_field: with annotation_choice='all' each annotator's labels go into fields "
            "of their own; leave dest_field out"
        )

    token = run_lock.acquire(dataset, anno_key)
    export = None
    try:
        with cycle_collection_paused():  # a load makes millions of objects
            connection = results.connect_to_api().connection
            state = None if full else incremental.LoadState.from_dict(results.load_state)
            if state is None or not _may_serve(state, _wanted(all_targets), choice):
                export = begin_export(connection, results)
            fields, gone = live_fields(connection, results, schema, types)
            live = [t for t in all_targets if t.source in fields]
            extra = [t.dest_schema for t in live if not t.in_place]
            wanted = _wanted(live)
            if state is not None and not state.serves(wanted, choice):
                state = None  # loaded elsewhere or otherwise last time: read everything
            if state is None and export is None:
                export = begin_export(connection, results)
            loads, tasks = read_run(
                connection, results, dataset, fields, extra, choice, state, wanted, export
            )
            if choice == "all":
                live = annotator_targets(fields, loads)
            elif extra:
                # every sample of a full load; a load of changes, the changed ones
                read_unloaded(
                    dataset, loads, [*fields, *extra], None if state else results.sample_ids
                )
            plan = plan_load(loads, live, results.id_map, unexpected)
            report_progress(0.85, "Writing the changed labels into the dataset")
            for dest, (label_type, values) in plan.writes.items():
                write_field(dataset, dest, label_type, values)
            outcome = {"incremental": state is not None}
            if choice == "all":
                outcome["annotator_fields"] = _annotator_fields(live)
                outcome["agreement"] = agreement.measure(dataset, live, loads)
            results.load_state = tasks.as_dict()
            note_written(results, loads.written, [t.dest for t in live if t.in_place])
            record_load(dataset, results, loads, plan.known, outcome)
    finally:
        if export is not None:
            export.close()
        run_lock.release(dataset, anno_key, token)
    if cleanup:
        results.cleanup()
    outcome = dict(results.last_load)
    if unexpected == "return":
        outcome["unexpected_labels"] = plan.returned or None
    report_progress(1.0, "Loaded")
    return outcome


def check_choice(choice: str | None) -> None:
    """Refuses an annotation choice that is none of :data:`ANNOTATION_CHOICES`
    nor an email."""
    if choice is not None and choice not in ANNOTATION_CHOICES and "@" not in str(choice):
        raise ValueError(
            f"annotation_choice={choice!r} is not one of {', '.join(ANNOTATION_CHOICES)} nor an "
            "annotator's email"
        )


def begin_export(connection, results) -> ProjectExport:
    """The complete read of the run's project, begun now: Label Studio
    builds it while the load reads the project's config, the users and the
    samples."""
    return ProjectExport(connection, results.project_id, len(results.sample_ids))


def _wanted(targets) -> dict[str, str]:
    return {t.source.name: t.dest for t in targets}


def _may_serve(state: incremental.LoadState, wanted: dict, choice: str) -> bool:
    """Whether the last load's state may serve a load into ``wanted`` once
    the fields whose controls are gone are left out of it (known later)."""
    return choice == state.choice and state.targets.items() <= wanted.items()


def _annotator_fields(live) -> dict:
    fields: dict[str, dict] = {}
    for target in live:
        fields.setdefault(target.source.name, {})[target.annotator] = target.dest
    return fields


def read_run(
    connection,
    results,
    dataset,
    fields,
    extra_fields=(),
    choice=None,
    state=None,
    wanted=None,
    export: ProjectExport | None = None,
):
    """Reads and converts the run's tasks: every task (the ``export`` the
    caller began, and closes), or with the ``state`` of the last load only
    those changed since. Returns the :class:`TaskLoads` and the
    :class:`incremental.LoadState` for the next load; the report counts every
    sample of the run as a full load would. Raises :class:`NotFoundError`
    when the project is gone."""
    sample_ids = results.sample_ids
    choice = choice or results.config.annotation_choice
    try:  # annotations name their annotator by user id: loaded labels record the email
        annotators = projects.users(connection)
    except LabelStudioError:
        if choice not in ("latest", "earliest"):
            raise  # choosing by annotator needs their emails
        annotators = {}  # a key that may not list users: labels record "user <id>"
    if "@" in choice and choice not in annotators.values():
        raise ValueError(
            f"annotation_choice={choice!r}: no user of Label Studio at {connection.url} has "
            "this email; give the email an annotator logs in with"
        )
    if state is None:
        report_progress(0.0, f"Exporting project {results.project_id} from Label Studio")
        exported: list = []  # every task's id: the span the next load counts in
        tasks = _noting_ids(export.tasks(), exported)
        # all of them if Label Studio takes long enough: a load holds the
        # samples it loads until it writes them anyway
        ahead_ids = sample_ids
    else:
        # the server's clock before the read: that of its last answer (an
        # earlier time only makes the next load read more), else asked for
        started = connection.server_date or incremental.server_time(connection)
        report_progress(
            0.0, f"Reading the tasks of project {results.project_id} changed since {state.since}"
        )
        held, span = incremental.live_task_ids(
            connection, results.project_id, state.tasks, state.span
        )
        tasks = incremental.changed_tasks(connection, results.project_id, state.since)
        ahead_ids = []

    def read(ids):
        ensure_metadata(dataset, ids)
        samples = read_samples(dataset, ids, [*fields, *extra_fields])
        for sample_id, sample in samples.items():
            index_labels(sample_id, sample, fields)  # ahead, while Label Studio exports
        return samples

    ahead = Prefetch(read, ahead_ids, _CHUNK)
    try:
        loads = load_tasks(
            tasks,
            sample_ids,
            fields,
            ahead.read,
            choice,
            lambda done: report_progress(
                0.1 + 0.7 * done / max(len(sample_ids), 1), f"Converted {done} tasks"
            ),
            annotators,
            References(
                SentResults(lambda: predictions_by_task(connection, results.project_id)),
                sent_at(results),
                {} if choice == "all" else results.loaded_regions,
                record=choice != "all",
            ),
        )
    finally:
        ahead.close()
    loads.report.changed = len(loads.tasks)
    if state is None:
        every, span = loads.tasks, incremental.TaskSpan.of(exported)
        started = export.started  # when the export began
    else:  # the tasks not read hold what they held; deleted ones are gone
        every = {t: v for t, v in state.tasks.items() if t in held}
        every.update(loads.tasks)
    tally(loads.report, every, sample_ids)
    wanted = wanted if wanted is not None else {f.name: f.name for f in fields}
    return loads, incremental.LoadState(started.isoformat(), every, wanted, choice, span)


def note_written(results, written: dict, fields: Iterable[str]) -> None:
    """Keeps with the run the fingerprints of the regions a load gave the
    labels of ``fields`` (loaded into themselves; ``written``: the load's
    ``TaskLoads.written``): what the next load compares the annotations with."""
    for name in fields:
        if written.get(name):
            results.loaded_regions.setdefault(name, {}).update(written[name])


def sent_at(results) -> datetime | None:
    """When the run sent its samples (naive UTC, as FiftyOne's
    ``last_modified_at``); None for a run requested before this was recorded."""
    if not results.sent_at:
        return None
    return datetime.fromisoformat(results.sent_at).astimezone(timezone.utc).replace(tzinfo=None)


def _noting_ids(tasks: Iterable[dict], ids: list) -> Iterator[dict]:
    for task in tasks:
        ids.append(task["id"])
        yield task


def read_unloaded(dataset, loads: TaskLoads, fields, sample_ids=None) -> None:
    """Reads the samples that loaded nothing, for destinations other than
    their own field (which receive their labels as they are): those whose
    tasks were read, and the run's other ``sample_ids`` (without a task)."""
    for sample_id in sample_ids or ():
        loads.samples.setdefault(sample_id, SampleLoad("missing"))
    ids = [sid for sid, load in loads.samples.items() if load.current is None]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for sample_id, values in read_samples(dataset, chunk, fields).items():
            loads.samples[sample_id].current = values


def live_fields(connection, results, label_schema, scalar_types) -> tuple[list, list]:
    """``(fields, gone)``: the run's fields whose control the project's
    labeling config still has, and those it lost (edited in Label Studio)."""
    fields = field_schemas(label_schema, scalar_types)
    label_config = projects.label_config(connection, results.project_id)
    if label_config is None:
        raise NotFoundError(
            f"Project {results.project_id} of run '{results.key}' no longer exists in Label "
            f"Studio at {connection.url}, so its annotations cannot be loaded; nothing was "
            f"changed. Delete the run with dataset.delete_annotation_run('{results.key}')."
        )
    gone = [f for f in fields if not has_control(label_config, f)]
    for f in gone:
        logger.warning(
            "The labeling config of project %s has no %s control named '%s' any more (edited "
            "in Label Studio?); the labels of field '%s' are left as they are",
            results.project_id,
            family_of(f).control,
            f.name,
            f.name,
        )
    return [f for f in fields if f not in gone], gone


def record_load(dataset, results, loads: TaskLoads, known, extra=None) -> None:
    """Saves the run with what the load knows now and its report."""
    for dest, entries in known.items():
        results.id_map.setdefault(dest, {}).update(entries)
    results.last_load = {
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **loads.report.as_dict(),
        **(extra or {}),
    }
    logger.info("Loaded run '%s': %s", results.key, loads.report.as_dict())
    type(results.backend).save_run_results(dataset, results.key, results)


def load_run_results(dataset, anno_key: str, **credentials):
    """A run's results as stored now, connected with these credentials.

    FiftyOne caches results per process and hands back the cached object
    without applying new credentials, and another process (the App, a
    delegated worker) may have loaded the run since. Without a key, the one
    this process used for the run before is used, as FiftyOne's own
    ``load_annotations()`` does, unless the server refused it (and its URL,
    unless Label Studio was not reached there).
    """
    cached = getattr(dataset, foan.AnnotationMethod._results_cache_field()).pop(anno_key, None)
    credentials = {k: v for k, v in credentials.items() if v is not None}
    key = cached.config.api_key if cached is not None else None
    if key and "api_key" not in credentials and not key_refused(cached.config.url, key):
        # the key this process already used for the run (kept in memory only)
        if "url" not in credentials and not url_unreached(cached.config.url):
            credentials["url"] = cached.config.url
        credentials["api_key"] = key
    return dataset.load_annotation_results(anno_key, **credentials)


def current_key(dataset, key: str, run_id: str) -> str | None:
    """The run's key now: it may have been renamed while it was loading."""
    runs = dataset.list_annotation_runs()
    if key in runs:
        return key
    for other in runs:
        doc = foan.AnnotationMethod._get_run_doc(dataset, other)
        if (doc.results_meta or {}).get("run_id") == run_id:
            return other
    return None

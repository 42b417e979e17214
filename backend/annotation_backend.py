"""FiftyOne's annotation backend ``"labelstudio"``, on ``label_studio_sdk.LabelStudio``.

FiftyOne records a run's config class by its full name and re-imports it,
with the backend class of the same module, wherever the run is loaded; the
config, backend and results classes therefore live here together.
"""

from __future__ import annotations

import inspect
import logging
import uuid
import webbrowser
from datetime import datetime, timezone
from typing import Any, Sequence

import fiftyone.core.annotation as foan
import fiftyone.core.fields as fof
import fiftyone.core.labels as fol
import fiftyone.core.media as fom
import fiftyone.utils.annotations as foua

from ..conversions import (
    LABEL_TYPES,
    FieldSchema,
    Frame,
    family_of,
    field_schemas,
    has_control,
    labeling_config,
    labels_of,
)
from . import loading, orphans, projects, run_lock, tasks
from .client import DEFAULT_TIMEOUT, Connection, LabelStudioError, NotFoundError, ServerInfo
from .media import MEDIA_MODES, LocalFiles, check_files_exist, media_urls, plan_media
from .prefetch import Prefetch
from .progress import report
from .stored_labels import stored_value

logger = logging.getLogger(__name__)

PLACEHOLDER_URL = "https://labelstud.io"
"""FiftyOne's default ``url`` for its built-in Label Studio backend: not a server."""

_SCALAR_FIELD_TYPES = {
    fof.IntField: "int",
    fof.FloatField: "float",
    fof.StringField: "str",
    fof.BooleanField: "bool",
}
_CHUNK = 1000
_PREFETCH = 2 * _CHUNK  # samples a load reads while Label Studio exports: bounds the memory


class LabelStudioBackendConfig(foua.AnnotationBackendConfig):
    """Configures a Label Studio annotation run.

    Args:
        name: the backend name (``"labelstudio"``)
        label_schema: FiftyOne's label schema
        media_field ("filepath"): the field holding each sample's media path
        url (None): the Label Studio server
        api_key (None): a personal access token or a legacy token; never
            stored with the run
        project_name (None): the project title; default ``FiftyOne_<dataset>``,
            made unique within Label Studio's 50 characters
        existing_labels ("predictions"): send existing labels as
            ``"predictions"`` (an annotator accepts or edits them) or as
            ``"annotations"``
        media ("auto"): ``"auto"``, ``"upload"``, ``"local_storage"`` or ``"url"``
        annotation_choice ("latest"): which completed annotation of a task
            loads when it has several: ``"latest"`` or ``"earliest"`` updated
        timeout (45): seconds one call to Label Studio may take, retries included
    """

    def __init__(
        self,
        name,
        label_schema,
        media_field="filepath",
        url=None,
        api_key=None,
        project_name=None,
        existing_labels="predictions",
        media="auto",
        annotation_choice="latest",
        timeout=DEFAULT_TIMEOUT,
        **kwargs,
    ):
        super().__init__(name, label_schema, media_field=media_field, **kwargs)
        _check_choice("existing_labels", existing_labels, tasks.EXISTING_LABELS)
        _check_choice("media", media, MEDIA_MODES)
        _check_choice("annotation_choice", annotation_choice, loading.ANNOTATION_CHOICES)
        if project_name is not None and len(project_name) > projects.TITLE_LIMIT:
            raise ValueError(
                f"project_name has {len(project_name)} characters; Label Studio allows "
                f"{projects.TITLE_LIMIT}: shorten it"
            )
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout={timeout!r} must be a positive number of seconds")
        self.url = url
        self.project_name = project_name
        self.existing_labels = existing_labels
        self.media = media
        self.annotation_choice = annotation_choice
        self.timeout = timeout
        # private so that it is never serialized with the run
        self._api_key = api_key

    @property
    def api_key(self):
        return self._api_key

    @api_key.setter
    def api_key(self, value):
        self._api_key = value

    def load_credentials(self, url=None, api_key=None):
        # the run's own server, unless told otherwise; FiftyOne would replace it
        # with the annotation config's URL
        self._load_parameters(url=url or self.url, api_key=api_key)


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}")


class LabelStudioBackend(foua.AnnotationBackend):
    """Annotates FiftyOne samples in Label Studio."""

    @property
    def supported_media_types(self):
        return [fom.IMAGE]

    @property
    def supported_label_types(self):
        return list(LABEL_TYPES)

    @property
    def supported_scalar_types(self):
        return list(_SCALAR_FIELD_TYPES)

    @property
    def supported_attr_types(self):
        return []

    @property
    def supports_keyframes(self):
        return False

    @property
    def supports_video_sample_fields(self):
        return False

    @property
    def requires_label_schema(self):
        return True

    def _connect_to_api(self):
        return LabelStudioAnnotationAPI(self.config.url, self.config.api_key, self.config.timeout)

    def upload_annotations(self, samples, anno_key, launch_editor=False):
        """Sends the samples to a new project. On any failure, the project is
        deleted and the run's record removed, so the key stays free."""
        try:
            results = self.connect_to_api().upload_samples(samples, anno_key, self)
        except BaseException:
            if anno_key is not None and anno_key in samples._root_dataset.list_annotation_runs():
                self.delete_run(samples._root_dataset, anno_key, cleanup=False)
            raise
        if launch_editor:
            results.launch_editor()
        return results

    def download_annotations(self, results):
        return self.connect_to_api().download_annotations(results)

    @classmethod
    def save_run_results(cls, samples, key, run_results, overwrite=True, cache=True):
        if run_results is None:
            super().save_run_results(samples, key, None, overwrite=overwrite, cache=cache)
            return
        dataset = samples._root_dataset
        run_results._release_held()
        token, run_results._lock_token = run_results._lock_token, None
        try:
            current = _current_key(dataset, key, run_results.run_id)
            if current is None:
                logger.warning(
                    "Run '%s' was deleted while it was being loaded; its labels are loaded, "
                    "its record stays deleted",
                    key,
                )
                return
            run_results._key = current
            super().save_run_results(
                samples, current, run_results, overwrite=overwrite, cache=cache
            )
        finally:
            run_lock.release(dataset, key, token)


class LabelStudioAnnotationResults(foua.AnnotationResults):
    """A Label Studio annotation run: its project and the samples it sent.

    Args:
        samples: the run's samples
        config: the :class:`LabelStudioBackendConfig`
        anno_key: the run key
        id_map: ``{field: {sample id: label id(s)}}`` of the labels sent
        project_id: the Label Studio project
        sample_ids: the samples sent, one task each
        media_mode: how media reached Label Studio
        run_id (None): an id of the run that survives renames
        last_load (None): when the run was last loaded and what it found
        backend (None): the :class:`LabelStudioBackend`
    """

    def __init__(
        self,
        samples,
        config,
        anno_key,
        id_map,
        project_id,
        sample_ids,
        media_mode,
        run_id=None,
        last_load=None,
        backend=None,
    ):
        super().__init__(samples, config, anno_key, id_map, backend=backend)
        self.project_id = project_id
        self.sample_ids = list(sample_ids)
        self.media_mode = media_mode
        self.run_id = run_id or uuid.uuid4().hex
        self.last_load = last_load
        self._held = {}
        self._lock_token = None

    @property
    def project_url(self):
        return projects.project_url(_server_url(self.config.url), self.project_id)

    def get_status(self):
        """``{"total", "annotated", "skipped", "remaining", "project_url"}`` task counts."""
        api = self.connect_to_api()
        progress = api.progress([self.project_id]).get(self.project_id)
        if progress is None:
            raise LabelStudioError(
                f"Project {self.project_id} of run '{self.key}' no longer exists in Label Studio "
                f"at {api.url}."
            )
        return {
            **progress.as_dict(),
            "project_id": self.project_id,
            "project_url": self.project_url,
        }

    def print_status(self):
        status = self.get_status()
        print(f"\nProject {self.project_id}: {status['project_url']}")
        for name in ("total", "annotated", "skipped", "remaining"):
            print(f"    {name}: {status[name]}")

    def launch_editor(self):
        logger.info("Opening %s", self.project_url)
        webbrowser.open_new_tab(self.project_url)

    def cleanup(self):
        """Deletes the run's Label Studio project, in one request."""
        if self.project_id is not None:
            self.connect_to_api().delete_project(self.project_id)

    def _refresh(self, stored: "LabelStudioAnnotationResults") -> None:
        """Takes the run's state as stored: another process (the App, a
        delegated worker) may have loaded it since this object was cached."""
        self._held = {}
        self.id_map = stored.id_map
        self.sample_ids = stored.sample_ids
        self.last_load = stored.last_load

    def get_meta(self):
        """What the panel and the run listing read without loading the results."""
        return {
            "run_id": self.run_id,
            "project_id": self.project_id,
            "url": self.config.url,
            "num_tasks": len(self.sample_ids),
            "media_mode": self.media_mode,
            "last_load": self.last_load,
        }

    def _hold(self, held_by_field):
        """Keeps ``{field: sample ids}`` out of the next merge: FiftyOne would
        delete the labels the run sent for any sample whose labels of that
        field it does not get back."""
        self._release_held()
        for field, sample_ids in held_by_field.items():
            sent = self.id_map.get(field, {})
            held = {sid: sent.pop(sid) for sid in sample_ids if sid in sent}
            if held:
                self._held[field] = held

    def _release_held(self):
        for field, held in self._held.items():
            self.id_map.setdefault(field, {}).update(held)
        self._held = {}

    def serialize(self, *args, **kwargs):
        self._release_held()
        return super().serialize(*args, **kwargs)

    @classmethod
    def _from_dict(cls, d, samples, config, anno_key):
        return cls(
            samples,
            config,
            anno_key,
            d["id_map"],
            d["project_id"],
            d.get("sample_ids", []),
            d.get("media_mode"),
            run_id=d.get("run_id"),
            last_load=d.get("last_load"),
        )


class LabelStudioAnnotationAPI(foua.AnnotationAPI):
    """Requests, loads and manages runs on one Label Studio server."""

    def __init__(self, url, api_key, timeout=DEFAULT_TIMEOUT):
        self.url = _server_url(url)
        if not api_key:
            api_key = self._prompt_api_key("labelstudio")
        self._connection = Connection(self.url, api_key, timeout)

    def close(self):
        self._connection.close()

    def server_info(self) -> ServerInfo:
        return self._connection.server_info()

    def progress(self, project_ids):
        return projects.progress(self._connection, project_ids)

    def delete_project(self, project_id) -> bool:
        return projects.delete_project(self._connection, project_id)

    def upload_samples(self, samples, anno_key, backend) -> LabelStudioAnnotationResults:
        config = backend.config
        fields = field_schemas(config.label_schema, _scalar_types(samples, config.label_schema))
        label_config = labeling_config(fields)
        sample_ids, filepaths = samples.values(["id", config.media_field])
        check_files_exist(filepaths)
        local_files = LocalFiles.from_environment()
        plan = plan_media(filepaths, config.media, local_files)
        self._connection.server_info()  # the key works, before anything is made
        orphans.delete_pending(self._connection)

        samples.compute_metadata()
        title = projects.unique_title(
            self._connection,
            config.project_name or projects.default_title(samples._root_dataset.name),
        )
        project_id = projects.create_project(self._connection, title, label_config)
        try:
            report(0.0, f"Project {title!r} created; placing media ({plan.reason})")
            urls = media_urls(
                self._connection,
                project_id,
                filepaths,
                plan,
                local_files,
                lambda done: report(
                    0.5 * done / len(filepaths), f"Uploaded {done} of {len(filepaths)} media files"
                ),
            )
            id_map = {}
            existing = [f.name for f in fields if config.label_schema[f.name].get("existing_field")]
            import_report = tasks.ImportReport()
            stream = _sample_tasks(samples, sample_ids, urls, fields, existing, id_map)
            task_stream = (
                tasks.task_of(s, fields, config.existing_labels, import_report) for s in stream
            )
            num_tasks = tasks.import_tasks(
                self._connection,
                project_id,
                task_stream,
                lambda done: report(
                    0.5 + 0.5 * done / len(sample_ids),
                    f"Imported {done} of {len(sample_ids)} tasks",
                ),
            )
        except BaseException as error:
            self._roll_back(project_id, error)
            raise

        for sample_id, problem in import_report.problems:
            logger.warning("Sample %s: %s", sample_id, problem.message)
        logger.info("Created project %s with %d tasks", project_id, num_tasks)
        return LabelStudioAnnotationResults(
            samples,
            config,
            anno_key,
            id_map,
            project_id,
            sample_ids,
            plan.mode,
            backend=backend,
        )

    def _roll_back(self, project_id: int, error: BaseException) -> None:
        """Deletes the project of a failed request, or writes it down to be
        deleted once the server is back."""
        try:
            projects.delete_project(self._connection, project_id)
        except LabelStudioError:
            orphans.remember(self.url, project_id, str(error))
            error.add_note(
                f"Project {project_id} could not be deleted now; it will be deleted the next "
                "time this plugin reaches the server."
            )

    def download_annotations(self, results):
        dataset = results.samples._root_dataset
        token = run_lock.acquire(dataset, results.key)
        try:
            orphans.delete_pending(self._connection)
            annotations = self._download(results, dataset)
        except BaseException:
            run_lock.release(dataset, results.key, token)
            raise
        results._lock_token = token
        return annotations

    def _download(self, results, dataset):
        config = results.config
        results._refresh(dataset.load_annotation_results(results.key, cache=False))
        fields = field_schemas(config.label_schema, _scalar_types(dataset, config.label_schema))
        report(0.0, f"Exporting project {results.project_id} from Label Studio")
        label_config = projects.label_config(self._connection, results.project_id)
        if label_config is None:
            raise NotFoundError(
                f"Project {results.project_id} of run '{results.key}' no longer exists in Label "
                f"Studio at {self.url}, so its annotations cannot be loaded; nothing was changed. "
                f"Delete the run with dataset.delete_annotation_run('{results.key}')."
            )
        gone = [f for f in fields if not has_control(label_config, f)]
        for field in gone:
            logger.warning(
                "The labeling config of project %s has no %s control named '%s' any more (edited "
                "in Label Studio?); the labels of field '%s' are left as they are",
                results.project_id,
                family_of(field).control,
                field.name,
                field.name,
            )
        fields = [f for f in fields if f not in gone]
        exported = projects.export_tasks(
            self._connection, results.project_id, len(results.sample_ids)
        )

        ahead = Prefetch(
            lambda ids: _read_samples(dataset, ids, fields),
            results.sample_ids[:_PREFETCH],
            _CHUNK,
        )

        def read_samples(ids):
            report(
                0.1 + 0.8 * len(read) / max(len(results.sample_ids), 1),
                f"Converting {len(read)} of {len(results.sample_ids)} tasks",
            )
            read.update(ids)
            return ahead.read(ids)

        read = set()
        try:
            loaded = loading.load_tasks(
                exported,
                results.sample_ids,
                fields,
                results.id_map,
                read_samples,
                config.annotation_choice,
                in_place=_loaded_in_place(config.label_schema),
            )
        finally:
            ahead.close()
        results._hold({**loaded.held, **{f.name: results.sample_ids for f in gone}})
        results.last_load = {
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **loaded.report.as_dict(),
        }
        report(0.9, "Merging the labels into the dataset")
        logger.info("Loaded run '%s': %s", results.key, loaded.report.as_dict())
        return loaded.annotations


def _loaded_in_place(label_schema) -> set[str]:
    """The run fields the ``load_annotations()`` in progress loads into
    themselves, as opposed to into a ``dest_field``.

    FiftyOne does not tell backends its ``dest_field``, yet it decides whether
    a label that comes back unchanged needs merging at all: into its own field,
    no; into a new field, yes. So it is read from FiftyOne's call; when that
    cannot be done, every field counts as loaded elsewhere, which is always
    correct, only slower.
    """
    frame = inspect.currentframe()
    while frame is not None and frame.f_code is not foua.load_annotations.__code__:
        frame = frame.f_back
    if frame is None:
        return set()
    dest_field = frame.f_locals.get("dest_field")
    if dest_field is None:
        return set(label_schema)
    if isinstance(dest_field, str):
        # FiftyOne ignores a string dest_field for a run of several fields
        return set(label_schema) if len(label_schema) > 1 else set(label_schema) & {dest_field}
    return {name for name in label_schema if dest_field.get(name, name) == name}


def _current_key(dataset, key, run_id) -> str | None:
    """The run's key now: it may have been renamed while it was loading."""
    runs = dataset.list_annotation_runs()
    if key in runs:
        return key
    for other in runs:
        doc = foan.AnnotationMethod._get_run_doc(dataset, other)
        if (doc.results_meta or {}).get("run_id") == run_id:
            return other
    return None


def _server_url(url):
    if not url or url.rstrip("/") == PLACEHOLDER_URL:
        raise LabelStudioError(
            "No Label Studio URL is set: pass url=..., set FIFTYONE_LABELSTUDIO_URL, or set "
            "backends.labelstudio.url in FiftyOne's annotation config."
        )
    return url.rstrip("/")


def _scalar_types(samples, label_schema) -> dict[str, str]:
    """The value type of each scalar field of the schema that exists already."""
    types = {}
    for name, info in label_schema.items():
        if info.get("type") != "scalar":
            continue
        field = samples.get_field(name)
        for field_type, scalar_type in _SCALAR_FIELD_TYPES.items():
            if isinstance(field, field_type):
                types[name] = scalar_type
    return types


def _sample_tasks(samples, sample_ids, urls, fields, existing, id_map):
    """Each sample with its size and existing labels as the view shows them
    (a view that filters labels sends only those), read a chunk at a time."""
    url_of = dict(zip(sample_ids, urls))
    by_name = {f.name: f for f in fields}
    for start in range(0, len(sample_ids), _CHUNK):
        chunk = sample_ids[start : start + _CHUNK]
        for sample_id, (width, height, values) in _read_samples(
            samples, chunk, [by_name[n] for n in existing]
        ).items():
            for name in existing:
                id_map.setdefault(name, {})[sample_id] = _label_ids(values.get(name), by_name[name])
            yield tasks.SampleTask(
                sample_id, url_of[sample_id], Frame(width, height, sample_id), values
            )


def _label_ids(value, field: FieldSchema):
    """What the run's ``id_map`` records for a field value."""
    if value is None:
        return None
    if field.label_type == "scalar":
        return True
    ids = [label.id for label in labels_of(value, field)]
    if issubclass(foua._LABEL_TYPES_MAP[field.label_type], fol._HasLabelList):
        return ids
    return ids[0] if ids else None


def _read_samples(collection, sample_ids, fields) -> dict[str, tuple[int, int, dict]]:
    """``{sample id: (width, height, {field: value})}`` for the given samples
    of a dataset or view, and those of the fields that exist; labels are read
    raw, as :class:`StoredLabel`."""
    scalar = {f.name: f.label_type == "scalar" for f in fields if collection.has_field(f.name)}
    columns = collection.select(sample_ids).values(
        ["id", "metadata.width", "metadata.height", *scalar], _raw=True
    )
    read = {}
    for sample_id, width, height, *values in zip(*columns):
        stored = {
            name: stored_value(v, is_scalar) for (name, is_scalar), v in zip(scalar.items(), values)
        }
        read[str(sample_id)] = (width, height, stored)
    return read

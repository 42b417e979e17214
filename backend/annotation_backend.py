"""FiftyOne's annotation backend ``"labelstudio"``: the classes FiftyOne's
annotation API calls, each a thin adapter over :mod:`.request` and
:mod:`.load`.

FiftyOne records a run's config class by its full name and re-imports it,
with the backend and results classes of the same module, wherever the run
is loaded: their names are part of every run and must not move.
"""

from __future__ import annotations

import logging
import sys
import uuid
import webbrowser
from datetime import datetime, timezone
from typing import Any, Sequence

import fiftyone.core.fields as fof
import fiftyone.core.media as fom
import fiftyone.utils.annotations as foua

from ..conversions import LABEL_TYPES
from ..conversions.attributes import ATTRIBUTE_TYPES, GEOMETRY, recommended_attribute
from ..conversions.schema import VIDEO_TYPES
from . import fiftyone_load, incremental, load, projects, request, tasks
from .client import DEFAULT_TIMEOUT, Connection, LabelStudioError, ServerInfo
from .collector import cycle_collection_paused
from .media import MEDIA_MODES
from .parameters import unknown_load_parameters, unknown_parameters

logger = logging.getLogger(__name__)

PLACEHOLDER_URL = "https://labelstud.io"
"""FiftyOne's default ``url`` for its built-in Label Studio backend: not a server."""

_SCALAR_FIELD_TYPES = {
    fof.IntField: "int",
    fof.FloatField: "float",
    fof.StringField: "str",
    fof.BooleanField: "bool",
}


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
            made unique within Label Studio's 50 characters. The title of an
            existing project puts the run's tasks into that project
        project_id (None): an existing project to put the run's tasks into;
            samples it already holds are not sent twice, and its labeling
            config grows by the run's fields and classes
        maximum_annotations (None): how many annotators annotate each task
            (Label Studio's overlap), for a new project
        overlap_cohort_percentage (None): of the tasks, the percentage that
            gets ``maximum_annotations`` annotators (100 by default)
        existing_labels ("predictions"): send existing labels as
            ``"predictions"`` (an annotator accepts or edits them) or as
            ``"annotations"``
        media ("auto"): ``"auto"``, ``"upload"``, ``"local_storage"`` or ``"url"``
        annotation_choice ("latest"): which completed annotation of a task
            loads when it has several: ``"latest"`` or ``"earliest"``
            updated, an annotator's email (their latest), or ``"all"`` (each
            annotator's into fields of their own, with the plugin's
            ``load_annotations()``)
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
        project_id=None,
        maximum_annotations=None,
        overlap_cohort_percentage=None,
        existing_labels="predictions",
        media="auto",
        annotation_choice="latest",
        timeout=DEFAULT_TIMEOUT,
        **kwargs,
    ):
        super().__init__(name, label_schema, media_field=media_field, **kwargs)
        _check_choice("existing_labels", existing_labels, tasks.EXISTING_LABELS)
        _check_choice("media", media, MEDIA_MODES)
        load.check_choice(annotation_choice)
        if project_id is not None and (
            isinstance(project_id, bool) or not isinstance(project_id, int)
        ):
            raise ValueError(
                f"project_id={project_id!r} must be a Label Studio project id (an integer)"
            )
        for name, value, low in (
            ("maximum_annotations", maximum_annotations, 1),
            ("overlap_cohort_percentage", overlap_cohort_percentage, 0),
        ):
            if value is not None and (not isinstance(value, int) or value < low):
                raise ValueError(f"{name}={value!r} must be a whole number >= {low}")
        if project_name is not None:
            # Label Studio trims a title, then wants 3 to TITLE_LIMIT characters
            title = project_name.strip() if isinstance(project_name, str) else ""
            if len(title) < 3:
                raise ValueError(
                    f"project_name={project_name!r}: give a title of 3 to "
                    f"{projects.TITLE_LIMIT} characters, or leave it out for FiftyOne_<dataset>"
                )
            if len(title) > projects.TITLE_LIMIT:
                raise ValueError(
                    f"project_name has {len(title)} characters; Label Studio allows "
                    f"{projects.TITLE_LIMIT}: shorten it"
                )
            project_name = title
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout={timeout!r} must be a positive number of seconds")
        self.url = url
        self.project_name = project_name
        self.project_id = project_id
        self.maximum_annotations = maximum_annotations
        self.overlap_cohort_percentage = overlap_cohort_percentage
        self.existing_labels = existing_labels
        self.media = media
        self.annotation_choice = annotation_choice
        self._choice_of_next_load = None  # see load_credentials
        self.timeout = timeout
        # private so that it is never serialized with the run
        self._api_key = api_key

    @property
    def api_key(self):
        return self._api_key

    @api_key.setter
    def api_key(self, value):
        self._api_key = value

    def attributes(self):
        # the label schema is a property (see below): serialized all the same
        return [*super().attributes(), "label_schema"]

    @property
    def label_schema(self):
        return self._label_schema

    @label_schema.setter
    def label_schema(self, schema):
        # attributes=True finds a rotated box's geometry among its attributes:
        # it is the rectangle's own, not a control of its own
        self._label_schema = without_geometry(schema)

    def load_credentials(self, url=None, api_key=None, annotation_choice=None, **unknown):
        if unknown:  # FiftyOne passes on what a load was given and it does not take
            raise TypeError(unknown_load_parameters(unknown))
        # the run's own server, unless told otherwise; FiftyOne would replace it
        # with the annotation config's URL
        self._load_parameters(url=url or self.url, api_key=api_key)
        # dataset.load_annotations(key, annotation_choice=...) passes it here,
        # for that load only: FiftyOne caches this config for the session
        if annotation_choice is not None:
            load.check_choice(annotation_choice)
        self._choice_of_next_load = annotation_choice

    def take_choice_of_load(self) -> str:
        """The annotation choice of the load under way: the one given to it
        (then forgotten), else the run's own."""
        choice, self._choice_of_next_load = self._choice_of_next_load, None
        return choice or self.annotation_choice


def without_geometry(schema):
    """The label schema without rectangles' geometry among their attributes.

    Example:
        >>> without_geometry({"gt": {"type": "detections", "attributes": {"rotation": {}, "make": {}}}})
        {'gt': {'type': 'detections', 'attributes': {'make': {}}}}
    """
    if not isinstance(schema, dict):
        return schema
    cleaned = {}
    for name, info in schema.items():
        attributes = info.get("attributes") if isinstance(info, dict) else None
        if isinstance(attributes, dict) and info.get("type") in ("detection", "detections"):
            info = {
                **info,
                "attributes": {k: v for k, v in attributes.items() if k not in GEOMETRY},
            }
        cleaned[name] = info
    return cleaned


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}")


class LabelStudioBackend(foua.AnnotationBackend):
    """Annotates FiftyOne samples in Label Studio."""

    def ensure_requirements(self):
        """FiftyOne calls it first in ``annotate()``: unknown parameters are
        refused here, before the run is recorded."""
        super().ensure_requirements()
        problem = unknown_parameters(self.config)
        if problem:
            raise ValueError(problem)

    @property
    def supported_media_types(self):
        return [fom.IMAGE, fom.VIDEO]

    @property
    def supported_label_types(self):
        # FiftyOne's annotate() cannot build a schema of a video-only type
        # (temporal detections): fiftyone_labelstudio.annotate() takes them
        return [t for t in LABEL_TYPES if t not in VIDEO_TYPES]

    @property
    def supported_scalar_types(self):
        return list(_SCALAR_FIELD_TYPES)

    @property
    def supported_attr_types(self):
        return list(ATTRIBUTE_TYPES)

    def recommend_attr_tool(self, name, value):
        """The control for an attribute found on existing labels
        (``attributes=True``), from its name and value."""
        return recommended_attribute(name, value)

    def requires_attr_values(self, attr_type):
        return attr_type in ("select", "radio")

    @property
    def supports_keyframes(self):
        return True

    @property
    def supports_video_sample_fields(self):
        return True

    @property
    def requires_label_schema(self):
        return True

    def _connect_to_api(self):
        return LabelStudioAnnotationAPI(self.config.url, self.config.api_key, self.config.timeout)

    def upload_annotations(self, samples, anno_key, launch_editor=False):
        """Sends the samples to a new project. On any failure, the project is
        deleted and the run's record removed, so the key stays free."""
        run_id = uuid.uuid4().hex
        try:
            made = request.request_annotations(
                self.connect_to_api(),
                samples,
                self.config,
                scalar_types(samples, self.config.label_schema),
                run_id,
            )
        except BaseException:
            if anno_key is not None and anno_key in samples._root_dataset.list_annotation_runs():
                self.delete_run(samples._root_dataset, anno_key, cleanup=False)
            raise
        results = LabelStudioAnnotationResults(
            samples,
            self.config,
            anno_key,
            made["id_map"],
            made["project_id"],
            made["sample_ids"],
            made["media_mode"],
            run_id=run_id,
            created_tasks=made["created_tasks"],
            sent_at=datetime.now(timezone.utc).isoformat(),  # the request is done
            backend=self,
        )
        if launch_editor:
            results.launch_editor()
        return results

    def download_annotations(self, results):
        return fiftyone_load.download_annotations(self.connect_to_api(), results)

    @classmethod
    def save_run_results(cls, samples, key, run_results, overwrite=True, cache=True):
        """Saves under the run's key now: a rename during a load is followed,
        a delete during a load keeps the record deleted."""
        if run_results is not None:
            fiftyone_load.write_what_fiftyone_does_not(samples._root_dataset, run_results)
            current = load.current_key(samples._root_dataset, key, run_results.run_id)
            if current is None:
                logger.warning(
                    "Run '%s' was deleted while it was being loaded; its labels are loaded, "
                    "its record stays deleted",
                    key,
                )
                return
            run_results._key = key = current
        with cycle_collection_paused():  # serializing the id_map makes an object per id
            super().save_run_results(samples, key, run_results, overwrite=overwrite, cache=cache)


class LabelStudioAnnotationResults(foua.AnnotationResults):
    """A Label Studio annotation run: its project and the samples it sent.

    Args:
        samples: the run's samples
        config: the :class:`LabelStudioBackendConfig`
        anno_key: the run key
        id_map: ``{field: {sample id: label id(s)}}`` of the labels the run
            knows (sent, or added by loads)
        project_id: the Label Studio project
        sample_ids: the samples sent, one task each
        media_mode: how media reached Label Studio
        run_id (None): an id of the run that survives renames
        last_load (None): when the run was last loaded and what it found
        load_state (None): what the last load read, so that the next reads
            only what changed (:class:`.incremental.LoadState`)
        created_tasks (None): the tasks the run made (in a project runs
            share, the run's own)
        sent_at (None): when the request ended (ISO 8601, UTC): a sample
            modified after it may hold labels edited in FiftyOne since
        loaded_regions (None): ``{field: {label id: fingerprint}}`` of the
            regions loads wrote labels of the run's fields from (see
            :mod:`.sent_labels`)
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
        load_state=None,
        created_tasks=None,
        sent_at=None,
        loaded_regions=None,
        backend=None,
    ):
        super().__init__(samples, config, anno_key, id_map, backend=backend)
        self.project_id = project_id
        self.sample_ids = list(sample_ids)
        self.media_mode = media_mode
        self.run_id = run_id or uuid.uuid4().hex
        self.last_load = last_load
        self.load_state = load_state
        self.created_tasks = list(created_tasks or [])
        self.sent_at = sent_at
        self.loaded_regions = loaded_regions or {}

    @property
    def project_url(self):
        return projects.project_url(server_url(self.config.url), self.project_id)

    def get_status(self):
        """``{"total", "annotated", "skipped", "remaining", "project_url"}`` counts
        of the run's tasks."""
        api = self.connect_to_api()
        progress = api.progress([self.project_id]).get(self.project_id)
        if progress is None:
            raise LabelStudioError(
                f"Project {self.project_id} of run '{self.key}' no longer exists in Label Studio "
                f"at {api.url}."
            )
        if other_runs(self.config.url, self.project_id, self.run_id):
            # the project's counts are other runs' too
            progress = incremental.progress_by_run(
                api.connection, self.project_id, {None: set(self.sample_ids)}
            )[None]
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
        """Deletes the run's Label Studio project, in one request; or, while
        other runs (of any dataset) use the project, only the tasks this run
        made. Returns ``"project"``, ``"tasks"`` or None (nothing was there)."""
        if self.project_id is None:
            return None
        api = self.connect_to_api()
        if other_runs(self.config.url, self.project_id, self.run_id):
            if self.created_tasks:
                tasks.delete_tasks(api.connection, self.project_id, self.created_tasks)
            return "tasks"
        return "project" if api.delete_project(self.project_id) else None

    def _update_id_map(self, label_field, new_id_map):
        # FiftyOne's merge names each field it merged into (the field, or its
        # dest_field): where the attributes it does not copy are written
        self._merged_fields = [*getattr(self, "_merged_fields", ()), label_field]
        super()._update_id_map(label_field, new_id_map)

    def get_meta(self):
        """What the panel and the run listing read without loading the results."""
        return {
            "run_id": self.run_id,
            "project_id": self.project_id,
            "url": self.config.url,
            "num_tasks": len(self.sample_ids),
            "media_mode": self.media_mode,
            "last_load": self.last_load,
            "changes_since": (self.load_state or {}).get("since"),
        }

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
            load_state=d.get("load_state"),
            created_tasks=d.get("created_tasks"),
            sent_at=d.get("sent_at"),
            loaded_regions=d.get("loaded_regions"),
        )


class LabelStudioAnnotationAPI(foua.AnnotationAPI):
    """One Label Studio server, reached with one key."""

    def __init__(self, url, api_key, timeout=DEFAULT_TIMEOUT):
        self.url = server_url(url)
        if not api_key and _interactive():
            api_key = self._prompt_api_key("labelstudio")
        # without a key (and nobody to ask) the connection says how to give one
        self.connection = Connection(self.url, api_key, timeout)

    def close(self):
        self.connection.close()

    def server_info(self) -> ServerInfo:
        return self.connection.server_info()

    def progress(self, project_ids):
        return projects.progress(self.connection, project_ids)

    def delete_project(self, project_id) -> bool:
        return projects.delete_project(self.connection, project_id)


def other_runs(url, project_id, run_id) -> list[str]:
    """The run ids of the other runs, of any dataset, that use a project."""
    from fiftyone.core.odm.runs import RunDocument

    found = []
    for doc in RunDocument.objects(__raw__={"results_meta.project_id": project_id}):
        meta = doc.results_meta or {}
        same_server = str(meta.get("url") or "").rstrip("/") == str(url or "").rstrip("/")
        if same_server and meta.get("run_id") != run_id:
            found.append(meta.get("run_id"))
    return found


def server_url(url):
    """The server URL, refusing FiftyOne's placeholder for its built-in backend."""
    if not url or url.rstrip("/") == PLACEHOLDER_URL:
        raise LabelStudioError(
            "No Label Studio URL is set: pass url=..., set FIFTYONE_LABELSTUDIO_URL, or set "
            "backends.labelstudio.url in FiftyOne's annotation config."
        )
    return url.rstrip("/")


def scalar_types(samples, label_schema) -> dict[str, str]:
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


def _interactive() -> bool:
    """Whether someone at a terminal can be asked for a key (FiftyOne's prompt)."""
    try:
        return bool(sys.stdin and sys.stdin.isatty())
    except (AttributeError, ValueError):  # closed or replaced stdin
        return False

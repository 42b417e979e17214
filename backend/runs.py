"""This plugin's annotation runs on a dataset, and the credentials to reach
their server: what the operators and the panel share with Python users."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping

import fiftyone as fo
import fiftyone.core.annotation as foan

from ..legacy import legacy_name, migrate_runs
from . import incremental, projects
from .annotation_backend import PLACEHOLDER_URL, LabelStudioAnnotationAPI, other_runs
from .client import LabelStudioError, ServerInfo
from .load import load_run_results

BACKEND = "labelstudio"
URL_SECRET = "FIFTYONE_LABELSTUDIO_URL"
API_KEY_SECRET = "FIFTYONE_LABELSTUDIO_API_KEY"
_CONFIG_PREFIX = __name__.rsplit(".", 1)[0] + "."
_CHECK_SECONDS = 30.0
_checked: dict[tuple[str, int], tuple[float, ServerInfo | LabelStudioError]] = {}


@dataclass(frozen=True)
class Credentials:
    """Where the Label Studio server is and the key to it."""

    url: str | None
    api_key: str | None = None

    @classmethod
    def resolve(
        cls, params: Mapping[str, Any], secrets: Mapping[str, Any] | None = None
    ) -> "Credentials":
        """Explicit params win over the plugin's secrets, which win over
        FiftyOne's annotation config (``backends.labelstudio``)."""
        secrets = secrets or {}
        config = fo.annotation_config.backends.get(BACKEND, {})
        configured_url = config.get("url")
        if configured_url == PLACEHOLDER_URL:
            configured_url = None
        return cls(
            url=params.get("url") or _secret(secrets, URL_SECRET) or configured_url,
            api_key=params.get("api_key")
            or _secret(secrets, API_KEY_SECRET)
            or config.get("api_key"),
        )

    def problem(self) -> str | None:
        """What is missing, or None."""
        if not self.url:
            return f"No Label Studio URL: give url, or set the {URL_SECRET} secret"
        if not self.api_key:
            return f"No Label Studio API key: give api_key, or set the {API_KEY_SECRET} secret"
        return None

    def api(self) -> LabelStudioAnnotationAPI:
        problem = self.problem()
        if problem:
            raise LabelStudioError(problem)
        return LabelStudioAnnotationAPI(self.url, self.api_key)

    def server_info(self) -> ServerInfo:
        """The server's version and user, checked at most every 30 s (forms
        re-check on every keystroke)."""
        key = (self.url, hash(self.api_key))
        checked_at, outcome = _checked.get(key, (0.0, None))
        if outcome is None or time.monotonic() - checked_at > _CHECK_SECONDS:
            try:
                outcome = self.api().server_info()
            except LabelStudioError as error:
                outcome = error
            _checked[key] = (time.monotonic(), outcome)
        if isinstance(outcome, LabelStudioError):
            raise outcome
        return outcome


def _secret(secrets: Mapping[str, Any], name: str) -> str | None:
    try:
        return secrets.get(name) or None
    except Exception:  # a secrets provider that cannot resolve the name
        return None


def _run_doc(dataset, anno_key: str):
    return foan.AnnotationMethod._get_run_doc(dataset, anno_key)


def plugin_runs(dataset) -> list[str]:
    """The keys of this plugin's runs on a dataset, oldest first."""
    docs = {key: _run_doc(dataset, key) for key in dataset.list_annotation_runs()}
    if any(legacy_name(doc.config.get("cls")) for doc in docs.values()):
        migrate_runs(dataset)  # version 0.1's class names, rewritten once
        docs = {key: _run_doc(dataset, key) for key in docs}
    ours = [
        key for key, doc in docs.items() if doc.config.get("cls", "").startswith(_CONFIG_PREFIX)
    ]
    return sorted(ours, key=lambda key: docs[key].timestamp)


def run_meta(dataset, anno_key: str) -> dict:
    """``{"project_id", "url", "num_tasks", "media_mode", "last_load"}`` of a
    run, read without loading its results (empty while it is being requested)."""
    return dict(_run_doc(dataset, anno_key).results_meta or {})


def runs_progress(dataset, credentials: Credentials) -> dict[str, dict]:
    """Status of every run of this plugin on the dataset whose project lives
    on the credentials' server, in one request per 100 runs (and one per run
    loaded before, for the tasks changed since; in a project several runs
    share, one read of its task list, for each run's own counts):
    ``{anno_key: {"total", "annotated", "skipped", "remaining", "project_id",
    "project_url", "changed"}}``; a run whose project is gone has ``"missing": True``."""
    metas = {key: run_meta(dataset, key) for key in plugin_runs(dataset)}
    here = {
        key: meta
        for key, meta in metas.items()
        if meta.get("project_id") is not None and _same_server(meta.get("url"), credentials.url)
    }
    api = credentials.api()
    found = api.progress(meta["project_id"] for meta in here.values())
    # in a project other runs share, each run counts its own tasks: one read
    # of the project's task list serves all its runs here
    own_samples: dict[int, dict[str, set]] = {}
    for key, meta in here.items():
        if meta["project_id"] in found and other_runs(
            meta["url"], meta["project_id"], meta.get("run_id")
        ):
            samples = set(results_with(dataset, key, credentials).sample_ids)
            own_samples.setdefault(meta["project_id"], {})[key] = samples
    own_progress = {
        key: progress
        for project_id, samples_by_run in own_samples.items()
        for key, progress in incremental.progress_by_run(
            api.connection, project_id, samples_by_run
        ).items()
    }
    status = {}
    for key, meta in here.items():
        project_id = meta["project_id"]
        info = {
            "project_id": project_id,
            "project_url": projects.project_url(meta["url"].rstrip("/"), project_id),
        }
        if project_id not in found:
            status[key] = {**info, "missing": True}
            continue
        progress = own_progress.get(key, found[project_id])
        status[key] = {**progress.as_dict(), **info}
        if meta.get("changes_since"):
            status[key]["changed"] = incremental.count_changed(
                api.connection,
                project_id,
                meta["changes_since"],
                own_samples.get(project_id, {}).get(key),
            )
    return status


def _same_server(url: str | None, other: str | None) -> bool:
    return bool(url and other) and url.rstrip("/") == other.rstrip("/")


def results_with(dataset, anno_key: str, credentials: Credentials):
    """A run's results as stored, connected with these credentials."""
    return load_run_results(dataset, anno_key, url=credentials.url, api_key=credentials.api_key)

"""The contenders' phases, each split into an untimed preparation and the
timed call (see ``measure.py``).

- ``plugin``: this plugin (personal access token) through its own API, what
  the App's operators run: ``fiftyone_labelstudio.annotate()`` (which finds
  existing attributes by aggregation) and the bulk load
  ``fiftyone_labelstudio.load_annotations()``; its status and cleanup through
  the run's results;
- ``plugin-fiftyone``: the same backend through FiftyOne's
  ``dataset.annotate()`` and ``dataset.load_annotations()`` (FiftyOne's
  per-sample merge);
- ``builtin``: FiftyOne's own Label Studio backend (legacy token);
- ``floor``: the same imports and reads as bare REST calls, with no FiftyOne
  work (its tasks were converted before timing, see ``workloads.write_floor_tasks``).
  Its load is one of Label Studio's complete reads of a project (:data:`READS`),
  each measured as a contender of its own, ``floor:<read>``.

``prepare(contender, phase, context)`` returns ``(call, describe)``: ``call()``
is what is timed, ``describe(value)`` turns its return value into a small
JSON-able summary, untimed. FiftyOne is imported only by the contenders that
use it, so that the floor's memory holds none of it.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any, Callable
from urllib.parse import quote

import httpx
from label_studio_sdk import LabelStudio

CONTENDERS = ("plugin", "plugin-fiftyone", "builtin", "floor")
TASKS_PAGE_SIZE = 1000
READS = {
    "snapshot": "snapshot export (POST exports/, GET its download, DELETE it)",
    "export": "synchronous export (GET export?exportType=JSON&download_all_tasks=true)",
    "tasks": f"tasks API (GET tasks/?fields=all, {TASKS_PAGE_SIZE:,} tasks a page)",
}
"""Label Studio's complete reads of a project (every task with its annotations)."""
PAIRED_FLOOR = "floor:paired"
"""The read the plugin's load makes (the synchronous export of a small
project, else the snapshot), of the plugin's own project, measured next to
its load (see ``run.Bench.run_contender``): the plugin's load against the floor."""
PHASES = ("request", "load", "status", "cleanup")
ANNO_KEY = "bench"
BUILTIN_CONFIG_CLS = "fiftyone.utils.labelstudio.LabelStudioBackendConfig"
PLUGIN_CONFIG_CLS = "fiftyone_labelstudio.LabelStudioBackendConfig"
"""Each contender names its backend's config class (the plugin is also the
"labelstudio" backend through FIFTYONE_LABELSTUDIO_CONFIG_CLS, see
scripts/servers.py), and its request checks which backend made the run."""
FILES_PER_UPLOAD = 100
TASKS_PER_IMPORT = 1000
_COUNTS = "id,task_number,finished_task_number,total_annotations_number,skipped_annotations_number,total_predictions_number,num_tasks_with_annotations"


class Rest:
    """Label Studio's REST API with a personal access token, authenticated as
    ``label_studio_sdk.LabelStudio`` does (it refreshes the access token)."""

    def __init__(self, url: str, api_key: str, timeout: float = 3600.0):
        self._sdk = LabelStudio(base_url=url, api_key=api_key)
        self._http = httpx.Client(base_url=url, timeout=timeout)

    def __call__(self, method: str, path: str, **kwargs) -> Any:
        response = self._http.request(
            method, path, headers=self._sdk._client_wrapper.get_headers(), **kwargs
        )
        if response.status_code >= 400:
            raise RuntimeError(
                f"{method} {path}: HTTP {response.status_code}: {response.text[:300]}"
            )
        return response.json() if response.content else None

    def delete_every_project(self) -> int:
        """Deletes all projects of the server; returns how many."""
        deleted = 0
        while projects := self("GET", "api/projects", params={"page_size": 100})["results"]:
            for project in projects:
                self("DELETE", f"api/projects/{project['id']}/")
                deleted += 1
        return deleted

    def accept_all_predictions(self, project_id: int) -> str:
        """What an annotator does in the benchmark: every prediction becomes an annotation."""
        body = self(
            "POST",
            "api/dm/actions",
            params={"id": "predictions_to_annotations", "project": project_id},
            json={"selectedItems": {"all": True, "excluded": []}},
        )
        return body.get("detail", "")


def prepare(
    contender: str, phase: str, context: dict
) -> tuple[Callable[[], Any], Callable[[Any], dict]]:
    if contender.startswith("floor"):
        return _FLOOR[phase](context)
    return _through_fiftyone(contender, phase, context)


# --------------------------------------------------------- plugin and builtin


def _through_fiftyone(contender, phase, context):
    import fiftyone as fo
    from fiftyone.core.media import MediaTypeError

    dataset = fo.load_dataset(context["dataset"])
    ours = contender in ("plugin", "plugin-fiftyone")
    api_key = context["pat"] if ours else context["legacy_token"]
    credentials = {"url": context["url"], "api_key": api_key}
    if phase == "request":
        if ours:
            options = {"media": context["media"], "config_cls": PLUGIN_CONFIG_CLS}
        else:  # FiftyOne's own backend, whatever the annotation config registers
            options = {"config_cls": BUILTIN_CONFIG_CLS}
        expected = "fiftyone_labelstudio." if ours else "fiftyone.utils.labelstudio"

        if contender == "plugin":  # the plugin's own annotate(), as its operator runs it
            import fiftyone_labelstudio as fols

            annotate = functools.partial(fols.annotate, dataset)
        else:
            annotate = functools.partial(dataset.annotate, backend="labelstudio")

        def request():
            try:
                return annotate(
                    ANNO_KEY,
                    label_schema=context["label_schema"],
                    media_field=context["media_field"],
                    **credentials,
                    **options,
                )
            except MediaTypeError as error:  # the built-in backend takes images only
                raise NotImplementedError(f"no {dataset.media_type} support: {error}") from None

        def describe(results):
            made_by = type(results).__module__
            if not made_by.startswith(expected):
                raise RuntimeError(f"{contender}'s run was made by {made_by}, not {expected}")
            return {"project_id": results.project_id}

        return request, describe
    if phase == "load":
        # what the load left is checked by the caller (annotator.check_load)
        if contender == "plugin":
            import fiftyone_labelstudio as fols

            load_annotations = fols.load_annotations  # imported untimed, as in the App

            def load():  # incremental after a previous load, unless context["full"]
                full = context.get("full", False)
                return load_annotations(dataset, ANNO_KEY, full=full, **credentials)

            keys = ("loaded", "added", "edited", "deleted", "problems", "changed", "incremental")
            return load, lambda report: {k: report.get(k) for k in keys}
        return lambda: dataset.load_annotations(ANNO_KEY, **credentials), lambda _: {}
    results = dataset.load_annotation_results(ANNO_KEY, **credentials)
    if phase == "status":
        if not hasattr(results, "get_status"):
            raise NotImplementedError("no get_status()")
        return results.get_status, lambda status: {"status": status}
    return results.cleanup, lambda _: {}


# ----------------------------------------------------------------------- floor


def _floor_request(context):
    with open(context["floor_tasks"]) as f:
        spec = json.load(f)
    rest = Rest(context["url"], context["pat"])

    def request():
        project = rest(
            "POST",
            "api/projects",
            json={"title": f"floor {ANNO_KEY}", "label_config": spec["label_config"]},
        )
        media = [sample["media"] for sample in spec["samples"]]
        urls = _floor_media(rest, project["id"], media, context)
        for start in range(0, len(urls), TASKS_PER_IMPORT):
            batch = [
                {
                    "data": {spec["media_key"]: url, **sample["data"]},
                    "predictions": [
                        {"result": sample["result"], "model_version": spec["model_version"]}
                    ],
                }
                for url, sample in zip(
                    urls[start : start + TASKS_PER_IMPORT],
                    spec["samples"][start : start + TASKS_PER_IMPORT],
                )
            ]
            body = rest(
                "POST",
                f"api/projects/{project['id']}/import",
                params={"return_task_ids": "true"},
                json=batch,
            )
            if body["task_count"] != len(batch) or body["prediction_count"] != len(batch):
                raise RuntimeError(f"import of {len(batch)} tasks gave {body}")
        return project["id"]

    return request, lambda project_id: {"project_id": project_id}


def _floor_media(rest, project_id, media, context):
    if context["media"] == "url":
        return list(media)
    if context["media"] == "local_storage":
        root = context["document_root"]
        relatives = [os.path.relpath(path, root) for path in media]
        for folder in sorted({relative.split(os.sep, 1)[0] for relative in relatives}):
            rest(
                "POST",
                "api/storages/localfiles",
                json={
                    "project": project_id,
                    "path": os.path.join(root, folder),
                    "use_blob_urls": True,
                },
            )
        return [f"/data/local-files/?d={quote(relative)}" for relative in relatives]
    urls = []
    for start in range(0, len(media), FILES_PER_UPLOAD):
        batch = media[start : start + FILES_PER_UPLOAD]
        handles = [open(path, "rb") for path in batch]
        try:
            body = rest(
                "POST",
                f"api/projects/{project_id}/import",
                params={"commit_to_project": "false"},
                files=[
                    (f"file{i}", (os.path.basename(p), h))
                    for i, (p, h) in enumerate(zip(batch, handles))
                ],
            )
        finally:
            for handle in handles:
                handle.close()
        ids = body["file_upload_ids"]
        uploads = rest(
            "GET", f"api/projects/{project_id}/file-uploads", params={"ids": json.dumps(ids)}
        )
        stored = {upload["id"]: upload["file"] for upload in uploads}
        urls += ["/data/" + stored[upload_id] for upload_id in ids]
    return urls


def _floor_load(context):
    """One complete read of the project (``context["read"]``, one of
    :data:`READS`), parsed into tasks."""
    rest = Rest(context["url"], context["pat"])
    project_id = context["project_id"]
    read = context.get("read", "snapshot")
    if read == "paired":
        from fiftyone_labelstudio.backend.export import SYNCHRONOUS_MAX_TASKS

        size = rest("GET", f"api/projects/{project_id}/", params={"include": "task_number"})
        read = "export" if size["task_number"] <= SYNCHRONOUS_MAX_TASKS else "snapshot"
    headers = rest._sdk._client_wrapper.get_headers  # refreshed access token

    def snapshot():
        snapshot = rest("POST", f"api/projects/{project_id}/exports/", json={"title": "floor-load"})
        try:
            text = rest._http.get(
                f"api/projects/{project_id}/exports/{snapshot['id']}/download",
                params={"exportType": "JSON"},
                headers=headers(),
            ).text
            return json.loads(text)
        finally:
            rest("DELETE", f"api/projects/{project_id}/exports/{snapshot['id']}")

    def export():
        response = rest._http.get(
            f"api/projects/{project_id}/export",
            params={"exportType": "JSON", "download_all_tasks": "true"},
            headers=headers(),
        )
        if response.status_code >= 400:
            raise RuntimeError(f"GET export: HTTP {response.status_code}: {response.text[:300]}")
        return json.loads(response.text)

    def tasks():
        found, page = [], 1
        while True:
            body = rest(
                "GET",
                "api/tasks/",
                params={
                    "project": project_id,
                    "fields": "all",
                    "page": page,
                    "page_size": TASKS_PAGE_SIZE,
                },
            )
            found += body["tasks"]
            if not body["tasks"] or len(found) >= body["total"]:
                return found
            page += 1

    def describe(tasks):
        return {
            "read": read,
            "tasks": len(tasks),
            "annotated_tasks": sum(
                any(a.get("result") for a in t.get("annotations") or []) for t in tasks
            ),
        }

    return {"snapshot": snapshot, "export": export, "tasks": tasks}[read], describe


def _floor_status(context):
    rest = Rest(context["url"], context["pat"])

    def status():
        return rest(
            "GET",
            "api/projects/counts/",
            params={"ids": str(context["project_id"]), "include": _COUNTS},
        )

    return status, lambda body: {"status": body["results"]}


def _floor_cleanup(context):
    rest = Rest(context["url"], context["pat"])
    return lambda: rest("DELETE", f"api/projects/{context['project_id']}/"), lambda _: {}


_FLOOR = {
    "request": _floor_request,
    "load": _floor_load,
    "status": _floor_status,
    "cleanup": _floor_cleanup,
}

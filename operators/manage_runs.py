"""``manage_runs``: info, status, rename, delete, load the view of, or open a
run of this plugin; each action is the dataset or results method of the same
name in FiftyOne's Python API."""

from __future__ import annotations

import json

import fiftyone.operators as foo
import fiftyone.operators.types as types
from bson import json_util

from ..backend import run_lock
from ..backend.client import LabelStudioError
from ..backend.projects import project_url
from ..backend.runs import results_with, run_meta
from . import common

ACTIONS = {
    "info": "Info: how the run was configured",
    "status": "Status: how far the annotators have got",
    "rename": "Rename the run",
    "delete": "Delete the run",
    "load_view": "Load the run's view in the App",
    "open_editor": "Open the project in Label Studio",
}
_NEEDS_SERVER = ("status",)


class ManageRuns(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(
            name="manage_runs",
            label="Label Studio: manage runs",
            description="Info, status, rename, delete, view or open a Label Studio run",
            icon="settings",
            dynamic=True,
        )

    def resolve_input(self, ctx):
        inputs = types.Object()
        manage_form(ctx, inputs)
        return types.Property(inputs, view=types.View(label="Manage Label Studio runs"))

    def execute(self, ctx):
        params = ctx.params
        action, anno_key = params["action"], params["anno_key"]
        dataset = ctx.dataset
        if action == "info":
            return run_info(dataset, anno_key)
        if action == "status":
            return results_with(dataset, anno_key, common.credentials(ctx)).get_status()
        if action == "rename":
            dataset.rename_annotation_run(anno_key, params["new_anno_key"])
            return {"anno_key": anno_key, "new_anno_key": params["new_anno_key"]}
        if action == "delete":
            cleaned = None
            if params.get("cleanup"):
                results = results_with(dataset, anno_key, common.credentials(ctx))
                # the project goes first: a run whose project could not be
                # deleted keeps its record, so that the cleanup can be retried;
                # a project other runs use keeps all but this run's tasks
                cleaned = results.cleanup()
            dataset.delete_annotation_run(anno_key)
            ctx.ops.reload_dataset()
            return {
                "anno_key": anno_key,
                "deleted": True,
                "project_deleted": cleaned == "project",
                "tasks_deleted": cleaned == "tasks",
            }
        if action == "load_view":
            view = dataset.load_annotation_view(anno_key)
            ctx.ops.set_view(view=view)
            return {"anno_key": anno_key, "num_samples": len(view)}
        return {"anno_key": anno_key, "project_url": _project_url(dataset, anno_key)}

    def resolve_output(self, ctx):
        outputs = types.Object()
        results = ctx.results or {}
        if "project_url" in results:
            outputs.btn(
                "open_project",
                label="Open the project in Label Studio",
                href=results["project_url"],
                **common.NEW_TAB,
            )
        for name, value in results.items():  # the returned dict has no "result" key
            if isinstance(value, (dict, list)):
                outputs.obj(name, label=name, view=types.JSONView())
            elif name != "project_url":
                outputs.str(name, label=name)
        return types.Property(
            outputs, view=types.View(label=ACTIONS.get(ctx.params.get("action"), ""))
        )


def manage_form(ctx, inputs) -> bool:
    action_choices = types.RadioGroup()
    for name, label in ACTIONS.items():
        action_choices.add_choice(name, label=label)
    inputs.enum(
        "action",
        list(ACTIONS),
        required=True,
        default="status",
        label="Action",
        view=action_choices,
    )
    action = ctx.params.get("action", "status")
    anno_key = common.run_key(ctx, inputs)
    if anno_key is None:
        return False
    busy = run_lock.holder(ctx.dataset, anno_key)
    if busy and action in ("rename", "delete"):
        common.invalid(inputs, "anno_key", f"anno_key: {run_lock.describe(anno_key, busy)}")
        return False
    if action in _NEEDS_SERVER or (action == "delete" and ctx.params.get("cleanup")):
        if common.connection(ctx, inputs) is None:
            return False
    dataset = ctx.dataset
    if action == "info":
        inputs.obj(
            "info", label="Run info", default=run_info(dataset, anno_key), view=types.JSONView()
        )
    elif action == "status":
        try:
            status = results_with(dataset, anno_key, common.credentials(ctx)).get_status()
        except LabelStudioError as error:
            common.invalid(inputs, "status", f"anno_key: {error}")
            return False
        inputs.view(
            "progress",
            types.Notice(
                label=f"{status['annotated']} of {status['total']} tasks annotated, "
                f"{status['skipped']} skipped, {status['remaining']} remaining"
            ),
        )
    elif action == "rename":
        return (
            common.new_key(ctx, inputs, name="new_anno_key", label="New annotation key") is not None
        )
    elif action == "delete":
        inputs.bool(
            "cleanup",
            default=False,
            label="Also delete the Label Studio project, with all its annotations",
            view=types.CheckboxView(),
        )
        inputs.view(
            "warning",
            types.Warning(
                label=f"Run '{anno_key}' will be deleted",
                description=(
                    "Labels already loaded stay in the dataset. "
                    + (
                        "The project and its annotations will be deleted from Label Studio."
                        if ctx.params.get("cleanup")
                        else "The Label Studio project is kept."
                    )
                ),
            ),
        )
    elif action == "open_editor":
        inputs.btn(
            "open",
            label="Open the project in Label Studio",
            href=_project_url(dataset, anno_key),
            **common.NEW_TAB,
        )
    return True


def run_info(dataset, anno_key) -> dict:
    """A run's record, JSON-able, without secrets."""
    info = dataset.get_annotation_info(anno_key)
    meta = run_meta(dataset, anno_key)
    config = json.loads(json_util.dumps(info.config.serialize()))
    return {
        "anno_key": anno_key,
        "timestamp": info.timestamp.isoformat() if info.timestamp else None,
        "version": info.version,
        "config": config,
        "project_id": meta.get("project_id"),
        "project_url": _project_url(dataset, anno_key),
        "num_tasks": meta.get("num_tasks"),
        "media_mode": meta.get("media_mode"),
        "last_load": meta.get("last_load"),
    }


def _project_url(dataset, anno_key) -> str | None:
    meta = run_meta(dataset, anno_key)
    if meta.get("project_id") is None:
        return None
    return project_url(meta["url"].rstrip("/"), meta["project_id"])

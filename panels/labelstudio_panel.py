"""The "Label Studio" panel: the connection, and one row per annotation run
of this plugin on the dataset with its progress and the operators' actions.

It only reads: the connection and the status of all runs (``runs_progress``,
one request) are read when the panel opens, when asked (Refresh), and after
an action, and kept in the panel's state between renders; every action opens
(or runs) one of the plugin's operators.
"""

from __future__ import annotations

from datetime import datetime, timezone

import fiftyone.operators as foo
import fiftyone.operators.types as types

from ..backend.client import LabelStudioError
from ..backend.projects import project_url
from ..backend.runs import (
    API_KEY_SECRET,
    URL_SECRET,
    Credentials,
    plugin_runs,
    run_meta,
    runs_progress,
)
from ..operators.common import NEW_TAB

URI = "@annotate/labelstudio/"

CONNECT_HELP = (
    f"Set the plugin's secrets `{URL_SECRET}` (e.g. `http://localhost:8080`) and "
    f"`{API_KEY_SECRET}` (Label Studio > Account & Settings > Personal Access Token) "
    "in the environment of the FiftyOne App, then restart it. With the demo: "
    "`source .demo/env.sh` before `fiftyone app launch`."
)


class LabelStudioPanel(foo.Panel):
    @property
    def config(self):
        return foo.PanelConfig(
            name="labelstudio_panel",
            label="Label Studio",
            icon="edit_note",
            surfaces="grid",
            help_markdown="Annotation runs of this dataset in Label Studio. " + CONNECT_HELP,
        )

    # -- events: each one re-renders the panel, which reads everything afresh --

    def on_load(self, ctx):
        self.refresh(ctx)

    def on_change_dataset(self, ctx):
        self.refresh(ctx)

    def refresh(self, ctx):
        """Reads the connection and every run's progress from the server."""
        ctx.panel.set_state("server", read_server(ctx))

    def request(self, ctx):
        ctx.prompt(URI + "request_annotations", on_success=self.refresh)

    def load(self, ctx):
        ctx.prompt(
            URI + "load_annotations",
            params={"anno_key": ctx.params["anno_key"]},
            on_success=self.refresh,
        )

    def rename(self, ctx):
        self._manage(ctx, "rename")

    def delete(self, ctx):
        self._manage(ctx, "delete")

    def add_samples(self, ctx):
        # the run's fields that the dataset has, for the new run to edit too
        schema = ctx.dataset.get_annotation_info(ctx.params["anno_key"]).config.label_schema
        fields = [name for name in schema or {} if ctx.dataset.has_field(name)]
        ctx.prompt(
            URI + "request_annotations",
            params={"project_id": ctx.params["project_id"], "existing_fields": fields},
            on_success=self.refresh,
        )

    def load_view(self, ctx):
        params = {"action": "load_view", "anno_key": ctx.params["anno_key"]}
        ctx.trigger(URI + "manage_runs", params=params)

    def _manage(self, ctx, action):
        params = {"action": action, "anno_key": ctx.params["anno_key"]}
        ctx.prompt(URI + "manage_runs", params=params, on_success=self.refresh)

    # -- layout ----------------------------------------------------------------

    def render(self, ctx):
        panel = types.Object()
        server = ctx.panel.get_state("server") or {}
        _connection(panel, server)
        keys = plugin_runs(ctx.dataset) if ctx.dataset is not None else []
        status = server.get("status") if server.get("connected") else None

        bar = panel.h_stack("toolbar", align_x="left", gap=1)
        bar.btn(
            "request",
            label="Request annotations",
            icon="add",
            variant="contained",
            on_click=self.request,
        )
        bar.btn("refresh_all", label="Refresh", icon="refresh", on_click=self.refresh)
        if server.get("read_at"):
            bar.md(f"progress as of {server['read_at']} UTC", name="read_at")

        if not keys:
            panel.md(
                "**No Label Studio runs on this dataset yet.**\n\n"
                f"1. Connect: {CONNECT_HELP}\n"
                "2. Filter the samples to annotate in the App, then click **Request "
                "annotations**: choose the fields, name the run, and execute.\n"
                "3. Annotate in Label Studio, then come back and click **Load annotations**.",
                name="empty",
            )
        for index, key in enumerate(keys):
            run_status = None if status is None else status.get(key, {})
            self._run_row(panel.v_stack(f"run_{index}", gap=1), ctx.dataset, key, run_status)

        return types.Property(
            panel, view=types.GridView(orientation="vertical", align_x="left", gap=2, px=2, py=2)
        )

    def _run_row(self, row, dataset, key, status) -> None:
        """Key, creation time, project link, last load, progress, actions."""
        meta = run_meta(dataset, key)
        created = dataset.get_annotation_info(key).timestamp
        loaded = (meta.get("last_load") or {}).get("timestamp")
        url = None
        if meta.get("project_id") is not None:
            url = project_url(meta["url"].rstrip("/"), meta["project_id"])
        row.md(
            f"**{key}** · created {created:%Y-%m-%d %H:%M} UTC · "
            + (f"[project {meta['project_id']}]({url})" if url else "no project yet")
            + f" · last loaded {loaded.replace('T', ' ')[:16] + ' UTC' if loaded else 'never'}",
            name="summary",
        )

        if status and not status.get("missing"):
            total = status["total"]
            done = status["annotated"] + status["skipped"]
            row.float(
                "progress",
                default=done / total if total else 0.0,
                view=types.ProgressView(
                    label=f"{total} task{'' if total == 1 else 's'}: "
                    f"{status['annotated']} annotated, {status['skipped']} skipped, "
                    f"{status['remaining']} remaining"
                ),
            )
            if status.get("changed") is not None:
                row.md(
                    f"{status['changed']} task{'' if status['changed'] == 1 else 's'} changed "
                    "since the last load",
                    name="changed",
                )
        else:
            row.md(
                f"{meta.get('num_tasks', '?')} tasks · progress unknown: {_unknown(meta, status)}",
                name="progress",
            )

        agreement = (meta.get("last_load") or {}).get("agreement") or {}
        pairs = [
            f"{field}: {pair} F1 {metrics['fscore']:.2f} ({metrics['samples']} samples)"
            for field, by_pair in agreement.items()
            for pair, metrics in by_pair.items()
            if "fscore" in metrics
        ]
        if pairs:
            row.md("Agreement · " + " · ".join(pairs), name="agreement")

        params = {"anno_key": key}
        work = row.h_stack("work", align_x="left", gap=1)
        work.btn(
            "load", label="Load annotations", icon="download", on_click=self.load, params=params
        )
        work.btn("refresh", label="Refresh", icon="refresh", on_click=self.refresh, params=params)
        if url:
            work.btn("open", label="Open in Label Studio", icon="open_in_new", href=url, **NEW_TAB)
            work.btn(
                "add",
                label="Add samples to this project",
                icon="playlist_add",
                on_click=self.add_samples,
                params={"project_id": meta["project_id"], "anno_key": key},
            )
        manage = row.h_stack("manage", align_x="left", gap=1)
        manage.btn(
            "view", label="Load view", icon="filter_list", on_click=self.load_view, params=params
        )
        manage.btn("rename", label="Rename", icon="edit", on_click=self.rename, params=params)
        manage.btn("delete", label="Delete", icon="delete", on_click=self.delete, params=params)


def read_server(ctx) -> dict:
    """The connection and every run's progress, JSON-able for the panel's state:
    ``{"connected", "info" or "problem", "status", "status_problem", "read_at"}``."""
    creds = Credentials.resolve({}, ctx.secrets)
    server = {"read_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")}
    problem = creds.problem()
    if not problem:
        try:
            info = creds.server_info()
        except LabelStudioError as error:
            problem = str(error)
        else:
            server.update(connected=True, url=info.url, version=info.version, user=info.user)
    if problem:
        return {**server, "connected": False, "problem": problem}
    if ctx.dataset is not None and plugin_runs(ctx.dataset):
        try:
            server["status"] = runs_progress(ctx.dataset, creds)
        except LabelStudioError as error:
            server["status_problem"] = str(error)
    return server


def _connection(panel, server) -> None:
    """The server, version and user; or what is wrong and how to fix it."""
    if server.get("connected"):
        panel.md(
            f"Connected to [Label Studio {server['version']}]({server['url']}) at "
            f"`{server['url']}` as `{server['user']}`",
            name="connection",
        )
        if server.get("status_problem"):
            panel.view(
                "status_error",
                types.Warning(
                    label="Cannot read the runs' progress", description=server["status_problem"]
                ),
            )
        return
    problem = server.get("problem") or "Not checked yet: click Refresh"
    panel.view(
        "connection", types.Warning(label="Not connected to Label Studio", description=problem)
    )
    panel.md(CONNECT_HELP, name="connection_help")


def _unknown(meta, status) -> str:
    """Why a run's progress is not shown."""
    if meta.get("project_id") is None:
        return "the request is still running"
    if status is None:
        return "not connected to Label Studio"
    if status.get("missing"):
        return "the project was deleted in Label Studio"
    return f"the project is on {meta.get('url')}, not on the connected server"

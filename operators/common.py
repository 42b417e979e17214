"""What the operators' forms share: the connection check, run pickers, key
validation, progress, and delegation for big jobs."""

from __future__ import annotations

from contextlib import contextmanager

import fiftyone.operators.types as types

from ..backend.client import LabelStudioError
from ..backend.progress import reporting
from ..backend.runs import Credentials, plugin_runs, run_meta

DELEGATION_THRESHOLD = 2000
"""Views with more samples than this run in the background by default."""


def credentials(ctx) -> Credentials:
    """``url`` / ``api_key`` params, else the plugin's secrets, else FiftyOne's
    annotation config; the same in the App, in Python and in a delegated worker."""
    return Credentials.resolve(ctx.params, ctx.secrets)


def connection(ctx, inputs) -> Credentials | None:
    """Optional ``url`` and ``api_key`` inputs and a check of the connection:
    the server's version and user, or the exact problem (then the form is
    invalid). Returns the credentials when they work."""
    inputs.str(
        "url",
        label="Label Studio URL",
        description="Leave empty to use the FIFTYONE_LABELSTUDIO_URL secret",
    )
    inputs.str(
        "api_key",
        label="API key",
        description=(
            "A personal access token or a legacy token; leave empty to use the "
            "FIFTYONE_LABELSTUDIO_API_KEY secret. Never stored with the run"
        ),
    )
    creds = credentials(ctx)
    try:
        info = creds.server_info()
    except LabelStudioError as error:
        name = "url" if "reach" in str(error) or "URL" in str(error) else "api_key"
        prop = inputs.view(
            "connection", types.Error(label="Cannot use Label Studio", description=str(error))
        )
        prop.invalid = True
        prop.error_message = f"{name}: {error}"
        return None
    inputs.view(
        "connection",
        types.Notice(
            label=f"Connected to Label Studio {info.version} at {info.url} as {info.user}"
        ),
    )
    return creds


def run_key(ctx, inputs, label="Annotation run", with_status=None) -> str | None:
    """A picker of this plugin's runs on the dataset; invalid when there is
    none, or when ``anno_key`` names another run. ``with_status`` maps keys to
    a text shown beside them."""
    keys = plugin_runs(ctx.dataset)
    if not keys:
        prop = inputs.view(
            "no_runs",
            types.Warning(
                label="This dataset has no Label Studio annotation runs",
                description="Request annotations first (request_annotations)",
            ),
        )
        prop.invalid = True
        prop.error_message = (
            "anno_key: this dataset has no Label Studio runs; request annotations first"
        )
        return None
    choices = types.DropdownView()
    for key in keys:
        choices.add_choice(
            key, label=key, description=(with_status or {}).get(key) or _describe(ctx, key)
        )
    prop = inputs.enum("anno_key", keys, required=True, default=keys[-1], label=label, view=choices)
    anno_key = ctx.params.get("anno_key", keys[-1])
    if anno_key not in keys:
        prop.invalid = True
        prop.error_message = f"anno_key: {anno_key!r} is not a Label Studio run of this dataset; choose one of {keys}"
        return None
    return anno_key


def _describe(ctx, key) -> str:
    meta = run_meta(ctx.dataset, key)
    tasks = meta.get("num_tasks")
    return f"project {meta.get('project_id')}, {tasks} tasks" if tasks is not None else ""


def new_key_problem(dataset, key, name="anno_key") -> str | None:
    """Why ``key`` cannot name a new run, or None."""
    if not key:
        return f"{name} is required: give the run a name"
    if not isinstance(key, str) or not key.isidentifier():
        return (
            f"{name}={key!r} is not a valid Python identifier: use letters, digits and underscores"
        )
    if key in dataset.list_annotation_runs():
        return f"{name}={key!r} is already a run of this dataset: choose another name"
    return None


def new_key(ctx, inputs, name="anno_key", label="Annotation key") -> str | None:
    """A text input for a new run key, validated as the user types."""
    prop = inputs.str(
        name,
        required=True,
        label=label,
        description="A name for the run: letters, digits, underscores",
    )
    key = ctx.params.get(name)
    problem = new_key_problem(ctx.dataset, key, name) if key is not None else None
    if problem:
        prop.invalid = True
        prop.error_message = problem
        return None
    return key


def delegate_input(ctx, inputs, size: int) -> None:
    """Whether to run in the background; on by default for big jobs."""
    inputs.bool(
        "delegate",
        default=size > DELEGATION_THRESHOLD,
        label="Run in the background (delegated)",
        description=(f"{size} samples. Delegated operations run under `fiftyone delegated launch`"),
        view=types.CheckboxView(),
    )


def wants_delegation(ctx, size: int) -> bool | None:
    """For ``resolve_delegation``: the user's choice, else delegated for big
    jobs, else None (either way, as the caller asks)."""
    delegate = ctx.params.get("delegate")
    if delegate is not None:
        return bool(delegate)
    return True if size > DELEGATION_THRESHOLD else None


@contextmanager
def progress_of(ctx):
    """Backend progress reported to the App (or the delegated operation)."""
    with reporting(lambda fraction, label: ctx.set_progress(progress=fraction, label=label)):
        yield


def invalid(inputs, name: str, message: str):
    """Marks the form invalid with a message naming ``name`` and the fix."""
    prop = inputs.view(f"{name}_error", types.Error(label=message))
    prop.invalid = True
    prop.error_message = message
    return prop

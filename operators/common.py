"""What the operators' forms share: the connection check, run pickers, key
validation, progress, and delegation for big jobs."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from typing import Any, Callable

import fiftyone.operators.types as types

from ..backend.client import LabelStudioError
from ..backend.progress import reporting
from ..backend.runs import API_KEY_SECRET, Credentials, plugin_runs, run_meta

DELEGATION_THRESHOLD = 2000
"""Views with more samples than this run in the background by default."""

MEMO_SECONDS = 60.0
"""How long a form reuses an expensive check (listing and statting the media,
reading distinct classes, asking the server) while its inputs stay the same:
forms are resolved again on every keystroke."""

_memo: dict[Any, tuple[float, Any]] = {}


def memo(key: Any, compute: Callable[[], Any], seconds: float = MEMO_SECONDS) -> Any:
    """``compute()``, or what it returned for ``key`` less than ``seconds`` ago.

    Example:
        >>> calls = []
        >>> [memo("k", lambda: calls.append(1) or len(calls)) for _ in range(3)], len(calls)
        ([1, 1, 1], 1)
    """
    now = time.monotonic()
    hit = _memo.get(key)
    if hit is not None and now - hit[0] < seconds:
        return hit[1]
    for stale in [k for k, (at, _) in _memo.items() if now - at >= seconds]:
        del _memo[stale]
    value = compute()
    _memo[key] = (now, value)
    return value


def view_key(view) -> str:
    """What identifies a view across form resolutions: its dataset and stages."""
    return json.dumps([view._root_dataset.name, view._serialize()], default=str, sort_keys=True)


def credentials(ctx) -> Credentials:
    """``url`` / ``api_key`` params, else the plugin's secrets, else FiftyOne's
    annotation config; the same in the App, in Python and in a delegated worker."""
    return Credentials.resolve(ctx.params, ctx.secrets)


NEW_TAB = {"componentsProps": {"button": {"target": "_blank", "rel": "noopener noreferrer"}}}
"""For a button that opens Label Studio: in a tab of its own, not the App's."""


def connection(ctx, inputs) -> Credentials | None:
    """The connection: when the plugin's secrets (or FiftyOne's annotation
    config) reach the server, a line saying so, and the server and key inputs
    only if the user asks for another; else those inputs, with the exact
    problem (then the form is invalid). Returns the credentials when they work."""
    typed = bool(ctx.params.get("url") or ctx.params.get("api_key"))
    configured = Credentials.resolve({}, ctx.secrets)
    working = None if typed or configured.problem() else _check(configured)
    if isinstance(working, str) or working is None or ctx.params.get("other_server"):
        if working is not None and not isinstance(working, str):
            inputs.bool("other_server", default=False, label="Use another server or key")
        _credential_inputs(inputs)
        creds = credentials(ctx)
        info = _check(creds)
    else:
        inputs.bool("other_server", default=False, label="Use another server or key")
        creds, info = configured, working
    if isinstance(info, str):
        name = "url" if "reach" in info or "URL" in info else "api_key"
        prop = inputs.view(
            "connection", types.Error(label="Cannot use Label Studio", description=info)
        )
        prop.invalid = True
        prop.error_message = f"{name}: {info}"
        return None
    inputs.view(
        "connection",
        types.Notice(
            label=f"Connected to Label Studio {info.version} at {info.url} as {info.user}"
            + ("" if creds is not configured else " (the plugin's secrets)")
        ),
    )
    return creds


def _credential_inputs(inputs) -> None:
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
            "FIFTYONE_LABELSTUDIO_API_KEY secret. Never stored"
        ),
        view=types.TextFieldView(componentsProps={"field": {"type": "password"}}),
    )


def _check(creds: Credentials):
    """The server's info, or what is wrong (a message)."""
    problem = creds.problem()
    if problem:
        return problem
    try:
        return creds.server_info()
    except LabelStudioError as error:
        return str(error)


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


def free_key(dataset, stem: str = "labelstudio") -> str:
    """A run key the dataset does not use yet: ``labelstudio_1``, ``_2``, ..."""
    used = set(dataset.list_annotation_runs())
    return next(f"{stem}_{n}" for n in range(1, len(used) + 2) if f"{stem}_{n}" not in used)


def new_key(ctx, inputs, name="anno_key", label="Annotation key") -> str | None:
    """A text input for a new run key, validated as the user types; it starts
    with a free key, so that a new form shows no error before anything is typed."""
    default = free_key(ctx.dataset)
    prop = inputs.str(
        name,
        required=True,
        default=default,
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


KEY_NOT_DELEGATED = (
    "api_key: a key typed here would be stored with the background (delegated) operation "
    "in FiftyOne's database. Leave it empty and set the plugin's secret "
    f"{API_KEY_SECRET} in the environment of the FiftyOne App and of "
    "`fiftyone delegated launch`, or run the operation now instead of in the background"
)


def refuse_key_when_delegated(ctx, inputs, size: int) -> bool:
    """Marks the form invalid, before anything is queued, where a delegated
    operation would store a typed API key with its params; True when it did."""
    if not ctx.params.get("api_key"):
        return False
    if not (ctx.requesting_delegated_execution or wants_delegation(ctx, size)):
        return False
    invalid(inputs, "api_key", KEY_NOT_DELEGATED)
    return True


def check_no_stored_key(ctx) -> None:
    """Refuses to run a delegated operation whose params hold an API key."""
    if ctx.delegated and ctx.params.get("api_key"):
        raise ValueError(KEY_NOT_DELEGATED)


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

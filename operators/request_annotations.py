"""``request_annotations``: send a dataset or view, with its labels as
pre-annotations, to a new Label Studio project. A thin form over
``view.annotate(anno_key, backend="labelstudio", ...)``."""

from __future__ import annotations

import json
import os

import fiftyone.operators as foo
import fiftyone.operators.types as types

from ..backend.annotation_backend import LabelStudioBackendConfig
from ..backend.client import LabelStudioError
from ..backend.label_fields import existing_fields, supported_fields
from ..backend.media import MEDIA_MODES, LocalFiles, check_files_exist, is_url, plan_media
from ..backend.projects import TITLE_LIMIT, default_title
from ..backend.tasks import EXISTING_LABELS
from ..conversions import LABEL_TYPES
from ..conversions.schema import schema_problem
from . import common


class RequestAnnotations(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(
            name="request_annotations",
            label="Label Studio: request annotations",
            description="Send samples and their labels to a new Label Studio project",
            icon="edit_note",
            dynamic=True,
            allow_immediate_execution=True,
            allow_delegated_execution=True,
        )

    def resolve_delegation(self, ctx):
        return common.wants_delegation(ctx, len(ctx.target_view()))

    def resolve_input(self, ctx):
        inputs = types.Object()
        request_form(ctx, inputs)
        return types.Property(inputs, view=types.View(label="Request Label Studio annotations"))

    def execute(self, ctx):
        common.check_no_stored_key(ctx)
        request = parse_request(ctx)
        creds = common.credentials(ctx)
        with common.progress_of(ctx):
            results = ctx.target_view().annotate(
                request.pop("anno_key"),
                backend="labelstudio",
                config_cls=LabelStudioBackendConfig,
                url=creds.url,
                api_key=creds.api_key,
                **request,
            )
        if not ctx.delegated:
            ctx.ops.reload_dataset()
        return {
            "anno_key": results.key,
            "project_id": results.project_id,
            "project_url": results.project_url,
            "num_tasks": len(results.sample_ids),
            "media_mode": results.media_mode,
        }

    def resolve_output(self, ctx):
        outputs = types.Object()
        outputs.str("anno_key", label="Annotation run")
        outputs.int("num_tasks", label="Tasks created")
        outputs.str("media_mode", label="Media")
        url = (ctx.results or {}).get("project_url")
        if url:
            outputs.btn(
                "open_project",
                label="Open the project in Label Studio",
                href=url,
                **common.NEW_TAB,
            )
        return types.Property(outputs, view=types.View(label="Annotation run created"))


def request_form(ctx, inputs) -> bool:
    """The request form; each input validated as the user types."""
    view = _target(ctx, inputs)
    creds = common.connection(ctx, inputs)
    anno_key = common.new_key(ctx, inputs)
    schema = _label_schema(ctx, inputs, view)
    _media(ctx, inputs, view)
    inputs.enum(
        "existing_labels",
        list(EXISTING_LABELS),
        default="predictions",
        label="Existing labels go to Label Studio as",
        view=_radio(
            predictions="Predictions: pre-annotations an annotator accepts or edits",
            annotations="Annotations: editable drafts, counted as annotated",
        ),
    )
    prop = inputs.str(
        "project_name",
        label="Project name",
        description=f"Default {default_title(ctx.dataset.name)!r}, made unique (at most {TITLE_LIMIT} characters)",
    )
    name = ctx.params.get("project_name")
    if name and len(name) > TITLE_LIMIT:
        prop.invalid = True
        prop.error_message = f"project_name has {len(name)} characters; Label Studio allows {TITLE_LIMIT}: shorten it"
    inputs.bool("launch_editor", default=False, label="Open the project when it is created")
    common.delegate_input(ctx, inputs, len(view))
    stored_key = common.refuse_key_when_delegated(ctx, inputs, len(view))
    return bool(creds and anno_key and schema and not stored_key)


def parse_request(ctx) -> dict:
    """The keyword arguments of ``annotate()`` the params ask for."""
    params = ctx.params
    request = {
        "anno_key": params["anno_key"],
        "label_schema": _schema_from_params(params)[0],
        "existing_labels": params.get("existing_labels") or "predictions",
        "media": params.get("media") or "auto",
        "media_field": params.get("media_field") or "filepath",
        "project_name": params.get("project_name") or None,
    }
    return {k: v for k, v in request.items() if v is not None}


def _target(ctx, inputs):
    view = ctx.target_view()
    inputs.view_target(
        ctx,
        action_description="Annotate",
        dataset_description=f"All {len(ctx.dataset)} samples of the dataset",
        current_view_description=f"The {len(ctx.view)} samples of the current view",
        selected_samples_description=f"The {len(ctx.selected)} selected samples",
    )
    if not len(view):
        common.invalid(
            inputs, "view_target", "view_target: the target is empty; choose samples to annotate"
        )
    return view


def _label_schema(ctx, inputs, view) -> dict | None:
    params = ctx.params
    if isinstance(params.get("label_schema"), dict) or params.get("label_field"):
        # from Python: a schema dict, or the one-field shorthand
        if isinstance(params.get("label_schema"), dict):
            inputs.obj("label_schema", label="Label schema")
    else:
        tabs = types.TabsView()
        tabs.add_choice("BUILD", label="Build")
        tabs.add_choice("JSON", label="JSON")
        inputs.enum(
            "schema_source", tabs.values(), default="BUILD", label="Label schema", view=tabs
        )
        if params.get("schema_source", "BUILD") == "JSON":
            inputs.str(
                "label_schema",
                required=True,
                label="Label schema JSON",
                description='FiftyOne\'s label schema, e.g. {"ground_truth": {"type": "detections", "classes": ["cat"]}}',
                view=types.CodeView(language="json"),
            )
        else:
            _schema_builder(ctx, inputs, view)
    schema, problem = _schema_from_params(params)
    problem = problem or schema_problem(schema, existing_fields(view, schema or {}))
    if problem:
        common.invalid(inputs, "label_schema", problem)
        return None
    return schema


def _schema_builder(ctx, inputs, view) -> None:
    existing = common.memo(("fields", common.view_key(view)), lambda: supported_fields(view))
    choices = types.AutocompleteView()
    for name, (label_type, classes) in existing.items():
        shown = ", ".join(classes[:8]) + (" ..." if len(classes) > 8 else "")
        choices.add_choice(name, label=name, description=f"{label_type}: {shown}")
    inputs.list(
        "existing_fields",
        types.String(),
        label="Existing fields",
        description="Label fields of the dataset to edit; their type and classes come from the data",
        view=choices,
    )
    new_field = types.Object()
    new_field.str("name", required=True, label="Field name", view=types.View(space=4))
    new_field.enum(
        "type", list(LABEL_TYPES), required=True, label="Type", view=types.DropdownView(space=4)
    )
    new_field.list("classes", types.String(), label="Classes", view=types.TagsView(space=4))
    new_field.str(
        "mask_targets",
        label="Mask targets (segmentation)",
        description='JSON, e.g. {"1": "sky", "2": "road"}',
    )
    inputs.list("new_fields", new_field, label="New fields", description="Fields to create")


def _schema_from_params(params) -> tuple[dict | None, str | None]:
    """The label schema the params give, and what is wrong with their form."""
    schema = params.get("label_schema")
    if isinstance(schema, str) and schema.strip():
        try:
            schema = json.loads(schema)
        except ValueError as error:
            return None, f"label_schema is not valid JSON ({error}): paste a dict of fields"
    if isinstance(schema, dict):
        return schema, None
    if schema not in (None, ""):
        return None, f"label_schema must be a dict of fields, not {type(schema).__name__}"
    if params.get("label_field"):
        info = {
            "type": params.get("label_type"),
            "classes": params.get("classes"),
            "mask_targets": params.get("mask_targets"),
            "attributes": params.get("attributes"),
        }
        return {params["label_field"]: {k: v for k, v in info.items() if v is not None}}, None
    schema = {name: {} for name in params.get("existing_fields") or []}
    for field in params.get("new_fields") or []:
        name = (field or {}).get("name")
        if not name:
            continue
        info = {"type": field.get("type"), "classes": field.get("classes") or None}
        if field.get("mask_targets"):
            try:
                info["mask_targets"] = json.loads(field["mask_targets"])
            except ValueError as error:
                return None, f"mask_targets of new field '{name}' is not valid JSON ({error})"
        schema[name] = {k: v for k, v in info.items() if v is not None}
    return (schema or None), None


def _media(ctx, inputs, view) -> None:
    inputs.enum(
        "media",
        list(MEDIA_MODES),
        default="auto",
        label="Media",
        view=_radio(
            auto="Auto: URLs as URLs, files under Label Studio's document root referenced, else uploaded",
            upload="Upload the files, in batches",
            local_storage="Reference files under Label Studio's local files document root",
            url="The media paths are URLs Label Studio fetches",
        ),
    )
    media_field = ctx.params.get("media_field") or "filepath"
    media_fields = ctx.dataset.app_config.media_fields
    if len(media_fields) > 1:
        inputs.enum("media_field", media_fields, default="filepath", label="Media field")
    mode, local_files = ctx.params.get("media") or "auto", LocalFiles.from_environment()
    try:
        paths = view.values(media_field)
    except ValueError as error:
        common.invalid(inputs, "media", f"media_field: {error}")
        return
    # statting (and opening) every file once per change of the media, not per keystroke
    plan = common.memo(
        ("media", hash(tuple(paths)), _folders_state(paths), mode, local_files),
        lambda: _media_plan(paths, mode, local_files),
    )
    if isinstance(plan, str):
        common.invalid(inputs, "media", plan)
        return
    inputs.view("media_plan", types.Notice(label=f"Media: {plan.mode}: {plan.reason}"))


def _folders_state(paths) -> tuple:
    """The modification times of the folders holding the media: a file added
    or removed there changes them."""
    folders = sorted({os.path.dirname(p) for p in paths if not is_url(p)})
    return tuple(os.stat(f).st_mtime_ns if os.path.isdir(f) else None for f in folders)


def _media_plan(paths, mode, local_files):
    """How the media will go, or what is wrong with them (a message)."""
    try:
        check_files_exist(paths)
        return plan_media(paths, mode, local_files)
    except (ValueError, LabelStudioError) as error:
        name = "media" if "media=" in str(error) else "media_field"
        return f"{name}: {error}"


def _radio(**choices) -> types.RadioGroup:
    group = types.RadioGroup()
    for value, label in choices.items():
        group.add_choice(value, label=label)
    return group

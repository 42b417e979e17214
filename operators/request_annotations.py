"""``request_annotations``: send a dataset or view, with its labels as
pre-annotations, to a new Label Studio project. A thin form over
``view.annotate(anno_key, backend="labelstudio", ...)`` (through
:func:`backend.annotate.annotate`, which takes temporal detections too)."""

from __future__ import annotations

import json
import os

import fiftyone.operators as foo
import fiftyone.operators.types as types

from ..backend.annotate import annotate
from ..backend.annotation_backend import LabelStudioBackendConfig
from ..backend.client import LabelStudioError
from ..backend.label_fields import existing_fields, supported_fields
from ..backend.media import MEDIA_MODES, LocalFiles, check_files_exist, is_url, plan_media
from ..backend.projects import TITLE_LIMIT, default_title
from ..backend.runs import plugin_runs, run_meta
from ..backend.tasks import EXISTING_LABELS
from ..conversions import LABEL_TYPES
from ..conversions.attributes import ATTRIBUTE_TYPES
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
            results = annotate(
                ctx.target_view(),
                request.pop("anno_key"),
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
            "tasks_created": len(results.created_tasks),
            "media_mode": results.media_mode,
        }

    def resolve_output(self, ctx):
        outputs = types.Object()
        outputs.str("anno_key", label="Annotation run")
        outputs.int("num_tasks", label="Samples in the run")
        outputs.int("tasks_created", label="Tasks created")
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
    _project(ctx, inputs)
    inputs.bool("launch_editor", default=False, label="Open the project when it is created")
    common.delegate_input(ctx, inputs, len(view))
    stored_key = common.refuse_key_when_delegated(ctx, inputs, len(view))
    return bool(creds and anno_key and schema and not stored_key)


def parse_request(ctx) -> dict:
    """The keyword arguments of ``annotate()`` the params ask for."""
    params = ctx.params
    request = {
        "anno_key": params["anno_key"],
        "label_schema": _schema_from_params(params, _observed_classes(ctx.target_view()))[0],
        "existing_labels": params.get("existing_labels") or "predictions",
        "media": params.get("media") or "auto",
        "media_field": params.get("media_field") or "filepath",
        "project_name": params.get("project_name") or None,
        "project_id": params.get("project_id") or None,
        "maximum_annotations": params.get("maximum_annotations") or None,
        "overlap_cohort_percentage": params.get("overlap_cohort_percentage"),
        "annotation_choice": params.get("annotation_choice") or None,
    }
    if request["project_id"] is not None:
        request["project_id"] = int(request["project_id"])
    return {k: v for k, v in request.items() if v is not None}


def _project(ctx, inputs) -> None:
    """A new project (its name, how many annotators a task gets), or an
    existing run's project to add the samples to."""
    runs = {}
    for key in plugin_runs(ctx.dataset):
        project_id = run_meta(ctx.dataset, key).get("project_id")
        if project_id is not None:
            runs.setdefault(int(project_id), []).append(key)
    if runs:
        choices = types.DropdownView()
        choices.add_choice(None, label="A new project")
        for project_id, keys in runs.items():
            choices.add_choice(
                project_id,
                label=f"Project {project_id} (run {', '.join(keys)})",
                description="Samples it holds already are not sent again",
            )
        inputs.enum(
            "project_id",
            [None, *runs],
            default=None,
            label="Add to an existing run's project",
            view=choices,
        )
    if ctx.params.get("project_id"):
        return
    prop = inputs.str(
        "project_name",
        label="Project name",
        description=(
            f"Default {default_title(ctx.dataset.name)!r}, made unique (at most {TITLE_LIMIT} "
            "characters); the name of an existing project adds the samples to it"
        ),
    )
    name = ctx.params.get("project_name")
    if name and len(name) > TITLE_LIMIT:
        prop.invalid = True
        prop.error_message = f"project_name has {len(name)} characters; Label Studio allows {TITLE_LIMIT}: shorten it"
    inputs.int(
        "maximum_annotations",
        default=1,
        label="Annotators per task",
        description="More than one: several annotators label each task (load them all with "
        "annotation choice 'all')",
    )
    if (ctx.params.get("maximum_annotations") or 1) < 1:
        common.invalid(inputs, "maximum_annotations", "maximum_annotations must be 1 or more")


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
    schema, problem = _schema_from_params(params, _observed_classes(view))
    problem = problem or schema_problem(
        schema, existing_fields(view, schema or {}), view.media_type
    )
    if problem:
        common.invalid(inputs, "label_schema", problem)
        return None
    return schema


def _supported(view) -> dict:
    """The view's annotatable fields, read once per change of the view."""
    return common.memo(("fields", common.view_key(view)), lambda: supported_fields(view))


def _observed_classes(view) -> dict:
    return {name: classes for name, (_, classes) in _supported(view).items()}


def _schema_builder(ctx, inputs, view) -> None:
    existing = _supported(view)
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
    _attribute_builder(inputs)


def _attribute_builder(inputs) -> None:
    """Label attributes, per field, as the annotation plugin's form has them
    for CVAT: each a per-region control in Label Studio."""
    attribute = types.Object()
    attribute.str("field", required=True, label="Field", view=types.View(space=3))
    attribute.str("name", required=True, label="Attribute", view=types.View(space=3))
    attribute.enum(
        "type", list(ATTRIBUTE_TYPES), required=True, label="Type", view=types.DropdownView(space=3)
    )
    attribute.list(
        "values", types.String(), label="Values (select, radio)", view=types.TagsView(space=3)
    )
    attribute.str(
        "default", label="Default, for labels drawn in Label Studio", view=types.View(space=4)
    )
    attribute.list(
        "classes",
        types.String(),
        label="Only for these classes (empty: every class)",
        view=types.TagsView(space=4),
    )
    attribute.bool("read_only", default=False, label="Read-only", view=types.CheckboxView(space=4))
    inputs.list(
        "attributes",
        attribute,
        label="Label attributes",
        description=(
            "What annotators set on each region besides its class: occluded, color, a note, a "
            "count. Shown in Label Studio while a region of the field (and class) is selected"
        ),
    )
    inputs.bool(
        "found_attributes",
        default=False,
        label="Also the attributes the existing labels have (attributes=True)",
        view=types.CheckboxView(),
    )


def _schema_from_params(params, observed=None) -> tuple[dict | None, str | None]:
    """The label schema the params give, and what is wrong with their form;
    ``observed`` maps existing fields to their classes (for per-class attributes)."""
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
    found = bool(params.get("found_attributes"))
    schema = {
        name: {"attributes": True} if found else {} for name in params.get("existing_fields") or []
    }
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
    problem = _add_attributes(schema, params.get("attributes") or [], observed or {})
    return (schema or None), problem


def _add_attributes(schema: dict, rows: list, observed: dict) -> str | None:
    """Puts the form's attribute rows into the schema: every class's under the
    field's ``attributes``, a class's in a ``{"classes", "attributes"}`` group
    (with the field's other classes beside it); what is wrong, or None."""
    for row in rows:
        field, name = (row or {}).get("field"), (row or {}).get("name")
        if not field or not name:
            continue
        if field not in schema:
            return (
                f"attributes: '{field}' is not one of the fields chosen above ({', '.join(schema)})"
            )
        kind = row.get("type") or "text"
        spec = {"type": kind}
        if row.get("values"):
            spec["values"] = list(row["values"])
        if row.get("default") not in (None, ""):
            spec["default"] = _typed(row["default"], kind)
        if row.get("read_only"):
            spec["read_only"] = True
        info = schema[field]
        if not isinstance(info.get("attributes"), dict):
            info["attributes"] = {}
        if not row.get("classes"):
            info["attributes"][name] = spec
            continue
        classes = list(info.get("classes") or observed.get(field) or [])
        groups = [g for g in classes if isinstance(g, dict)]
        groups.append({"classes": list(row["classes"]), "attributes": {name: spec}})
        in_groups = {c for group in groups for c in group["classes"]}
        plain = [c for c in classes if not isinstance(c, dict) and c not in in_groups]
        info["classes"] = plain + groups
    return None


def _typed(text: str, kind: str):
    """A default typed into the form, in its attribute's type."""
    try:
        if kind in ("int", "group_id"):
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        return text
    if kind in ("checkbox", "occluded"):
        return str(text).lower() in ("true", "1", "yes")
    return text


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
    folders = sorted({os.path.dirname(p) for p in paths if isinstance(p, str) and not is_url(p)})
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

"""``request_annotations``: send a dataset or view, with its labels as
pre-annotations, to a new Label Studio project. A thin form over
``view.annotate(anno_key, backend="labelstudio", ...)``."""

from __future__ import annotations

import json

import fiftyone.core.fields as fof
import fiftyone.operators as foo
import fiftyone.operators.types as types
import fiftyone.utils.annotations as foua

from ..backend.annotation_backend import LabelStudioBackendConfig
from ..backend.client import LabelStudioError
from ..backend.media import MEDIA_MODES, LocalFiles, check_files_exist, plan_media
from ..backend.projects import TITLE_LIMIT, default_title
from ..backend.tasks import EXISTING_LABELS
from ..conversions import LABEL_TYPES
from . import common

_NEEDS_CLASSES = set(LABEL_TYPES) - {"scalar", "segmentation"}
_RESERVED = {"id", "filepath", "tags", "metadata", "created_at", "last_modified_at", "image"}


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
            outputs.btn("open_project", label="Open the project in Label Studio", href=url)
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
    return bool(creds and anno_key and schema)


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
    problem = problem or schema_problem(schema, view)
    if problem:
        common.invalid(inputs, "label_schema", problem)
        return None
    return schema


def _schema_builder(ctx, inputs, view) -> None:
    existing = supported_fields(view)
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


def schema_problem(schema, view) -> str | None:
    """What is wrong with a label schema for this view, naming the field and
    the fix; None when FiftyOne's ``annotate()`` can take it."""
    if not schema:
        return "label_schema: choose at least one field to annotate"
    if not isinstance(schema, dict):
        return "label_schema must be a dict of {field: {type, classes, ...}}"
    for name, info in schema.items():
        if not isinstance(info, dict):
            return f"label_schema['{name}'] must be a dict like {{'type': ..., 'classes': [...]}}"
        if name in _RESERVED or not isinstance(name, str) or not name:
            return f"label_schema: '{name}' cannot hold labels; choose another field name"
        label_type = info.get("type")
        if label_type is not None and label_type not in LABEL_TYPES:
            return f"label_schema['{name}']: type {label_type!r} is not one of {', '.join(LABEL_TYPES)}"
        classes = info.get("classes")
        if classes is not None and not isinstance(classes, list):
            return f"label_schema['{name}']: classes must be a list of class names"
        field = view.get_field(name)
        if field is None:
            if label_type is None:
                return f"label_schema['{name}']: the field does not exist; give its type (and classes) to create it"
            if label_type in _NEEDS_CLASSES and not classes:
                return f"label_schema['{name}']: a new {label_type} field needs classes"
            if label_type == "segmentation" and not info.get("mask_targets"):
                return f"label_schema['{name}']: a new segmentation field needs mask_targets"
            continue
        allowed = existing_types(field)
        if allowed is None:
            return f"label_schema['{name}']: the field holds {type(field).__name__} values, which Label Studio cannot annotate"
        if label_type is not None and label_type not in allowed:
            return f"label_schema['{name}']: the field holds {' or '.join(allowed)} labels, not {label_type}; change the type or the field"
    return None


def existing_types(field) -> list[str] | None:
    """The label types an existing field can be annotated as, or None."""
    if isinstance(field, (fof.IntField, fof.FloatField, fof.StringField, fof.BooleanField)):
        return ["scalar"]
    if not isinstance(field, fof.EmbeddedDocumentField):
        return None
    for label_type, types_ in _TYPES_BY_DOCUMENT.items():
        if issubclass(field.document_type, label_type):
            return types_
    return None


_TYPES_BY_DOCUMENT = {
    foua._LABEL_TYPES_MAP["detection"]: ["detection", "instance"],
    foua._LABEL_TYPES_MAP["detections"]: ["detections", "instances"],
    foua._LABEL_TYPES_MAP["polyline"]: ["polygon", "polyline"],
    foua._LABEL_TYPES_MAP["polylines"]: ["polygons", "polylines"],
    foua._LABEL_TYPES_MAP["classification"]: ["classification"],
    foua._LABEL_TYPES_MAP["classifications"]: ["classifications"],
    foua._LABEL_TYPES_MAP["keypoint"]: ["keypoint"],
    foua._LABEL_TYPES_MAP["keypoints"]: ["keypoints"],
    foua._LABEL_TYPES_MAP["segmentation"]: ["segmentation"],
}


def supported_fields(view) -> dict[str, tuple[str, list[str]]]:
    """Existing fields Label Studio can annotate: ``{field: (type, classes)}``,
    classes as observed (or the dataset's ``classes`` / mask targets)."""
    found = {}
    for name, field in view.get_field_schema().items():
        allowed = existing_types(field)
        if allowed is None or name in _RESERVED:
            continue
        if allowed == ["segmentation"]:
            targets = view.mask_targets.get(name) or view.default_mask_targets or {}
            found[name] = ("segmentation", [str(v) for v in targets.values()])
        elif allowed == ["scalar"]:
            found[name] = ("scalar", [])
        else:
            classes = view.classes.get(name) or view.default_classes
            if not classes:
                _, path = view._get_label_field_path(name, "label")
                classes = [c for c in view.distinct(path) if c is not None]
            found[name] = (allowed[0], list(classes))
    return found


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
    try:
        paths = view.values(media_field)
        check_files_exist(paths)
        plan = plan_media(paths, ctx.params.get("media") or "auto", LocalFiles.from_environment())
    except (ValueError, LabelStudioError) as error:
        name = "media" if "media=" in str(error) else "media_field"
        common.invalid(inputs, "media", f"{name}: {error}")
        return
    inputs.view("media_plan", types.Notice(label=f"Media: {plan.mode}: {plan.reason}"))


def _radio(**choices) -> types.RadioGroup:
    group = types.RadioGroup()
    for value, label in choices.items():
        group.add_choice(value, label=label)
    return group

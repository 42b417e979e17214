"""``load_annotations``: merge a run's finished work back into the dataset.
A thin form over ``dataset.load_annotations(anno_key, ...)``."""

from __future__ import annotations

import fiftyone.operators as foo
import fiftyone.operators.types as types

from ..backend import run_lock
from ..backend.client import LabelStudioError
from ..backend.dataset_io import label_class as dataset_label_class
from ..backend.load import UNEXPECTED, load_annotations
from ..backend.runs import run_meta, runs_progress
from . import common


class LoadAnnotations(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(
            name="load_annotations",
            label="Label Studio: load annotations",
            description="Merge a Label Studio run's annotations into the dataset",
            icon="download",
            dynamic=True,
            allow_immediate_execution=True,
            allow_delegated_execution=True,
        )

    def resolve_delegation(self, ctx):
        meta = run_meta(ctx.dataset, ctx.params["anno_key"]) if ctx.params.get("anno_key") else {}
        return common.wants_delegation(ctx, meta.get("num_tasks") or 0)

    def resolve_input(self, ctx):
        inputs = types.Object()
        load_form(ctx, inputs)
        return types.Property(inputs, view=types.View(label="Load Label Studio annotations"))

    def execute(self, ctx):
        common.check_no_stored_key(ctx)
        params = ctx.params
        anno_key = params["anno_key"]
        creds = common.credentials(ctx)
        with common.progress_of(ctx):
            report = load_annotations(
                ctx.dataset,
                anno_key,
                dest_field=params.get("dest_field") or None,
                unexpected=params.get("unexpected") or "keep",
                cleanup=bool(params.get("cleanup")),
                annotation_choice=params.get("annotator") or params.get("annotation_choice"),
                full=bool(params.get("full")),
                url=creds.url,
                api_key=creds.api_key,
            )
        if not ctx.delegated:
            ctx.ops.reload_dataset()
        unexpected = report.pop("unexpected_labels", None)
        report["anno_key"] = anno_key
        if unexpected:
            report["unexpected_labels"] = {
                field: {kind: len(labels) for kind, labels in kinds.items()}
                for field, kinds in unexpected.items()
            }
        return report

    def resolve_output(self, ctx):
        outputs = types.Object()
        for name, label in (
            ("added", "Labels added"),
            ("edited", "Labels edited"),
            ("deleted", "Labels deleted"),
            ("kept", "Labels edited in FiftyOne, kept (annotators left them)"),
            ("loaded", "Tasks loaded"),
            ("skipped", "Tasks skipped by annotators"),
            ("not_annotated", "Tasks not annotated yet"),
            ("missing", "Tasks deleted in Label Studio"),
            ("problems", "Malformed regions skipped"),
            ("changed", "Tasks read (changed since the last load)"),
        ):
            outputs.int(name, label=label)
        results = ctx.results or {}
        if results.get("annotator_fields"):
            outputs.obj("annotator_fields", label="Each annotator's fields", view=types.JSONView())
        if results.get("agreement"):
            outputs.obj(
                "agreement",
                label="Agreement between annotators (FiftyOne's evaluation)",
                view=types.JSONView(),
            )
        return types.Property(outputs, view=types.View(label="Annotations loaded"))


def load_form(ctx, inputs) -> bool:
    creds = common.connection(ctx, inputs)
    status = (
        common.memo(("status", ctx.dataset.name, creds.url), lambda: _status_texts(ctx, creds))
        if creds
        else {}
    )
    anno_key = common.run_key(ctx, inputs, with_status=status)
    if anno_key is None:
        return False
    busy = run_lock.holder(ctx.dataset, anno_key)
    if busy:
        common.invalid(inputs, "anno_key", f"anno_key: {run_lock.describe(anno_key, busy)}")
        return False
    schema = ctx.dataset.get_annotation_info(anno_key).config.label_schema
    _dest_field(ctx, inputs, schema)
    choices = types.DropdownView()
    choices.add_choice(
        "keep",
        label="Keep them in a new field",
        description="e.g. polygons drawn with a control that was for boxes go into a field 'polylines'",
    )
    choices.add_choice("ignore", label="Leave them out", description="They are not loaded")
    choices.add_choice(
        "return", label="Only count them", description="The result lists them; nothing is loaded"
    )
    inputs.enum(
        "unexpected",
        list(UNEXPECTED),
        default="keep",
        label="Labels of another kind than their field's",
        description=(
            "Only where the project's labeling config was changed in Label Studio so that a "
            "field's control draws another kind of label"
        ),
        view=choices,
    )
    _choice(ctx, inputs)
    inputs.bool(
        "full",
        default=False,
        label="Read every task",
        description=(
            "By default only the tasks changed since the last load are read (the result is the "
            "same)"
        ),
        view=types.CheckboxView(),
    )
    inputs.bool(
        "cleanup",
        default=False,
        label="Delete the Label Studio project after loading",
        description="Or, where other runs use the project, this run's tasks",
        view=types.CheckboxView(),
    )
    size = run_meta(ctx.dataset, anno_key).get("num_tasks") or 0
    common.delegate_input(ctx, inputs, size)
    stored_key = common.refuse_key_when_delegated(ctx, inputs, size)
    return creds is not None and not stored_key


def _choice(ctx, inputs) -> None:
    choices = types.DropdownView()
    choices.add_choice(None, label="The run's own", description="As requested (latest by default)")
    choices.add_choice("latest", label="The latest annotation of each task")
    choices.add_choice("earliest", label="The first annotation of each task")
    choices.add_choice(
        "all",
        label="Every annotator's, into fields of their own",
        description="Named from the field and the annotator; their agreement is measured",
    )
    inputs.enum(
        "annotation_choice",
        [None, "latest", "earliest", "all"],
        default=None,
        label="Annotations to load",
        view=choices,
    )
    inputs.str(
        "annotator",
        label="Only this annotator's (email)",
        description="Their latest annotation of each task; leave empty for the choice above",
    )
    who = ctx.params.get("annotator")
    if who and "@" not in who:
        common.invalid(inputs, "annotator", f"annotator={who!r} is not an email")


def _status_texts(ctx, creds) -> dict[str, str]:
    try:
        status = runs_progress(ctx.dataset, creds)
    except LabelStudioError:
        return {}
    return {
        key: "project deleted in Label Studio"
        if s.get("missing")
        else f"{s['annotated']} of {s['total']} annotated, {s['skipped']} skipped"
        for key, s in status.items()
    }


def _dest_field(ctx, inputs, schema) -> None:
    dest = ctx.params.get("dest_field")
    fields = list(schema)
    if isinstance(dest, dict):
        inputs.obj("dest_field", label="Destination fields")
        unknown = sorted(set(dest) - set(fields))
        if unknown:
            common.invalid(
                inputs,
                "dest_field",
                f"dest_field names {unknown}, which are not fields of this run: use some of {fields}",
            )
            return
        targets = dest
    else:
        inputs.str(
            "dest_field",
            label="Load into a new field",
            description=(
                "Leave empty to load into the run's own field"
                if len(fields) == 1
                else "Only for runs of one field; from Python, give a dict {run field: new field}"
            ),
        )
        if dest and len(fields) > 1:
            common.invalid(
                inputs,
                "dest_field",
                f"dest_field: this run has {len(fields)} fields; give a dict {{run field: new field}}",
            )
            return
        targets = {fields[0]: dest} if dest else {}
    for source, target in targets.items():
        problem = _target_problem(ctx.dataset, source, schema[source], target)
        if problem:
            common.invalid(inputs, "dest_field", f"dest_field: {problem}")
            return


def _target_problem(dataset, source, info, target) -> str | None:
    prefix = "frames."
    name = (
        target[len(prefix) :] if isinstance(target, str) and target.startswith(prefix) else target
    )
    if not isinstance(name, str) or not name.isidentifier():
        return f"{target!r} is not a valid field name; use letters, digits and underscores"
    if source.startswith(prefix) != target.startswith(prefix):
        level = (
            "frame-level, so must be its destination ('frames.<name>')"
            if source.startswith(prefix)
            else "sample-level, so must be its destination"
        )
        return f"'{source}' is {level}"
    field = dataset.get_field(target)
    label_class = dataset_label_class(info.get("type"))
    if field is None or label_class is None:
        return None
    holds = getattr(field, "document_type", None)
    if holds is not label_class:
        kind = holds.__name__ if holds else type(field).__name__
        return f"field '{target}' holds {kind}, not {label_class.__name__}; choose a new or matching field"
    return None

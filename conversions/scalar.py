"""Scalar fields <-> ``Number``, ``TextArea`` or ``Choices``.

Numbers go to ``Number``, strings to ``TextArea``; booleans, and any scalar
field with ``classes``, to ``Choices`` whose values are the classes as text,
read back in the field's own type.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from .base import (
    Family,
    FieldSchema,
    Frame,
    Problem,
    RegionError,
    convert_each,
    derived_label_id,
    describe_result,
    make_result,
)

_PARSE = {"int": int, "float": float, "str": str, "bool": lambda text: text == "True"}


def uses_choices(field: FieldSchema) -> bool:
    """Whether a scalar field is edited with ``Choices``."""
    return field.scalar_type == "bool" or bool(field.classes)


def scalar_choices(field: FieldSchema) -> tuple[str, ...]:
    """The choices offered for a scalar field, as text."""
    return field.classes if field.classes else ("True", "False")


def export_scalar(
    values: list[Any], field: FieldSchema, frame: Frame
) -> tuple[list[dict], list[Problem]]:
    if not values or values[0] is None:
        return [], []
    value = values[0]
    region_id = derived_label_id(frame, field.name)[:10]
    if uses_choices(field):
        return [make_result(field, frame, "choices", {"choices": [str(value)]}, region_id)], []
    if field.scalar_type == "str":
        return [make_result(field, frame, "textarea", {"text": [value]}, region_id)], []
    return [make_result(field, frame, "number", {"number": value}, region_id)], []


def load_scalar(
    results: list[dict], field: FieldSchema, frame: Frame, originals: Mapping[str, Any]
) -> tuple[Any, list[Problem]]:
    """The field's value: the last result's, or None when there is none."""

    def convert(result: dict) -> Any:
        value = result["value"]
        if uses_choices(field):
            return _from_text(_one(value["choices"], "choices"), field)
        if field.scalar_type == "str":
            texts = value["text"]
            texts = [texts] if isinstance(texts, str) else texts
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise RegionError(f"'text' must be a list of strings, got {texts!r}")
            return "\n".join(texts)
        return _number(value["number"], field)

    problems: list[Problem] = []
    values = convert_each(results, convert, describe_result, problems)
    return (values[-1] if values else None), problems


def _one(items: Any, key: str) -> str:
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], str):
        raise RegionError(f"'{key}' must hold exactly one value, got {items!r}")
    return items[0]


def _from_text(text: str, field: FieldSchema) -> Any:
    if text not in scalar_choices(field):
        raise RegionError(f"{text!r} is not one of the choices {list(scalar_choices(field))}")
    return _PARSE[field.scalar_type or "str"](text)


def _number(number: Any, field: FieldSchema) -> float | int:
    if (
        isinstance(number, bool)
        or not isinstance(number, (int, float))
        or not math.isfinite(number)
    ):
        raise RegionError(f"number={number!r} is not a finite number")
    if field.scalar_type == "int":
        if number != int(number):
            raise RegionError(f"number={number!r} is not an integer")
        return int(number)
    return float(number)


SCALAR_NUMBER = Family(
    control="Number",
    result_type="number",
    anno_type="scalar",
    export=export_scalar,
    load=load_scalar,
    choice_tag=None,
    tag_attributes=lambda field: {"step": "1" if field.scalar_type == "int" else "any"},
)

SCALAR_TEXT = Family(
    control="TextArea",
    result_type="textarea",
    anno_type="scalar",
    export=export_scalar,
    load=load_scalar,
    choice_tag=None,
    tag_attributes=lambda field: {"maxSubmissions": "1", "editable": "true"},
)

SCALAR_CHOICES = Family(
    control="Choices",
    result_type="choices",
    anno_type="scalar",
    export=export_scalar,
    load=load_scalar,
    choice_tag="Choice",
    classes=scalar_choices,
    tag_attributes=lambda field: {"choice": "single-radio", "showInline": "true"},
)


def scalar_family(field: FieldSchema) -> Family:
    """The control a scalar field is edited with."""
    if uses_choices(field):
        return SCALAR_CHOICES
    return SCALAR_TEXT if field.scalar_type == "str" else SCALAR_NUMBER

"""Label attributes <-> Label Studio per-region controls.

FiftyOne declares a field's attributes as its CVAT integration takes them:
``{name: {"type", "values", "default", "read_only"}}`` for every class, and per
class through ``classes=[..., {"classes": [...], "attributes": {...}}]``. Each
becomes one control of the labeling config (see :func:`attribute_tags`):

=============================== ======================================================
FiftyOne ``type``               Label Studio control (``perRegion``)
=============================== ======================================================
``select``, ``radio``           ``Choices`` (dropdown, radio; ``multiple`` for lists)
``checkbox``, ``occluded``      ``Choices`` of ``True`` / ``False`` (none chosen: unset)
``text``                        ``TextArea``
``int``, ``group_id``           ``Number`` (whole numbers)
``float``                       ``Number``
=============================== ======================================================

shown while a region of the field is selected (and, per class, of that
class), named ``<field>__<attribute>`` (``__<class>`` per class) so that two
fields' attributes never collide. Each value travels as Label Studio's editor
writes it: a result of that control with the region's ``id`` and full
geometry. Read-only attributes are shown, never loaded.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from .geometry import RegionError

ATTRIBUTE_TYPES = ("text", "select", "radio", "checkbox", "int", "float", "occluded", "group_id")
"""The attribute types the backend supports (FiftyOne's ``supported_attr_types``)."""

REGION_TYPES = frozenset(
    {
        "detection",
        "detections",
        "instance",
        "instances",
        "polygon",
        "polygons",
        "polyline",
        "polylines",
        "keypoint",
        "keypoints",
    }
)
"""Label types whose labels are regions, which per-region controls describe."""

GEOMETRY = frozenset({"rotation", "rotated_box"})
"""Label attributes that are a rectangle's geometry, never per-region controls
(see :mod:`.geometry`)."""

ANNOTATOR, ANNOTATED_AT = "annotator", "annotated_at"
"""What a load records on each label it adds or edits: who, and when."""

_NOT_CONTROLS = GEOMETRY | {ANNOTATOR, ANNOTATED_AT, "keyframe"}
"""Label attributes the plugin itself writes (geometry, the load's record, a
video's keyframes): never per-region controls, even where FiftyOne's
``attributes=True`` finds them on the labels."""

_RESULT = {
    "text": ("textarea", "text"),
    "int": ("number", "number"),
    "group_id": ("number", "number"),
    "float": ("number", "number"),
}
_BOOLEANS = ("checkbox", "occluded")


@dataclass(frozen=True)
class Attribute:
    """One attribute of a label field, as its control shows it.

    Args:
        name: the label attribute
        type: one of :data:`ATTRIBUTE_TYPES`
        values: the choices of ``select`` / ``radio``
        default: the value a label drawn in Label Studio gets when the
            annotator sets none
        read_only: shown, never loaded
        multiple: a ``select`` whose value is a list of choices
        label: the class it belongs to, or None for every class
    """

    name: str
    type: str
    values: tuple = ()
    default: Any = None
    read_only: bool = False
    multiple: bool = False
    label: str | None = None

    def control(self, field: str) -> str:
        """The name of its control in the labeling config.

        Example:
            >>> Attribute("make", "text", label="pick-up truck").control("boxes")
            'boxes__make__pick_up_truck_a0628f'
        """
        name = f"{field}__{self.name}"
        if self.label is None:
            return name
        slug = re.sub(r"[^A-Za-z0-9]+", "_", self.label).strip("_")
        if slug != self.label:
            slug += "_" + hashlib.sha1(self.label.encode()).hexdigest()[:6]
        return f"{name}__{slug}"

    @property
    def result_type(self) -> str:
        return _RESULT.get(self.type, ("choices", "choices"))[0]

    @property
    def key(self) -> str:
        """The key of the value in a result's ``value``."""
        return _RESULT.get(self.type, ("choices", "choices"))[1]

    def applies_to(self, label_class: str | None) -> bool:
        return self.label is None or self.label == label_class

    def choices(self) -> tuple[str, ...]:
        """The choices its control offers, as text."""
        if self.type in _BOOLEANS:
            return ("True", "False")
        return tuple(str(v) for v in self.values)

    def encode(self, value: Any) -> dict:
        """The result ``value`` entry of an attribute value.

        Example:
            >>> Attribute("occluded", "occluded").encode(False)
            {'choices': ['False']}
            >>> Attribute("doors", "int").encode(4)
            {'number': 4}
        """
        if self.key == "text":
            return {"text": [str(value)]}
        if self.key == "number":
            return {"number": value}
        if self.multiple and isinstance(value, (list, tuple)):
            return {"choices": [str(v) for v in value]}
        return {"choices": [str(value)]}

    def decode(self, value: Mapping) -> Any:
        """The attribute value a result ``value`` holds, in the attribute's
        type; :class:`RegionError` when it cannot be one.

        Example:
            >>> Attribute("color", "select", values=(1, 2)).decode({"choices": ["2"]})
            2
        """
        got = value.get(self.key)
        if self.key == "text":
            texts = [got] if isinstance(got, str) else got
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise RegionError(f"attribute '{self.name}': text={got!r} is not a list of strings")
            return "\n".join(texts)
        if self.key == "number":
            return _number(got, self)
        if not isinstance(got, list) or not all(isinstance(c, str) for c in got):
            raise RegionError(f"attribute '{self.name}': choices={got!r} is not a list of choices")
        by_text = dict(
            zip(self.choices(), (True, False) if self.type in _BOOLEANS else self.values)
        )
        unknown = [c for c in got if c not in by_text]
        if unknown:
            raise RegionError(
                f"attribute '{self.name}': {unknown} not among its values {list(by_text)}"
            )
        if self.multiple:
            return [by_text[c] for c in got]
        if len(got) != 1:
            raise RegionError(f"attribute '{self.name}': {len(got)} choices for one value")
        return by_text[got[0]]

    def tag(self, field: str, to_name: str) -> tuple:
        """The control's ``(tag, attributes, children)`` for ``LabelInterface.create``."""
        attributes = {"name": self.control(field), "toName": to_name, "perRegion": "true"}
        if self.key == "text":
            return ("TextArea", {**attributes, "maxSubmissions": "1", "editable": "true"}, ())
        if self.key == "number":
            step = "any" if self.type == "float" else "1"
            return ("Number", {**attributes, "step": step}, ())
        choice = {"select": "single", "radio": "single-radio"}.get(self.type, "single")
        if self.multiple:
            choice = "multiple"
        # a dropdown for select (showInline would make it checkboxes), inline otherwise
        if self.type == "select" and not self.multiple:
            layout = {"layout": "select"}
        else:
            layout = {"showInline": "true"}
        children = tuple(("Choice", {"value": c}, ()) for c in self.choices())
        return ("Choices", {**attributes, "choice": choice, **layout}, children)


def _number(got: Any, attribute: Attribute) -> float | int:
    if isinstance(got, bool) or not isinstance(got, (int, float)) or got != got:
        raise RegionError(f"attribute '{attribute.name}': number={got!r} is not a number")
    if attribute.type == "float":
        return float(got)
    if got != int(got):
        raise RegionError(f"attribute '{attribute.name}': number={got!r} is not a whole number")
    return int(got)


def recommended_attribute(name: str, value: Any) -> dict:
    """The attribute spec for an attribute found on existing labels, from its
    name and a value (FiftyOne's ``recommend_attr_tool``).

    Example:
        >>> recommended_attribute("occluded", True), recommended_attribute("age", 3)
        ({'type': 'occluded'}, {'type': 'int'})
    """
    if isinstance(value, bool):
        return {"type": "occluded" if name == "occluded" else "checkbox"}
    if isinstance(value, int):
        return {"type": "group_id" if name == "group_id" else "int"}
    if isinstance(value, float):
        return {"type": "float"}
    return {"type": "text"}


def parse_attributes(info: Mapping[str, Any]) -> tuple[Attribute, ...]:
    """The attributes of one field of a label schema (FiftyOne's format, after
    its ``annotate()`` formatted them): every class's, then per class.

    Example:
        >>> info = {"attributes": {"occluded": {"type": "occluded"}},
        ...         "classes": ["bus", {"classes": ["car"], "attributes": {"doors": {"type": "int"}}}]}
        >>> [(a.name, a.label) for a in parse_attributes(info)]
        [('occluded', None), ('doors', 'car')]
    """
    found = list(_attributes(info.get("attributes"), None))
    for group in info.get("classes") or []:
        if isinstance(group, Mapping):
            for label in group.get("classes", []):
                found += _attributes(group.get("attributes"), str(label))
    return tuple(a for a in found if a.name not in _NOT_CONTROLS)


def _attributes(specs: Any, label: str | None) -> Iterable[Attribute]:
    if not isinstance(specs, Mapping):
        return ()
    return [
        Attribute(
            name=str(name),
            type=spec.get("type", "text"),
            values=tuple(spec.get("values") or ()),
            default=spec.get("default"),
            read_only=bool(spec.get("read_only", False)),
            multiple=bool(spec.get("multiple", False)),
            label=label,
        )
        for name, spec in specs.items()
        if isinstance(spec, Mapping)
    ]


def attributes_problem(name: str, info: Mapping[str, Any]) -> str | None:
    """What is wrong with a field's attributes, naming them and the fix.

    Example:
        >>> attributes_problem("gt", {"type": "detections", "attributes": {"make": {"type": "select"}}})
        "label_schema['gt']: attribute 'make' of type 'select' needs its values"
    """
    specs = [info.get("attributes")]
    specs += [g.get("attributes") for g in info.get("classes") or [] if isinstance(g, Mapping)]
    for group in specs:
        if not isinstance(group, Mapping):
            continue  # True, a name or a list: FiftyOne's annotate() makes them specs
        for attribute, spec in group.items():
            if not isinstance(spec, Mapping):
                continue
            kind = spec.get("type")
            where = f"label_schema['{name}']: attribute '{attribute}'"
            if kind not in ATTRIBUTE_TYPES:
                return (
                    f"{where} has type {kind!r}; supported types are {', '.join(ATTRIBUTE_TYPES)}"
                )
            if kind in ("select", "radio") and not spec.get("values"):
                return f"{where} of type {kind!r} needs its values"
            default = spec.get("default")
            if default is not None and spec.get("values") and default not in spec["values"]:
                return f"{where}: its default {default!r} is not one of its values"
            if attribute in GEOMETRY and info.get("type") in ("detection", "detections"):
                return f"{where} is the rectangle's own {attribute} in Label Studio; rename it"
    return None


def attribute_tags(field_name: str, attributes: Sequence[Attribute], to_name: str) -> tuple:
    """The field's attribute controls: a ``View`` shown while a region of the
    field is selected, with one control per attribute (a class's inside a
    ``View`` shown for regions of that class), each under a header."""
    children = []
    for attribute in attributes:
        header = ("Header", {"value": f"{attribute.name}", "size": "6"}, ())
        control = attribute.tag(field_name, to_name)
        if attribute.label is None:
            children += [header, control]
        else:
            shown = {"visibleWhen": "region-selected", "whenLabelValue": attribute.label}
            children.append(("View", shown, (header, control)))
    return ("View", {"visibleWhen": "region-selected", "whenTagName": field_name}, tuple(children))


def _no_value(value: Any, attribute: "Attribute") -> bool:
    """Whether an attribute value is sent as none, and so comes back as it
    was: None, a NaN (JSON has none), or a list or dict other than a
    ``multiple`` select's choices (a text box would turn it into its repr).

    Example:
        >>> text = Attribute("note", "text")
        >>> [_no_value(v, text) for v in (None, float("nan"), 0.0, ["a"], {"k": 1})]
        [True, True, False, True, True]
    """
    if isinstance(value, (list, tuple, dict)):
        return not (attribute.multiple and not isinstance(value, dict))
    return value is None or (isinstance(value, float) and math.isnan(value))


def attribute_results(region: dict, label: Any, attributes: Sequence[Attribute], labels_key: str):
    """The results of a label's attribute values for one of its regions, as
    the editor writes them: the region's ``id`` and geometry, one result per
    control; attributes without a value have none."""
    geometry = {k: v for k, v in region["value"].items() if k != labels_key}
    found = []
    for attribute in attributes:
        if not attribute.applies_to(label.label):
            continue
        value = label.get_attribute_value(attribute.name, None)
        if _no_value(value, attribute):
            continue
        result = {k: v for k, v in region.items() if k not in ("value", "score")}
        result.update(
            from_name=attribute.control(region["from_name"]),
            type=attribute.result_type,
            value={**geometry, **attribute.encode(value)},
        )
        if attribute.read_only:
            # the editor locks a result so marked (the control tag has no such
            # setting); it must follow the region's own result, which the
            # editor builds the region from
            result["readonly"] = True
        found.append(result)
    return found


def attributes_as_sent(
    label: Any, results: Sequence[dict], attributes: Sequence[Attribute]
) -> bool:
    """Whether the attribute values the results carry (``result["attributes"]``,
    joined by :func:`conversions.sample.load_sample`) are exactly what the
    label was sent with."""
    for attribute in attributes:
        if not attribute.applies_to(label.label):
            continue
        value = label.get_attribute_value(attribute.name, None)
        expected = None if _no_value(value, attribute) else attribute.encode(value)
        for result in results:
            got = (result.get("attributes") or {}).get(attribute.name)
            got = None if got is None else {attribute.key: got.get(attribute.key)}
            if got != expected:
                return False
    return True


def apply_attributes(
    label: Any, results: Sequence[dict], attributes: Sequence[Attribute], original: Any = None
) -> None:
    """Sets on ``label`` (a new or edited FiftyOne label) the values of its
    class's attributes its regions carry: an edited value, a value cleared in
    Label Studio (None), or for a label drawn there the attribute's default.
    Of a label with several regions (shapes, points) whose values differ, the
    regions the annotator changed win (the editor marks them: ``origin``), and
    loading again gives the same value. Read-only attributes keep the label's
    own value."""
    for attribute in attributes:
        if attribute.read_only or not attribute.applies_to(label.label):
            continue
        before = original.get_attribute_value(attribute.name, None) if original else None
        values = []
        for result in results:
            got = (result.get("attributes") or {}).get(attribute.name)
            values.append(None if got is None else attribute.decode(got))
        value = _agreed(values, results, before)
        if original is None and value is None:
            value = attribute.default
        if value is None and not (original is not None and original.has_attribute(attribute.name)):
            continue  # nothing to say, and no attribute to clear
        if value is None and before is not None and _no_value(before, attribute):
            continue  # sent as no value (a NaN, a list), and still none
        label[attribute.name] = value


def _agreed(values: list, results: Sequence[dict], before: Any) -> Any:
    """One value for a label from its regions' values: theirs if they agree;
    else those of the regions the annotator changed (the editor's ``origin``
    other than ``prediction``); else the one value the regions that have a
    value hold; else (results made through the API, without an origin) the
    first that differs from the label's own.

    Example:
        >>> _agreed([True, None, None], [{"origin": "prediction"}] * 3, before=None)
        True
        >>> _agreed([True, None, None], [{"origin": "prediction"}] * 3, before=True)
        True
    """
    if all(v == values[0] for v in values):
        return values[0]
    edited = [v for v, r in zip(values, results) if r.get("origin") not in (None, "prediction")]
    if edited and all(v == edited[0] for v in edited):
        return edited[0]
    # the editor leaves origin "prediction" on a region given a value it had
    # none of: a value set on some regions, the others empty, is that value
    given = [v for v in values if v is not None]
    if all(v == given[0] for v in given):
        return given[0]
    changed = [v for v in values if v != before]
    return changed[0] if changed else before

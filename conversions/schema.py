"""Label schema -> fields, the family of each field, and the labeling config."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from label_studio_sdk.label_interface import LabelInterface

from .base import IMAGE_TAG, Family, FieldSchema
from .classification import CLASSIFICATION, CLASSIFICATIONS
from .detection import DETECTIONS
from .instance import INSTANCES
from .keypoint import KEYPOINTS
from .polyline import POLYGONS, POLYLINES
from .scalar import scalar_family
from .segmentation import SEGMENTATION

FAMILIES: dict[str, Family] = {
    "classification": CLASSIFICATION,
    "classifications": CLASSIFICATIONS,
    "detection": DETECTIONS,
    "detections": DETECTIONS,
    "instance": INSTANCES,
    "instances": INSTANCES,
    "polygon": POLYGONS,
    "polygons": POLYGONS,
    "polyline": POLYLINES,
    "polylines": POLYLINES,
    "keypoint": KEYPOINTS,
    "keypoints": KEYPOINTS,
    "segmentation": SEGMENTATION,
}
"""The family of each FiftyOne label type; scalars pick theirs by value type."""

LABEL_TYPES = (*FAMILIES, "scalar")

SCALAR_TYPES = ("int", "float", "str", "bool")

RESERVED_FIELDS = frozenset(
    {"id", "filepath", "tags", "metadata", "created_at", "last_modified_at", IMAGE_TAG}
)
"""Fields that cannot hold labels (``image`` names the image in the labeling config)."""

NEEDS_CLASSES = frozenset(LABEL_TYPES) - {"scalar", "segmentation"}

_BY_RESULT_TYPE: dict[str, tuple[str, Family]] = {
    "choices": ("classifications", CLASSIFICATIONS),
    "rectanglelabels": ("detections", DETECTIONS),
    "brushlabels": ("instances", INSTANCES),
    "polygonlabels": ("polygons", POLYGONS),
    "vectorlabels": ("polylines", POLYLINES),
    "keypointlabels": ("keypoints", KEYPOINTS),
}


def family_of(field: FieldSchema) -> Family:
    """The Label Studio control family of a field.

    Example:
        >>> family_of(FieldSchema("gt", "detections")).control
        'RectangleLabels'
    """
    if field.label_type == "scalar":
        return scalar_family(field)
    return FAMILIES[field.label_type]


def family_of_result(result_type: str, name: str) -> FieldSchema | None:
    """A field that would read results of ``result_type``, for results that
    fit no field of the run (``None`` when no family reads them)."""
    if result_type == "number":
        return FieldSchema(name, "scalar", scalar_type="float")
    if result_type == "textarea":
        return FieldSchema(name, "scalar", scalar_type="str")
    if result_type in _BY_RESULT_TYPE:
        return FieldSchema(name, _BY_RESULT_TYPE[result_type][0])
    return None


def schema_problem(
    label_schema: Any, existing: Mapping[str, Sequence[str] | None] | None = None
) -> str | None:
    """What is wrong with a label schema, naming the field and the fix; None
    when it can be annotated. The one check of a schema, for the Python API
    and the forms alike.

    Args:
        label_schema: ``{field: {"type", "classes", "mask_targets", "attributes"}}``
        existing: ``{field: the label types it can hold, or None}`` for the
            fields the samples have (from :func:`backend.label_fields.existing_fields`);
            the others are new. None when every field has its type already
            (a schema FiftyOne's ``annotate()`` built).

    Example:
        >>> schema_problem({"gt": {"type": "detections"}}, existing={})
        "label_schema['gt']: a new detections field needs classes"
        >>> schema_problem({"gt": {"type": "detections"}}, existing={"gt": ["detections", "instances"]}) is None
        True
    """
    if not label_schema:
        return "label_schema: choose at least one field to annotate"
    if not isinstance(label_schema, Mapping):
        return "label_schema must be a dict of {field: {type, classes, ...}}"
    for name, info in label_schema.items():
        if not isinstance(info, Mapping):
            return f"label_schema['{name}'] must be a dict like {{'type': ..., 'classes': [...]}}"
        if name in RESERVED_FIELDS or not isinstance(name, str) or not name:
            return f"label_schema: '{name}' cannot hold labels; choose another field name"
        label_type = info.get("type")
        if label_type is not None and label_type not in LABEL_TYPES:
            return (
                f"label_schema['{name}']: type {label_type!r} is not one of the supported "
                f"types: {', '.join(LABEL_TYPES)}"
            )
        classes = info.get("classes")
        if classes is not None and not isinstance(classes, (list, tuple)):
            return f"label_schema['{name}']: classes must be a list of class names"
        if existing is None:
            if label_type is None:
                return f"label_schema['{name}']: give its type"
            continue
        if name not in existing:
            if label_type is None:
                return f"label_schema['{name}']: the field does not exist; give its type (and classes) to create it"
            if label_type in NEEDS_CLASSES and not classes:
                return f"label_schema['{name}']: a new {label_type} field needs classes"
            if label_type == "segmentation" and not info.get("mask_targets"):
                return f"label_schema['{name}']: a new segmentation field needs mask_targets"
            continue
        allowed = existing[name]
        if allowed is None:
            return f"label_schema['{name}']: the field holds values Label Studio cannot annotate; choose another field"
        if label_type is not None and label_type not in allowed:
            return f"label_schema['{name}']: the field holds {' or '.join(allowed)} labels, not {label_type}; change the type or the field"
    return None


def field_schemas(
    label_schema: Mapping[str, Mapping[str, Any]], scalar_types: Mapping[str, str] | None = None
) -> list[FieldSchema]:
    """The fields of a FiftyOne label schema.

    Args:
        label_schema: ``{field: {"type", "classes", "mask_targets", "attributes"}}``
            as FiftyOne's ``annotate()`` builds it; ``classes`` may hold
            ``{"classes": [...], "attributes": ...}`` groups
        scalar_types: ``{field: "int" | "float" | "str" | "bool"}`` for scalar
            fields; a scalar field not listed takes the type of its classes,
            else ``"str"``

    Example:
        >>> field_schemas({"gt": {"type": "detections", "classes": ["cat", {"classes": ["dog"]}]}})[0].classes
        ('cat', 'dog')
    """
    problem = schema_problem(label_schema)
    if problem:
        raise ValueError(problem)
    scalar_types = scalar_types or {}
    fields = []
    for name, info in label_schema.items():
        label_type = info["type"]
        raw_classes = _flatten_classes(info.get("classes") or [])
        scalar_type = None
        if label_type == "scalar":
            scalar_type = scalar_types.get(name) or _type_of_values(raw_classes)
        fields.append(
            FieldSchema(
                name=name,
                label_type=label_type,
                classes=tuple(str(c) for c in raw_classes),
                mask_targets=dict(info.get("mask_targets") or {}),
                scalar_type=scalar_type,
                attributes=dict(info.get("attributes") or {})
                if isinstance(info.get("attributes"), Mapping)
                else {},
            )
        )
    return fields


def labeling_config(fields: list[FieldSchema]) -> str:
    """The Label Studio labeling config for the fields, one control per field
    under a header naming it, validated by ``LabelInterface``.

    Example:
        >>> "<RectangleLabels" in labeling_config([FieldSchema("gt", "detections", ("cat",))])
        True
    """
    tags: dict[str, tuple] = {
        IMAGE_TAG: ("Image", {"value": f"${IMAGE_TAG}", "zoom": "true", "zoomControl": "true"}, ())
    }
    for field in fields:
        family = family_of(field)
        children = tuple((family.choice_tag, {"value": c}, ()) for c in family.classes(field))
        attributes = {"toName": IMAGE_TAG, **family.tag_attributes(field)}
        tags[field.name] = (family.control, attributes, children if family.choice_tag else ())
    config = LabelInterface.create(tags, title={f.name: f.name for f in fields})
    LabelInterface(config).validate()
    return config


def has_control(label_config: str, field: FieldSchema) -> bool:
    """Whether a labeling config (as the project has it now) still has the
    field's control, of the field's kind.

    Example:
        >>> field = FieldSchema("gt", "detections", ("cat",))
        >>> has_control(labeling_config([field]), field), has_control("<View/>", field)
        (True, False)
    """
    controls = LabelInterface(label_config).controls
    return any(c.name == field.name and c.tag == family_of(field).control for c in controls)


def _flatten_classes(classes: list) -> list:
    flat = []
    for item in classes:
        if isinstance(item, Mapping):
            flat.extend(item.get("classes", []))
        else:
            flat.append(item)
    return list(dict.fromkeys(flat))


def _type_of_values(values: list) -> str:
    if values and all(isinstance(v, bool) for v in values):
        return "bool"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int"
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "float"
    return "str"

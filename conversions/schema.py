"""Label schema -> fields, the family of each field, and the labeling config."""

from __future__ import annotations

from typing import Any, Mapping

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
    scalar_types = scalar_types or {}
    fields = []
    for name, info in label_schema.items():
        if name == IMAGE_TAG:
            raise ValueError(
                f"label field '{IMAGE_TAG}' has the name of the image in the labeling "
                "config; load it into another field name"
            )
        label_type = info.get("type")
        if label_type not in LABEL_TYPES:
            raise ValueError(
                f"label field '{name}' has type {label_type!r}; supported types are "
                f"{', '.join(LABEL_TYPES)}"
            )
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

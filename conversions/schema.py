"""Label schema -> fields, the family of each field, and the labeling config."""

from __future__ import annotations

from typing import Any, Mapping, Sequence
from xml.etree import ElementTree

from label_studio_sdk.label_interface import LabelInterface

from .attributes import REGION_TYPES, attribute_tags, attributes_problem, parse_attributes
from .base import FRAMES_PREFIX, IMAGE_TAG, VIDEO_TAG, Family, FieldSchema
from .classification import CLASSIFICATION, CLASSIFICATIONS
from .detection import DETECTIONS
from .instance import INSTANCES
from .keypoint import KEYPOINTS
from .polyline import POLYGONS, POLYLINES
from .scalar import scalar_family
from .segmentation import SEGMENTATION
from .temporal import TEMPORAL_DETECTIONS
from .video import VIDEO_TRACKS

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
    "temporal_detection": TEMPORAL_DETECTIONS,
    "temporal_detections": TEMPORAL_DETECTIONS,
}
"""The family of each FiftyOne label type; scalars pick theirs by value type,
a video's frame-level detections are tracks (``VideoRectangle``)."""

VIDEO_TYPES = frozenset({"temporal_detection", "temporal_detections"})
"""Label types only videos have (FiftyOne's ``annotate()`` takes none of them)."""

LABEL_TYPES = (*FAMILIES, "scalar")

SCALAR_TYPES = ("int", "float", "str", "bool")

RESERVED_FIELDS = frozenset(
    {"id", "filepath", "tags", "metadata", "created_at", "last_modified_at", IMAGE_TAG, VIDEO_TAG}
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
        >>> family_of(FieldSchema("frames.gt", "detections")).control
        'VideoRectangle'
    """
    if field.label_type == "scalar":
        return scalar_family(field)
    if field.is_frame_field and field.label_type in ("detection", "detections"):
        return VIDEO_TRACKS
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
    label_schema: Any,
    existing: Mapping[str, Sequence[str] | None] | None = None,
    media_type: str | None = None,
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
        media_type: the samples' (``"image"``, ``"video"``), to check which
            types and levels (``frames.<field>``) they can hold; None to not check

    Example:
        >>> schema_problem({"gt": {"type": "detections"}}, existing={})
        "label_schema['gt']: a new detections field needs classes"
        >>> schema_problem({"gt": {"type": "detections"}}, existing={"gt": ["detections", "instances"]}) is None
        True
        >>> schema_problem({"gt": {"type": "detections", "classes": ["car"]}}, {}, "video")
        "label_schema['gt']: a video's detections are tracks in a frame-level field; name it 'frames.gt'"
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
        problem = attributes_problem(name, info) or level_problem(name, label_type, media_type)
        if problem:
            return problem
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
    controls: dict[str, str] = {}
    for name in label_schema:
        control = FieldSchema(name, "").control
        if control in controls:
            return (
                f"label_schema: '{controls[control]}' and '{name}' would both be Label Studio's "
                f"control '{control}'; annotate them in separate runs"
            )
        controls[control] = name
    return None


TRACK_TYPES = frozenset({"detection", "detections"})
"""What a video's frame-level fields are annotated as: tracks of boxes."""
VIDEO_SAMPLE_TYPES = VIDEO_TYPES | {"classification", "classifications", "scalar"}
"""What a video's sample-level fields can be annotated as."""


def level_problem(name: str, label_type: str | None, media_type: str | None) -> str | None:
    """Whether the field's level (sample or ``frames.``) and type fit the media."""
    frame_level = name.startswith(FRAMES_PREFIX)
    if media_type is None:
        return None
    if media_type != VIDEO_TAG:
        if frame_level:
            return f"label_schema['{name}']: only videos have frame-level fields; annotate a sample field"
        if label_type in VIDEO_TYPES:
            return (
                f"label_schema['{name}']: {label_type} labels belong to videos; choose another type"
            )
        return None
    if frame_level and label_type is not None and label_type not in TRACK_TYPES:
        return (
            f"label_schema['{name}']: a video's frame-level fields are annotated as tracks of "
            f"detections, not {label_type}; use type 'detections'"
        )
    if not frame_level and label_type in TRACK_TYPES:
        return (
            f"label_schema['{name}']: a video's detections are tracks in a frame-level field; "
            f"name it 'frames.{name}'"
        )
    if not frame_level and label_type is not None and label_type not in VIDEO_SAMPLE_TYPES:
        return (
            f"label_schema['{name}']: Label Studio's video editor has no {label_type} for a "
            f"whole video; use one of {', '.join(sorted(VIDEO_SAMPLE_TYPES))}"
        )
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
                attributes=parse_attributes(info) if label_type in REGION_TYPES else (),
                # FiftyOne's merge keeps keyframes on a new field, or where asked
                only_keyframes=bool(
                    info.get("only_keyframes") or info.get("existing_field") is False
                ),
            )
        )
    return fields


def labeling_config(fields: list[FieldSchema], media: str = IMAGE_TAG) -> str:
    """The Label Studio labeling config for the fields, one control per field
    under a header naming it (with its attribute controls), on an ``<Image>``
    or, for ``media="video"``, a ``<Video>`` at the task's frame rate;
    validated by ``LabelInterface``.

    Example:
        >>> "<RectangleLabels" in labeling_config([FieldSchema("gt", "detections", ("cat",))])
        True
        >>> config = labeling_config([FieldSchema("frames.gt", "detections", ("cat",))], "video")
        >>> '<Video value="$video" frameRate="$fps"' in config, '<VideoRectangle toName="video"' in config
        (True, True)
    """
    if media == VIDEO_TAG:
        tags: dict[str, tuple] = {
            VIDEO_TAG: ("Video", {"value": f"${VIDEO_TAG}", "frameRate": "$fps"}, ())
        }
    else:
        tags = {
            IMAGE_TAG: (
                "Image",
                {"value": f"${IMAGE_TAG}", "zoom": "true", "zoomControl": "true"},
                (),
            )
        }
    for field in fields:
        family = family_of(field)
        classes = tuple(
            ("Label" if family is VIDEO_TRACKS else family.choice_tag, {"value": c}, ())
            for c in family.classes(field)
        )
        if family is VIDEO_TRACKS:
            # its classes: a Labels control beside it, as Label Studio's video tracking has them
            tags[f"{field.control}__labels"] = ("Labels", {"toName": media}, classes)
        attributes = {"toName": media, **family.tag_attributes(field)}
        tags[field.control] = (family.control, attributes, classes if family.choice_tag else ())
        if field.attributes:
            tags[f"{field.control}__attributes"] = attribute_tags(
                field.control, field.attributes, media
            )
    # the title above what the annotator sees: a track field's Labels (its
    # VideoRectangle has no buttons)
    titles = {
        f"{f.control}__labels" if family_of(f) is VIDEO_TRACKS else f.control: f.name
        for f in fields
    }
    config = LabelInterface.create(tags, title=titles)
    LabelInterface(config).validate()
    return config


def grown_config(label_config: str, fields: list[FieldSchema]) -> str:
    """A project's labeling config grown to serve ``fields`` too: their
    controls, classes and attribute controls are added where missing, nothing
    is removed or changed (Label Studio refuses to drop what annotations use).
    Raises ValueError when a field's control exists with another kind.

    Example:
        >>> old = labeling_config([FieldSchema("gt", "detections", ("cat",))])
        >>> new = grown_config(old, [FieldSchema("gt", "detections", ("dog",)),
        ...                          FieldSchema("n", "scalar", scalar_type="int")])
        >>> interface = LabelInterface(new)
        >>> interface.get_control("gt").labels, interface.get_control("n").tag
        (['cat', 'dog'], 'Number')
    """
    existing = ElementTree.fromstring(label_config)
    media = VIDEO_TAG if existing.find(".//Video") is not None else IMAGE_TAG
    ours = ElementTree.fromstring(labeling_config(fields, media))
    names = {el.get("name"): el for el in existing.iter() if el.get("name")}
    for field in fields:
        found = names.get(field.control)
        if found is not None and found.tag != family_of(field).control:
            raise ValueError(
                f"label_schema['{field.name}']: the project's control '{field.name}' is a "
                f"{found.tag}, not the {family_of(field).control} a {field.label_type} field needs; "
                "use another field name or another project"
            )
    for element in ours.iter():
        found = names.get(element.get("name"))
        if found is not None and found.tag != element.tag:  # an attribute's control
            raise ValueError(
                f"label_schema: the project's control '{element.get('name')}' is a {found.tag}, not the "
                f"{element.tag} this run declares: declare the attribute as the project's "
                "earlier run did (its type and values), or use another project"
            )
    _grow(existing, ours)
    ElementTree.indent(existing)
    grown = ElementTree.tostring(existing, encoding="unicode")
    LabelInterface(grown).validate()
    return grown


def _grow(existing, ours) -> None:
    """Adds to ``existing`` the children of ``ours`` it lacks (a named control
    or view by its name, a class by its value, a header with its control)."""

    def key(el):
        return el.get("name") or (el.tag, el.get("value"))

    held = {key(child): child for child in existing}
    pending_header = None
    for child in ours:
        if child.tag == "Header" and not child.get("name"):
            pending_header = child
            continue
        match = held.get(key(child))
        if match is None:
            if pending_header is not None and key(pending_header) not in held:
                existing.append(pending_header)
            existing.append(child)
        elif len(child):
            _grow(match, child)
        pending_header = None


def has_control(label_config: str, field: FieldSchema) -> bool:
    """Whether a labeling config (as the project has it now) still has the
    field's control, of the field's kind.

    Example:
        >>> field = FieldSchema("gt", "detections", ("cat",))
        >>> has_control(labeling_config([field]), field), has_control("<View/>", field)
        (True, False)
    """
    controls = LabelInterface(label_config).controls
    return any(c.name == field.control and c.tag == family_of(field).control for c in controls)


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

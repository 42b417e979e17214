"""Classification and Classifications <-> ``Choices``.

One result per FiftyOne label, its id the label's id and its ``score`` the
label's confidence. The Label Studio editor may merge the choices of a
multiple-choice control into one result; each class then keeps the id of the
original label of that class.
"""

from __future__ import annotations

from typing import Mapping

import fiftyone.core.labels as fol

from .base import (
    Family,
    FieldSchema,
    Frame,
    Problem,
    RegionError,
    convert_each,
    derived_label_id,
    describe_result,
    is_as_sent,
    is_finite_number,
    label_to_edit,
    make_result,
    split_region_id,
)


def export_classifications(
    labels: list[fol.Classification], field: FieldSchema, frame: Frame
) -> tuple[list[dict], list[Problem]]:
    results = [
        make_result(field, frame, "choices", {"choices": [label.label]}, label.id, label.confidence)
        for label in labels
    ]
    return results, []


def load_classifications(
    results: list[dict],
    field: FieldSchema,
    frame: Frame,
    originals: Mapping[str, fol.Classification],
) -> tuple[dict[str, fol.Classification], list[Problem]]:
    problems: list[Problem] = []
    by_class = {label.label: label.id for label in originals.values()}
    single = field.label_type == "classification"
    loaded: dict[str, fol.Classification] = {}

    def convert(result: dict) -> list[fol.Classification]:
        choices = result["value"]["choices"]
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise RegionError(f"'choices' must be a list of class names, got {choices!r}")
        if single and len(choices) > 1:
            raise RegionError(f"a single-choice field got {len(choices)} choices")
        region_id = str(result["id"])
        original = originals.get(region_id)
        if original is not None and is_as_sent(
            [result], original, export_classifications, field, frame, originals
        ):
            return [original]
        return [
            _classification(
                label_id(region_id, choice, len(choices)), choice, result.get("score"), originals
            )
            for choice in choices
        ]

    def label_id(region_id: str, choice: str, num_choices: int) -> str:
        own_id, part = split_region_id(region_id)
        if own_id is not None and part is None and num_choices == 1:
            return own_id
        if single and len(originals) == 1:
            # the editor gives a re-picked choice a region id of its own; the
            # field still holds one classification, the same one
            return next(iter(originals))
        return by_class.get(choice) or derived_label_id(frame, field.name, region_id, choice)

    for labels in convert_each(results, convert, describe_result, problems):
        for label in labels:
            loaded[label.id] = label
    if single and len(loaded) > 1:
        problems.append(
            Problem(f"{len(loaded)} choices for a single classification; kept the last")
        )
        last = list(loaded)[-1]
        loaded = {last: loaded[last]}
    return loaded, problems


def _classification(label_id, choice, score, originals) -> fol.Classification:
    original = originals.get(label_id)
    label = label_to_edit(original, fol.Classification, label_id, originals)
    label.label = choice
    if is_finite_number(score):
        label.confidence = score
    return label


CLASSIFICATION = Family(
    control="Choices",
    result_type="choices",
    anno_type="classifications",
    export=export_classifications,
    load=load_classifications,
    compares_sent=True,
    choice_tag="Choice",
    tag_attributes=lambda field: {"choice": "single-radio", "showInline": "true"},
)

CLASSIFICATIONS = Family(
    control="Choices",
    result_type="choices",
    anno_type="classifications",
    export=export_classifications,
    load=load_classifications,
    compares_sent=True,
    choice_tag="Choice",
    tag_attributes=lambda field: {"choice": "multiple", "showInline": "true"},
)

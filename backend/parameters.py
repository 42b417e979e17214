"""The parameters ``annotate()`` and the loads are given that nothing takes:
named, with the ones they may be typos of, before anything is made."""

from __future__ import annotations

import difflib
import inspect
from typing import Iterable


def unknown_parameters(config) -> str | None:
    """What is wrong with parameters of ``annotate()`` that neither FiftyOne
    nor this backend takes (FiftyOne would store them with the run, unused:
    a mistyped ``existing_labels`` would send predictions without a word, a
    key given as ``token`` would be kept in the database), or None.

    Example:
        >>> from fiftyone_labelstudio.backend import LabelStudioBackendConfig
        >>> config = LabelStudioBackendConfig("labelstudio", {}, existing_label="annotations")
        >>> print(unknown_parameters(config))  # doctest: +ELLIPSIS
        annotate() got existing_label (did you mean existing_labels?), which the Label Studio backend does not take; ...
    """
    known = set(inspect.signature(type(config).__init__).parameters) - {"self", "kwargs"}
    # FiftyOne passes on the annotation config's config_cls when given another
    unknown = sorted(
        k for k in vars(config) if not k.startswith("_") and k not in known | {"config_cls"}
    )
    if not unknown:
        return None
    parameters = ", ".join(sorted(known - {"name", "label_schema"}))
    named = did_you_mean(unknown, known | set(_ANNOTATE_PARAMETERS))
    return (
        f"annotate() got {named}, which the Label Studio backend does not take; its "
        f"parameters are {parameters} (the key is api_key). Nothing was made."
    )


_ANNOTATE_PARAMETERS = (
    "label_field",
    "label_type",
    "classes",
    "attributes",
    "mask_targets",
    "allow_additions",
    "allow_deletions",
    "allow_label_edits",
    "allow_index_edits",
    "allow_spatial_edits",
    "launch_editor",
)
"""FiftyOne's own ``annotate()`` parameters: a typo of one reaches the backend."""

LOAD_PARAMETERS = (
    "dest_field",
    "unexpected",
    "cleanup",
    "annotation_choice",
    "full",
    "url",
    "api_key",
)
"""What a load takes (``full``: the plugin's ``load_annotations()`` only)."""


def unknown_load_parameters(unknown: Iterable[str]) -> str:
    """The error for parameters a load was given that it does not take
    (FiftyOne passes them on to the run's ``load_credentials()``).

    Example:
        >>> unknown_load_parameters(["full"])[:75]
        'full is a parameter of fiftyone_labelstudio.load_annotations(), which reads'
    """
    unknown = list(unknown)
    if "full" in unknown:  # only the plugin's own load reads just what changed
        return (
            "full is a parameter of fiftyone_labelstudio.load_annotations(), which reads only "
            "the tasks changed since the last load unless full=True; dataset.load_annotations() "
            "reads every task. Nothing was changed."
        )
    return (
        f"load_annotations() got {did_you_mean(unknown, LOAD_PARAMETERS)}, which it does not "
        f"take; its parameters are {', '.join(LOAD_PARAMETERS)}. Nothing was changed."
    )


def did_you_mean(unknown: Iterable[str], known: Iterable[str]) -> str:
    """The unknown names, each with the known one it may be a typo of.

    Example:
        >>> did_you_mean(["dest_feild", "token"], ["dest_field", "api_key"])
        'dest_feild (did you mean dest_field?), token'
    """
    known = sorted(known)
    named = []
    for name in unknown:
        guess = difflib.get_close_matches(name, known, 1)
        named.append(f"{name} (did you mean {guess[0]}?)" if guess else name)
    return ", ".join(named)

"""The layer on Label Studio's API and FiftyOne's annotation API: FiftyOne's
``"labelstudio"`` backend (``annotation_backend``, thin adapters), requests
(``request``: ``media``, ``tasks``, ``projects``), loads (``load``: ``loading``,
``merge``, ``dataset_io``), the connection (``client``) and run bookkeeping
(``runs``, ``run_lock``, ``orphans``)."""

from .annotation_backend import (
    LabelStudioAnnotationAPI,
    LabelStudioAnnotationResults,
    LabelStudioBackend,
    LabelStudioBackendConfig,
)
from .client import Connection, LabelStudioError
from .load import load_annotations

__all__ = [
    "Connection",
    "LabelStudioAnnotationAPI",
    "LabelStudioAnnotationResults",
    "LabelStudioBackend",
    "LabelStudioBackendConfig",
    "LabelStudioError",
    "load_annotations",
]

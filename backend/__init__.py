"""The layer that talks to Label Studio: FiftyOne's ``"labelstudio"`` annotation
backend (``annotation_backend``), the connection (``client``), projects,
media placement, task import and loading."""

from .annotation_backend import (
    LabelStudioAnnotationAPI,
    LabelStudioAnnotationResults,
    LabelStudioBackend,
    LabelStudioBackendConfig,
)
from .client import Connection, LabelStudioError

__all__ = [
    "Connection",
    "LabelStudioAnnotationAPI",
    "LabelStudioAnnotationResults",
    "LabelStudioBackend",
    "LabelStudioBackendConfig",
    "LabelStudioError",
]

"""The plugin's operators, one module each: thin forms over the same
functions the Python API calls."""

from .load_annotations import LoadAnnotations
from .manage_runs import ManageRuns
from .request_annotations import RequestAnnotations

OPERATORS = (RequestAnnotations, LoadAnnotations, ManageRuns)

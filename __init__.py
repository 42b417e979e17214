"""``fiftyone_labelstudio``: annotate FiftyOne datasets in Label Studio.

The repository is both the FiftyOne plugin ``@annotate/labelstudio`` and the
pip package ``fiftyone_labelstudio``, whose names are stable: FiftyOne records
them with every annotation run and re-imports them wherever the run is loaded.

- FiftyOne's annotation backend, for ``backend="labelstudio"``:
  ``fiftyone_labelstudio.LabelStudioBackendConfig`` (set it as the backend's
  ``config_cls``), ``LabelStudioBackend``, ``LabelStudioAnnotationResults``;
- :func:`annotate`, FiftyOne's ``annotate()`` that also takes temporal
  detections (which FiftyOne refuses);
- :func:`load_annotations`, the plugin's own (bulk, explicit) load;
- :func:`migrate_runs`, for runs recorded by version 0.1;
- ``register(plugin)``, the plugin's operators and panel, for the App.

Loaded by FiftyOne's plugin system under its own module name, this file
makes its directory importable as ``fiftyone_labelstudio`` and registers the
operators from there, so that the App, delegated workers and Python all use
one copy of every class, under the names runs record.
"""

import importlib
import importlib.util
import os

_PACKAGE = "fiftyone_labelstudio"
_DIR = os.path.dirname(os.path.abspath(__file__))
_EXPORTS = {
    "LabelStudioBackendConfig": "backend.annotation_backend",
    "LabelStudioBackend": "backend.annotation_backend",
    "LabelStudioAnnotationResults": "backend.annotation_backend",
    "annotate": "backend.annotate",
    "load_annotations": "backend.load",
    "migrate_runs": "legacy",
}


def _import_this_directory():
    """Makes this directory the package ``fiftyone_labelstudio`` (ahead of any
    pip-installed copy: the App runs the plugin it loaded)."""
    path = os.path.join(_DIR, "pythonpath", "fiftyone_labelstudio_plugin.py")
    spec = importlib.util.spec_from_file_location("_fiftyone_labelstudio_checkout", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.install(prefer_checkout=True)


if __name__ != _PACKAGE:
    _import_this_directory()
else:
    from . import legacy as _legacy

    _legacy.install()


def register(plugin):
    """Registers the plugin's operators and panel with FiftyOne."""
    operators = importlib.import_module(_PACKAGE + ".operators")
    panels = importlib.import_module(_PACKAGE + ".panels")
    for operator in operators.OPERATORS + panels.PANELS:
        plugin.register(operator)


def __getattr__(name):
    # the backend classes are imported when asked for, not with the package
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{_PACKAGE}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():  # tab completion lists what __getattr__ gives
    return sorted({*globals(), *_EXPORTS})


__all__ = sorted(_EXPORTS)

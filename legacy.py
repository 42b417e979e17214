"""Runs saved by version 0.1, which recorded the plugin's classes under the
module name FiftyOne gives the plugin in the App
(``fiftyone.plugins.orgs.annotate.labelstudio``), load with this version's
classes, and are rewritten to the stable names (``fiftyone_labelstudio``).

:func:`install` (done when the package is imported) maps the old module names
onto the package's modules, so FiftyOne finds the old classes' names in any
process that imported the package, or that runs the old setup's ``.pth``
hook (kept in ``pythonpath/``). :func:`migrate_runs` rewrites a dataset's old
runs so that they need neither.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys

PACKAGE = "fiftyone_labelstudio"
LEGACY = "fiftyone.plugins.orgs.annotate.labelstudio"
"""The package name FiftyOne gives this plugin (from ``@annotate/labelstudio``)."""


class _Alias(importlib.abc.Loader):
    """Loads a module name as another, already importable, module."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class LegacyNames(importlib.abc.MetaPathFinder):
    """Finds ``fiftyone.plugins.orgs.annotate.labelstudio.<module>`` as
    ``fiftyone_labelstudio.<module>`` (the same module object: one copy of
    every class), and the namespace packages above it outside the App."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(LEGACY + ".") or fullname == LEGACY:
            stable = PACKAGE + fullname[len(LEGACY) :]
            found = importlib.util.find_spec(stable)
            if found is None:
                return None
            is_package = found.submodule_search_locations is not None
            return importlib.machinery.ModuleSpec(fullname, _Alias(stable), is_package=is_package)
        if LEGACY.startswith(fullname + ".") and fullname.startswith("fiftyone.plugins."):
            return importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        return None


def install() -> None:
    """Puts :class:`LegacyNames` first on ``sys.meta_path``, once."""
    if not any(isinstance(finder, LegacyNames) for finder in sys.meta_path):
        sys.meta_path.insert(0, LegacyNames())


def legacy_name(class_name: str | None) -> bool:
    """Whether a recorded class name is one of version 0.1's.

    Example:
        >>> legacy_name("fiftyone.plugins.orgs.annotate.labelstudio.backend.x.Config")
        True
    """
    return bool(class_name) and class_name.startswith(LEGACY + ".")


def migrate_runs(dataset) -> list[str]:
    """Rewrites the dataset's runs recorded by version 0.1 under the stable
    class names; returns their keys. Labels and projects are not touched."""
    import fiftyone.core.annotation as foan

    install()
    migrated = []
    for key in dataset.list_annotation_runs():
        doc = foan.AnnotationMethod._get_run_doc(dataset, key)
        if not legacy_name((doc.config or {}).get("cls")):
            continue
        info = dataset.get_annotation_info(key)
        foan.AnnotationMethod.update_run_config(dataset, key, info.config)
        results = dataset.load_annotation_results(key, cache=False)
        if results is not None:
            type(results.backend).save_run_results(dataset, key, results, cache=False)
        migrated.append(key)
    return migrated

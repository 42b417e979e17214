"""Imports this plugin under the name FiftyOne gives it, in any Python process.

FiftyOne loads the plugin as ``fiftyone.plugins.orgs.annotate.labelstudio``, and
an annotation run records its classes by that name and re-imports them wherever
the run is loaded. Outside the App that name exists only once something made
it: this finder does, from the plugin directory this file lives in. A ``.pth``
file written by ``register_backend.py`` installs it at interpreter start; it
costs nothing until that name is imported.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

PACKAGE = "fiftyone.plugins.orgs.annotate.labelstudio"
PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class PluginFinder(importlib.abc.MetaPathFinder):
    """Finds the plugin package and the namespace packages above it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == PACKAGE:
            init = os.path.join(PLUGIN_DIR, "__init__.py")
            return importlib.util.spec_from_file_location(fullname, init)
        if fullname.startswith("fiftyone.plugins.") and PACKAGE.startswith(fullname + "."):
            return importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        return None


def install():
    """Adds the finder to ``sys.meta_path`` once."""
    if not any(isinstance(finder, PluginFinder) for finder in sys.meta_path):
        sys.meta_path.append(PluginFinder())


install()

"""Makes a plugin directory importable as the package ``fiftyone_labelstudio``,
with the module names version 0.1 recorded in runs mapped onto it.

Used by the plugin's ``__init__.py`` when FiftyOne loads the plugin (the
plugin directory wins over a pip-installed copy), and by the ``.pth`` file
that version 0.1's setup line wrote into environments (it imports this
module at interpreter start; there a pip-installed copy wins). Standard
library only, and nothing heavy is imported.
"""

import importlib
import importlib.abc
import importlib.util
import os
import sys

PACKAGE = "fiftyone_labelstudio"
PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CheckoutFinder(importlib.abc.MetaPathFinder):
    """Finds the package ``fiftyone_labelstudio`` in the plugin directory;
    its submodules follow from the package's ``__path__``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != PACKAGE:
            return None
        return importlib.util.spec_from_file_location(
            PACKAGE,
            os.path.join(PLUGIN_DIR, "__init__.py"),
            submodule_search_locations=[PLUGIN_DIR],
        )


def install(prefer_checkout=False):
    """Makes ``fiftyone_labelstudio`` importable from the plugin directory
    (unless a pip-installed copy is, and ``prefer_checkout`` is False), and
    version 0.1's module names loadable."""
    if PACKAGE not in sys.modules and not any(
        isinstance(finder, CheckoutFinder) for finder in sys.meta_path
    ):
        if prefer_checkout or importlib.util.find_spec(PACKAGE) is None:
            sys.meta_path.insert(0, CheckoutFinder())
    importlib.import_module(PACKAGE)  # its import maps version 0.1's names


if __name__ == "fiftyone_labelstudio_plugin":  # imported by version 0.1's .pth file
    install()

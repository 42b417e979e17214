"""Makes ``backend="labelstudio"`` this plugin's backend in a Python environment.

Run once with the environment's Python (the README's one setup line)::

    python register_backend.py

1. Writes ``fiftyone_labelstudio_plugin.pth`` into the environment's
   site-packages: every Python process then imports this plugin under the
   name FiftyOne gives it, so annotation runs, which record the plugin's
   classes by that name, load anywhere (see ``pythonpath/``).
2. Sets ``backends.labelstudio.config_cls`` in FiftyOne's annotation config
   (``FIFTYONE_ANNOTATION_CONFIG_PATH``, default
   ``~/.fiftyone/annotation_config.json``), keeping everything else in it.
"""

import json
import os
import sys
import sysconfig

PLUGIN_DIR = os.path.dirname(os.path.abspath(__file__))
CONFIG_CLS = (
    "fiftyone.plugins.orgs.annotate.labelstudio.backend.annotation_backend.LabelStudioBackendConfig"
)
PTH_NAME = "fiftyone_labelstudio_plugin.pth"


def install_import_hook(site_packages=None):
    """Writes the ``.pth`` file; returns its path."""
    site_packages = site_packages or sysconfig.get_paths()["purelib"]
    path = os.path.join(site_packages, PTH_NAME)
    with open(path, "w") as f:
        f.write(os.path.join(PLUGIN_DIR, "pythonpath") + "\n")
        f.write("import fiftyone_labelstudio_plugin\n")
    return path


def annotation_config_path():
    """FiftyOne's annotation config file, as FiftyOne locates it."""
    default = os.path.join(os.path.expanduser("~"), ".fiftyone", "annotation_config.json")
    return os.environ.get("FIFTYONE_ANNOTATION_CONFIG_PATH", default)


def register_config_cls(path=None):
    """Points FiftyOne's ``labelstudio`` backend at this plugin; returns the path."""
    path = path or annotation_config_path()
    config = {}
    if os.path.isfile(path):
        with open(path) as f:
            config = json.load(f)
    backend = config.setdefault("backends", {}).setdefault("labelstudio", {})
    backend["config_cls"] = CONFIG_CLS
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(config, f, indent=4)
    return path


if __name__ == "__main__":
    print(f"import hook: {install_import_hook()}")
    print(f"annotation config: {register_config_cls()} (labelstudio -> {CONFIG_CLS})")
    sys.exit(0)

"""Test session set-up: the plugin importable under FiftyOne's name for it."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "pythonpath"))

import fiftyone_labelstudio_plugin  # noqa: E402,F401  (installs the import hook)

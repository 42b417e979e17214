"""The plugin's panel: the Label Studio connection and this dataset's runs."""

from .labelstudio_panel import LabelStudioPanel

PANELS = (LabelStudioPanel,)

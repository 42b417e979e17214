"""FiftyOne plugin ``@annotate/labelstudio``: annotate FiftyOne datasets in Label Studio."""

from .operators import OPERATORS
from .panels import PANELS


def register(plugin):
    """Registers the plugin's operators and panel with FiftyOne."""
    for operator in OPERATORS + PANELS:
        plugin.register(operator)

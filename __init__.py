"""FiftyOne plugin ``@annotate/labelstudio``: annotate FiftyOne datasets in Label Studio."""


def register(plugin):
    """Registers the plugin's operators and panel with FiftyOne."""

"""Every docstring example of the package runs, as a doctest."""

import doctest
import importlib
import os
import pkgutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "fiftyone_labelstudio"


def modules():
    names = [PACKAGE, f"{PACKAGE}.legacy"]
    for subpackage in ("backend", "conversions", "operators", "panels"):
        names.append(f"{PACKAGE}.{subpackage}")
        path = os.path.join(ROOT, subpackage)
        names += [f"{PACKAGE}.{subpackage}.{m.name}" for m in pkgutil.iter_modules([path])]
    return names


@pytest.mark.parametrize("name", modules())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert failures == 0, f"{failures} docstring examples of {name} failed (see the output above)"


def test_the_examples_are_many():
    found = sum(
        len(test.examples)
        for name in modules()
        for test in doctest.DocTestFinder().find(importlib.import_module(name))
    )
    assert found >= 60, found

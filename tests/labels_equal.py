"""Exact comparison of FiftyOne labels for tests: same ids, floats equal to
1e-9, masks bit-exact with the same shape and dtype; an attribute that is None
counts as absent, as FiftyOne reads it."""

import math

import numpy as np

TOLERANCE = 1e-9


def assert_values_equal(actual, expected, path="value"):
    """Asserts two field values (labels, label lists, scalars) are equal."""
    if hasattr(expected, "to_dict") and hasattr(expected, "iter_fields"):
        assert type(actual) is type(expected), f"{path}: {type(actual)} != {type(expected)}"
        # an attribute that is None is as good as absent (FiftyOne reads both as None)
        actual_fields = {k: v for k, v in actual.iter_fields() if v is not None}
        expected_fields = {k: v for k, v in expected.iter_fields() if v is not None}
        assert actual_fields.keys() == expected_fields.keys(), (
            f"{path}: fields {sorted(actual_fields)} != {sorted(expected_fields)}"
        )
        for name, value in expected_fields.items():
            assert_values_equal(actual_fields[name], value, f"{path}.{name}")
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), f"{path}: {type(actual)} is not an array"
        assert actual.dtype == expected.dtype, f"{path}: dtype {actual.dtype} != {expected.dtype}"
        assert actual.shape == expected.shape, f"{path}: shape {actual.shape} != {expected.shape}"
        assert np.array_equal(actual, expected), f"{path}: mask pixels differ"
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), (
            f"{path}: {actual!r} != {expected!r}"
        )
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_values_equal(a, e, f"{path}[{i}]")
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), (
            f"{path}: keys {list(actual)} != {list(expected)}"
        )
        for key, value in expected.items():
            assert_values_equal(actual[key], value, f"{path}[{key!r}]")
    elif isinstance(expected, float) and not isinstance(actual, bool):
        assert isinstance(actual, (int, float)), f"{path}: {actual!r} is not a number"
        if math.isnan(expected):
            assert math.isnan(actual), f"{path}: {actual!r} is not NaN"
        else:
            assert abs(actual - expected) <= TOLERANCE, f"{path}: {actual!r} != {expected!r}"
    else:
        assert type(actual) is type(expected) and actual == expected, (
            f"{path}: {actual!r} != {expected!r}"
        )

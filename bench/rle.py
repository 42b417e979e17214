"""Benchmark conversions.rle against the Label Studio SDK's brush codec.

Run from the repository root: ``.venv/bin/python bench/rle.py``. Times are
medians over ``repeats`` samples; each sample averages as many calls as fit in
about 0.2 s (at least one), after one untimed call whose result is checked to
be bit-exact with the SDK's.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from label_studio_sdk.converter import brush
from PIL import Image, ImageDraw

if not __package__:  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conversions.rle import decode_rle, mask_to_rle  # noqa: E402

HEIGHT, WIDTH = 1080, 1920


def shapes_mask() -> np.ndarray:
    """A mask as annotators draw them: a few filled ellipses and polygons."""
    image = Image.new("1", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    draw.ellipse([200, 150, 700, 600], fill=1)
    draw.ellipse([1000, 300, 1500, 900], fill=1)
    draw.ellipse([1600, 700, 1700, 760], fill=1)
    draw.polygon([(100, 800), (600, 700), (800, 1050), (300, 1000)], fill=1)
    draw.polygon([(1300, 50), (1800, 100), (1700, 400), (1550, 250)], fill=1)
    return np.array(image, dtype=bool)


def noise_mask() -> np.ndarray:
    """The worst case: a run boundary at about every other pixel."""
    return np.random.default_rng(0).random((HEIGHT, WIDTH)) < 0.5


def _timed(function: Callable[[Any], Any], argument: Any, repeats: int) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function(argument)
    number = max(1, int(0.2 / (time.perf_counter() - start)))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            function(argument)
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples), result


def run(repeats: int = 3) -> list[dict]:
    """Times encode and decode of both masks; rows of name, sdk, ours (seconds), ratio."""
    rows = []
    for label, mask in (("shapes", shapes_mask()), ("noise", noise_mask())):
        sdk_encode, sdk_rle = _timed(brush.mask2rle, mask.astype(np.uint8) * 255, repeats)
        our_encode, our_rle = _timed(mask_to_rle, mask, repeats)
        if our_rle != sdk_rle:
            raise AssertionError(f"{label}: mask_to_rle differs from brush.mask2rle")
        sdk_decode, sdk_values = _timed(brush.decode_rle, sdk_rle, repeats)
        our_decode, our_values = _timed(decode_rle, sdk_rle, repeats)
        if not np.array_equal(our_values, sdk_values):
            raise AssertionError(f"{label}: decode_rle differs from brush.decode_rle")
        for operation, sdk, ours in (
            ("encode", sdk_encode, our_encode),
            ("decode", sdk_decode, our_decode),
        ):
            rows.append(
                {
                    "name": f"{operation} {label} {WIDTH}x{HEIGHT} ({len(sdk_rle)} B)",
                    "sdk": sdk,
                    "ours": ours,
                    "ratio": sdk / ours,
                }
            )
    return rows


if __name__ == "__main__":
    rows = run()
    width = max(len(row["name"]) for row in rows)
    print(f"{'case':<{width}}  {'sdk (ms)':>10}  {'ours (ms)':>10}  {'ratio':>7}")
    for row in rows:
        print(
            f"{row['name']:<{width}}  {row['sdk'] * 1e3:>10.2f}  "
            f"{row['ours'] * 1e3:>10.3f}  {row['ratio']:>6.1f}x"
        )

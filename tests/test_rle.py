"""conversions.rle against the Label Studio SDK's reference codec (brush.py).

The SDK walks bit strings in pure Python, so comparisons on big arrays are kept
few; everything else uses small arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
from fiftyone_labelstudio.conversions.rle import (
    decode_rle,
    encode_rle,
    mask_to_rle,
    rle_to_mask,
)
from label_studio_sdk.converter import brush
from PIL import Image, ImageDraw

SIZES = [(7, 5), (101, 53), (333, 1), (1, 333), (1, 1), (64, 64)]


def shapes_mask(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A mask as annotators draw them: filled ellipses and polygons, a thin line."""
    rng = np.random.default_rng(seed)
    image = Image.new("1", (width, height))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y = rng.integers(0, width), rng.integers(0, height)
        draw.ellipse(
            [x, y, x + rng.integers(1, width // 2 + 2), y + rng.integers(1, height // 2 + 2)],
            fill=1,
        )
        draw.polygon(
            [(int(rng.integers(0, width)), int(rng.integers(0, height))) for _ in range(5)], fill=1
        )
    draw.line([(0, height - 1), (width - 1, 0)], fill=1, width=1)
    return np.array(image, dtype=bool)


def masks(height: int, width: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(height * 1000 + width)
    line = np.zeros((height, width), dtype=bool)
    line[height // 2, :] = True
    line[:, width // 3] = True
    return {
        "empty": np.zeros((height, width), dtype=bool),
        "full": np.ones((height, width), dtype=bool),
        "noise": rng.random((height, width)) < 0.5,
        "sparse": rng.random((height, width)) < 0.02,
        "shapes": shapes_mask(height, width),
        "lines": line,
    }


class Bits:
    """A minimal MSB-first bit writer, to build RLEs the SDK encoder never makes."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, value: int, width: int) -> Bits:
        assert 0 <= value < 2**width
        self.text += format(value, f"0{width}b")
        return self

    def to_bytes(self) -> list[int]:
        text = self.text + "0" * (-len(self.text) % 8)  # the editor pads to the byte only
        return [int(text[i : i + 8], 2) for i in range(0, len(text), 8)]


def repeat(count: int, word: int) -> tuple[int, int, list[int]]:
    return 1, count, [word]


def literal(*words: int) -> tuple[int, int, list[int]]:
    return 0, len(words), list(words)


def build_rle(blocks, word_size=8, sizes=(3, 4, 8, 16), num=None, size_class=None) -> list[int]:
    """Writes blocks in the first size class that holds their count (or in `size_class`)."""
    bits = Bits().write(sum(count for _, count, _ in blocks) if num is None else num, 32)
    bits.write(word_size - 1, 5)
    for size in sizes:
        bits.write(size - 1, 4)
    for flag, count, words in blocks:
        cls = (
            size_class
            if size_class is not None
            else next(c for c, s in enumerate(sizes) if count <= 2**s)
        )
        bits.write(flag, 1).write(cls, 2).write(count - 1, sizes[cls])
        for word in words:
            bits.write(word, word_size)
    return bits.to_bytes()


# --- encoding ---------------------------------------------------------------


@pytest.mark.parametrize("height, width", SIZES)
def test_mask_to_rle_matches_sdk(height, width):
    for name, mask in masks(height, width).items():
        expected = brush.mask2rle(mask.astype(np.uint8) * 255)
        assert mask_to_rle(mask) == expected, name
        assert mask_to_rle(mask.astype(np.uint8)) == expected, name  # 0/1 masks too


def test_mask_to_rle_matches_sdk_at_full_hd():
    mask = shapes_mask(1080, 1920, seed=3)
    rle = mask_to_rle(mask)
    assert rle == brush.mask2rle(mask.astype(np.uint8) * 255)
    assert np.array_equal(decode_rle(rle), brush.decode_rle(rle))


def test_encode_matches_sdk_on_arbitrary_values():
    rng = np.random.default_rng(1)
    for trial in range(200):
        n = int(rng.integers(1, 600))
        values = rng.integers(0, 256, n)
        if trial % 2:  # runs of every length class
            values = np.repeat(values, rng.integers(1, 300, n))
        values = values.astype(np.uint8)
        assert encode_rle(values) == brush.encode_rle(values), trial


@pytest.mark.parametrize(
    "length", [1, 2, 8, 9, 16, 17, 256, 257, 65535, 65536, 65537, 131072, 131073, 200_000]
)
def test_encode_splits_long_runs_as_the_sdk(length):
    # A run is classed by its whole length, then cut into 2**16-long pieces and
    # a rest that keep that class: 65537 ends with a 16-bit piece of length 1.
    values = np.concatenate(([3], np.full(length, 200), [3, 4])).astype(np.uint8)
    rle = encode_rle(values)
    assert rle == brush.encode_rle(values)
    assert np.array_equal(decode_rle(rle), values)


def test_long_runs_of_a_full_mask_and_a_flat_array():
    full = np.ones((400, 400), dtype=bool)  # one run of 640000 values
    assert mask_to_rle(full) == brush.mask2rle(full.astype(np.uint8) * 255)
    flat = np.full(200_000, 77, dtype=np.uint8)
    rle = encode_rle(flat)
    assert rle == brush.encode_rle(flat)
    assert np.array_equal(decode_rle(rle), brush.decode_rle(rle))


def test_padding_is_a_whole_byte_when_bits_fill_the_last_one():
    # header 53 bits + one 27-bit block (a run of 300) = 80 bits, already bytes
    values = np.full(300, 9, dtype=np.uint8)
    rle = encode_rle(values)
    assert rle == brush.encode_rle(values)
    assert len(rle) == 80 // 8 + 1 and rle[-1] == 0


def test_encode_accepts_lists_bools_and_empty_arrays():
    assert encode_rle([0, 0, 0, 255]) == brush.encode_rle(np.array([0, 0, 0, 255], dtype=np.uint8))
    flags = np.array([True, False, False])
    assert encode_rle(flags) == brush.encode_rle(flags)
    # the SDK fails on empty input; an empty RLE is just the header
    assert decode_rle(encode_rle(np.zeros(0, dtype=np.uint8))).size == 0
    assert brush.decode_rle(encode_rle(np.zeros(0, dtype=np.uint8))).size == 0


@pytest.mark.parametrize(
    "values", [np.array([256]), np.array([-1]), np.array([[1, 2]]), np.array([0.5]), [300]]
)
def test_encode_rejects_what_is_not_flat_uint8(values):
    with pytest.raises(ValueError):
        encode_rle(values)


def test_mask_to_rle_rejects_non_2d():
    with pytest.raises(ValueError, match="2D"):
        mask_to_rle(np.zeros(10, dtype=bool))


def test_mask_to_rle_counts_nonzero_as_set():
    mask = np.array([[0, 1, 2], [255, 0, 7]], dtype=np.uint8)
    assert mask_to_rle(mask) == mask_to_rle(mask != 0)


# --- decoding ---------------------------------------------------------------


@pytest.mark.parametrize("height, width", SIZES)
def test_decode_matches_sdk(height, width):
    for name, mask in masks(height, width).items():
        rle = brush.mask2rle(mask.astype(np.uint8) * 255)
        decoded = decode_rle(rle)
        assert decoded.dtype == np.uint8
        assert np.array_equal(decoded, brush.decode_rle(rle)), name
        assert np.array_equal(rle_to_mask(rle, height, width), mask), name


def test_decode_accepts_bytes_lists_and_arrays():
    rle = mask_to_rle(shapes_mask(31, 17))
    expected = brush.decode_rle(rle)
    for form in (
        rle,
        tuple(rle),
        bytes(rle),
        bytearray(rle),
        np.array(rle),
        np.array(rle, dtype=np.uint8),
    ):
        assert np.array_equal(decode_rle(form), expected)


def test_decode_literal_blocks_as_the_editor_writes_them():
    rle = build_rle(
        [
            literal(1, 2, 3),
            repeat(5, 255),
            literal(*range(10, 30)),  # 20 words: a class-2 literal block
            literal(7),
            repeat(300, 0),
            literal(*range(256), *range(44)),  # 300 words: class 3
            repeat(2, 9),
        ]
    )
    expected = brush.decode_rle(rle)
    assert np.array_equal(decode_rle(rle), expected)
    assert expected[:8].tolist() == [1, 2, 3, 255, 255, 255, 255, 255]


def test_decode_blocks_in_larger_classes_than_needed():
    rle = build_rle([repeat(1, 4), literal(5, 6), repeat(3, 7)], size_class=3)
    assert np.array_equal(decode_rle(rle), brush.decode_rle(rle))
    assert decode_rle(rle).tolist() == [4, 5, 6, 7, 7, 7]


@pytest.mark.parametrize("word_size", [1, 3, 8, 9, 16, 32])
@pytest.mark.parametrize("sizes", [(3, 4, 8, 16), (1, 2, 3, 4), (16, 16, 16, 16), (5, 1, 12, 2)])
def test_decode_honours_the_header(word_size, sizes):
    rng = np.random.default_rng(word_size * 100 + sum(sizes))
    top = min(2**word_size, 256)  # the SDK decodes into uint8
    longest = 2 ** max(sizes)
    blocks = []
    for _ in range(40):
        count = int(rng.integers(1, min(longest, 40) + 1))
        if rng.random() < 0.5:
            blocks.append(repeat(count, int(rng.integers(0, top))))
        else:
            blocks.append(literal(*rng.integers(0, top, count).tolist()))
    rle = build_rle(blocks, word_size, sizes)
    expected = brush.decode_rle(rle)
    assert np.array_equal(decode_rle(rle), expected)


def test_decode_random_block_streams():
    rng = np.random.default_rng(11)
    for trial in range(300):
        word_size = int(rng.integers(1, 33))
        sizes = tuple(int(s) for s in rng.integers(1, 17, 4))
        top = min(2**word_size, 256)
        blocks = []
        for _ in range(int(rng.integers(1, 12))):
            count = int(rng.integers(1, min(2 ** max(sizes), 70) + 1))
            if rng.random() < 0.5:
                blocks.append(repeat(count, int(rng.integers(0, top))))
            else:
                blocks.append(literal(*rng.integers(0, top, count).tolist()))
        rle = build_rle(blocks, word_size, sizes)
        assert np.array_equal(decode_rle(rle), brush.decode_rle(rle)), trial


def test_decode_ignores_bytes_after_the_declared_values():
    rle = mask_to_rle(shapes_mask(20, 20))
    padded = rle + [0xFF, 0x12, 0x00]
    assert np.array_equal(decode_rle(padded), brush.decode_rle(padded))


def test_decode_of_an_empty_declared_length():
    assert decode_rle(build_rle([], num=0)).size == 0


def test_rle_to_mask_thresholds_alpha_at_128():
    alpha = np.array([0, 1, 127, 128, 129, 254, 255, 200], dtype=np.uint8)
    rgba = np.zeros((2, 4, 4), dtype=np.uint8)
    rgba[..., :3] = 255 - alpha.reshape(2, 4, 1)  # colour must not matter
    rgba[..., 3] = alpha.reshape(2, 4)
    rle = encode_rle(rgba.ravel())
    assert rle_to_mask(rle, 2, 4).tolist() == [
        [False, False, False, True],
        [True, True, True, True],
    ]


# --- errors -----------------------------------------------------------------


def test_truncated_rle_raises():
    rle = mask_to_rle(shapes_mask(40, 30))
    # At most one byte of the SDK's output is padding, so anything shorter
    # cuts into the data.
    for length in range(len(rle) - 1):
        with pytest.raises(ValueError):
            decode_rle(rle[:length])


def test_truncated_literal_block_raises():
    rle = build_rle([repeat(4, 1), literal(*range(30))])
    with pytest.raises(ValueError, match="truncated"):
        decode_rle(rle[:-3])


def test_header_only_rle_raises():
    with pytest.raises(ValueError, match="header"):
        decode_rle([0, 0, 0, 4, 57])


def test_declared_length_not_reached_raises():
    blocks = [repeat(5, 1), literal(2, 3)]
    with pytest.raises(ValueError, match="truncated"):
        decode_rle(build_rle(blocks, num=8))
    with pytest.raises(ValueError, match="truncated"):  # no giant allocation either
        decode_rle(build_rle(blocks, num=2**32 - 1))


def test_block_past_the_declared_length_raises():
    # The SDK silently clips a repeat block here; it cannot come from a valid encoder.
    with pytest.raises(ValueError, match="past the declared"):
        decode_rle(build_rle([repeat(10, 1)], num=5))
    with pytest.raises(ValueError, match="past the declared"):
        decode_rle(build_rle([literal(1, 2, 3)], num=2))


def test_values_too_wide_for_uint8_raise():
    with pytest.raises(ValueError, match="above 255"):
        decode_rle(build_rle([repeat(3, 256)], word_size=16))
    with pytest.raises(ValueError, match="above 255"):
        decode_rle(build_rle([literal(1, 4000)], word_size=12))


@pytest.mark.parametrize("rle", [[1, 2, 256, 0, 0, 0, 0, 0], [-1] * 8, np.zeros((2, 8)), ["a"] * 8])
def test_decode_rejects_what_is_not_bytes(rle):
    with pytest.raises(ValueError):
        decode_rle(rle)


def test_rle_to_mask_with_wrong_size_names_both():
    rle = mask_to_rle(np.ones((101, 53), dtype=bool))
    with pytest.raises(ValueError, match="21412 values, but a 53x102 RGBA mask needs 21624"):
        rle_to_mask(rle, 53, 102)

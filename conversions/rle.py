"""Label Studio brush RLE, vectorized with numpy.

Label Studio stores a brush mask as its RGBA pixels (4 values per pixel) packed
with the bit format of thi.ng's ``rle-pack``, all fields big-endian:

- header: value count (32 bits), word size - 1 (5 bits), then four run-length
  field sizes - 1 (4 bits each)
- then blocks until the count is reached: a repeat flag (1 bit), a size class
  (2 bits), count - 1 (in as many bits as that class's field size), then one
  word repeated ``count`` times (flag set) or ``count`` literal words (flag clear)

The encoder matches ``label_studio_sdk.converter.brush.encode_rle`` byte for
byte, quirks included; the decoder reads anything that format allows, including
the literal blocks and custom headers that the Label Studio editor writes.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

_RLE_SIZES = (3, 4, 8, 16)
_SIZES = np.array(_RLE_SIZES, dtype=np.uint64)
_CLASS_LIMITS = np.array([2**s for s in _RLE_SIZES[:3]])  # longest run of classes 0-2
_HEADER_BITS = 32 + 5 + 4 * 4
# word size - 1 and run-length field sizes - 1, the header after the count
_HEADER_TAIL = (8 - 1) << 16 | sum((s - 1) << (12 - 4 * k) for k, s in enumerate(_RLE_SIZES))
_MAX_RUN = 1 << 16
# Bytes read from each byte on: a block's header (3 + 16 bits) and a word (32
# bits), starting at any bit of that byte (+7), fit in 64 bits.
_WINDOW = 8


def encode_rle(values: np.ndarray) -> list[int]:
    """Encodes a flat array of uint8 values as Label Studio RLE bytes.

    Identical to ``brush.encode_rle(values)`` (word size 8, run sizes 3, 4, 8, 16);
    an empty array, on which the SDK fails, gives the header alone.

    Example:
        >>> encode_rle(np.array([0, 0, 0, 255], dtype=np.uint8))
        [0, 0, 0, 4, 57, 27, 252, 64, 0, 127, 128]
    """
    values = _as_uint8(values, "values")
    starts = _run_starts(values)
    lengths = np.diff(starts, append=values.size)
    return _encode_runs(values.size, lengths, values[starts])


def decode_rle(rle: Sequence[int] | bytes | np.ndarray) -> np.ndarray:
    """Decodes Label Studio RLE bytes into a flat uint8 array.

    Identical to ``brush.decode_rle(rle)`` for any well-formed RLE; raises
    ``ValueError`` for truncated or corrupt data.

    Example:
        >>> decode_rle([0, 0, 0, 4, 57, 27, 252, 64, 0, 127, 128]).tolist()
        [0, 0, 0, 255]
    """
    data = _as_uint8(rle, "rle")
    num, word_size, sizes = _read_header(data)
    if num == 0:
        return np.zeros(0, dtype=np.uint8)
    padded = np.concatenate((data, np.zeros(_WINDOW, dtype=np.uint8)))
    starts, ends = _block_bounds(padded, data.size * 8, word_size, sizes)

    window = _windows_at(padded, starts)
    size = sizes[(window >> np.uint64(61)) & np.uint64(3)]
    counts = ((window << np.uint64(3)) >> (64 - size).astype(np.uint64)).astype(np.int64) + 1
    filled = np.cumsum(counts)
    last = int(np.searchsorted(filled, num))
    if last == filled.size or ends[last] > data.size * 8:
        raise ValueError(
            f"RLE is truncated: it declares {num} values but its {data.size} bytes "
            "end before they are all decoded"
        )
    if filled[last] > num:
        raise ValueError(
            f"RLE is corrupt: a block runs to value {filled[last]}, past the declared {num}"
        )
    blocks = slice(0, last + 1)  # the walk also parsed the padding
    repeat = window[blocks] >> np.uint64(63) == 1
    counts, filled = counts[blocks], filled[blocks]
    first_word = starts[blocks] + 3 + size[blocks]

    values = _windows_at(padded, first_word) >> np.uint64(64 - word_size)
    literal = np.flatnonzero(~repeat)
    lengths = counts[literal]
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    at = np.repeat(filled[literal] - lengths, lengths) + offsets
    words = _windows_at(padded, np.repeat(first_word[literal], lengths) + offsets * word_size)
    words >>= np.uint64(64 - word_size)
    if max(values[repeat].max(initial=0), words.max(initial=0)) > 255:
        raise ValueError(f"RLE holds a {word_size}-bit value above 255, which uint8 cannot hold")

    out = np.repeat(values.astype(np.uint8), counts)
    out[at] = words
    return out


def mask_to_rle(mask: np.ndarray) -> list[int]:
    """Encodes a 2D mask as Label Studio brush RLE (RGBA, every channel 255 where set).

    Nonzero pixels are set. For a boolean or 0/1 mask the result is identical to
    ``brush.mask2rle(mask.astype(np.uint8) * 255)``.

    Example:
        >>> mask = np.zeros((1080, 1920), dtype=bool)
        >>> mask[100:200, 300:500] = True
        >>> rle = mask_to_rle(mask)
        >>> np.array_equal(rle_to_mask(rle, 1080, 1920), mask)
        True
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2D, got shape {mask.shape}")
    pixels = mask.astype(bool, copy=False).ravel()
    # Runs of pixels are runs of RGBA values four times as long, so the
    # 4x larger channel array never needs to exist.
    starts = _run_starts(pixels)
    lengths = np.diff(starts, append=pixels.size) * 4
    return _encode_runs(pixels.size * 4, lengths, pixels[starts].astype(np.uint8) * 255)


def rle_to_mask(rle: Sequence[int] | bytes | np.ndarray, height: int, width: int) -> np.ndarray:
    """Decodes Label Studio brush RLE into a ``(height, width)`` boolean mask.

    A pixel is set where its alpha is at least 128: the editor anti-aliases
    stroke edges, and a pixel at least half covered belongs to the mask.

    Example:
        >>> mask = rle_to_mask(mask_to_rle(np.eye(4, dtype=bool)), 4, 4)
        >>> mask.shape, mask.dtype.name, int(mask.sum())
        ((4, 4), 'bool', 4)
    """
    values = decode_rle(rle)
    if values.size != height * width * 4:
        expected = height * width * 4
        raise ValueError(
            f"RLE holds {values.size} values, but a {height}x{width} RGBA mask needs {expected}"
        )
    return (values[3::4] >= 128).reshape(height, width)


def _as_uint8(array: Sequence[int] | bytes | np.ndarray, name: str) -> np.ndarray:
    if isinstance(array, (list, tuple)):
        try:
            array = bytes(array)  # a JSON list of ints converts ~5x faster this way
        except (TypeError, ValueError):
            raise ValueError(f"{name} must hold integers in 0..255") from None
    if isinstance(array, (bytes, bytearray, memoryview)):
        return np.frombuffer(array, dtype=np.uint8)
    array = np.asarray(array)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.dtype == np.uint8 or array.size == 0:
        return array.astype(np.uint8, copy=False)
    if array.dtype.kind not in "biu" or array.min() < 0 or array.max() > 255:
        raise ValueError(f"{name} must hold integers in 0..255")
    return array.astype(np.uint8)


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Where runs of equal values begin, for one-byte values."""
    size = values.size
    changed = np.empty(-(-size // 8) * 8, dtype=bool)
    changed[:1] = True
    changed[size:] = False
    np.not_equal(values[1:], values[:-1], out=changed[1:size])
    # Changes are sparse in masks: find the 8-byte words holding any, then
    # look inside those only (~1.5x faster than one flatnonzero over all).
    words = changed.view(np.uint64)
    hot = np.flatnonzero(words != 0)
    inside = np.flatnonzero(words[hot].view(bool))
    return hot[inside >> 3] * 8 + (inside & 7)


def _encode_runs(num: int, lengths: np.ndarray, values: np.ndarray) -> list[int]:
    if num >= 1 << 32:
        raise ValueError(f"{num} values do not fit the 32-bit count of the RLE header")
    # The SDK picks a run's size class and repeat flag from the whole run and
    # only then cuts runs over 2**16 into 2**16-long pieces plus the rest, all
    # keeping them: a 65537-long run ends with a class-3 piece of length 1.
    head = (lengths > 1) * 4 + np.searchsorted(_CLASS_LIMITS, lengths)
    pieces = (lengths - 1) // _MAX_RUN + 1
    if pieces.max(initial=1) > 1:
        head, values = np.repeat(head, pieces), np.repeat(values, pieces)
        last = np.cumsum(pieces) - 1
        piece_lengths = np.full(last[-1] + 1, _MAX_RUN)
        piece_lengths[last] = lengths - (pieces - 1) * _MAX_RUN
        lengths = piece_lengths
    field = _SIZES[head & 3]
    codes = (head.astype(np.uint64) << field | (lengths - 1).astype(np.uint64)) << np.uint64(8)
    codes |= values.astype(np.uint64)
    header = np.array([num, _HEADER_TAIL], dtype=np.uint64)
    widths = np.concatenate(([32, _HEADER_BITS - 32], field.astype(np.int64) + 11))
    return list(_pack(np.concatenate((header, codes)), widths).tobytes())


def _pack(codes: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Concatenates codes of the given widths (at most 64 bits) into bytes, first bit highest."""
    ends = np.cumsum(widths)
    word = (ends - 1) >> 6
    shift = ((-ends) & 63).astype(np.uint64)
    # Every 64-bit word holds the ends of one or more codes, ORed together; the
    # first of them may have begun in the word before.
    firsts = np.flatnonzero(np.diff(word, prepend=-1))
    words = np.zeros(int(ends[-1]) // 64 + 1, dtype=np.uint64)
    words[word[firsts]] = np.bitwise_or.reduceat(codes << shift, firsts)
    spilled = firsts[1:]
    # x >> (64 - shift) in two steps, as shifting by 64 is undefined
    words[word[spilled] - 1] |= codes[spilled] >> np.uint64(1) >> (np.uint64(63) - shift[spilled])
    # The SDK pads with 8 - bits % 8 zeros, a whole zero byte when the bits
    # already fill their last byte: bits // 8 + 1 bytes in every case.
    return words.astype(">u8").view(np.uint8)[: int(ends[-1]) // 8 + 1]


def _read_header(data: np.ndarray) -> tuple[int, int, np.ndarray]:
    """The value count, word size and the four run-length field sizes."""
    if data.size * 8 < _HEADER_BITS:
        raise ValueError(f"RLE of {data.size} bytes is shorter than its 7-byte header")
    header = int.from_bytes(data[:7].tobytes(), "big")
    sizes = np.array([((header >> shift) & 15) + 1 for shift in (15, 11, 7, 3)])
    return header >> 24, ((header >> 19) & 31) + 1, sizes


def _windows_at(padded: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """The 64 bits from each bit offset on, first bit highest (exact for the first 57)."""
    windows = np.ndarray((padded.size - _WINDOW + 1,), dtype=">u8", buffer=padded, strides=(1,))
    return windows[bits >> 3].astype(np.uint64) << (bits & 7).astype(np.uint64)


def _block_bounds(
    padded: np.ndarray, nbits: int, word_size: int, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where each block begins and ends, in bits, up to the end of the data."""
    # A block's length is in its own header, so finding the blocks is a walk,
    # the one loop here. A repeat block's length follows from its first 3
    # bits: with that looked up for every bit offset beforehand, the walk is
    # a few bytecodes a block. Literal blocks (rare in masks) read their count.
    bits = np.unpackbits(padded[: nbits // 8 + 1])
    first3 = bits[:-2] << 2 | bits[1:-1] << 1 | bits[2:]
    repeat_lengths = bytes(4) + bytes((3 + sizes + word_size).tolist()) + bytes(248)
    steps = first3.tobytes().translate(repeat_lengths)
    data = padded.tobytes()
    size_of = sizes.tolist()
    starts = []
    p = _HEADER_BITS
    while p < nbits:
        starts.append(p)
        step = steps[p]
        if not step:
            head = int.from_bytes(data[p >> 3 : (p >> 3) + 4], "big")
            shift = 29 - (p & 7)
            size = size_of[(head >> shift) & 3]
            count = ((head >> (shift - size)) & ((1 << size) - 1)) + 1
            step = 3 + size + count * word_size
        p += step
    starts.append(p)
    starts = np.array(starts, dtype=np.int64)
    return starts[:-1], starts[1:]

"""Writing ratings in LIBMF's text format: one ``user item value`` line per rating."""

import os
import warnings

import numpy as np

from .._io import atomic_write
from ..kernels import _ids, _parse
from ._ratings import Ratings

# Rows formatted per block: bounds the memory of the text buffer (about 40 MB).
_BLOCK_ROWS = 1 << 20


def write_libmf(ratings, path):
    """Write ratings as LIBMF's text format: a ``user item value`` line each.

    LIBMF (and the ``libmf`` preset of :func:`read_ratings`) reads 0-based integer
    indices separated by single spaces. This writes the **indices**
    ``ratings.users`` and ``ratings.items``, not the raw ids: the id maps are not
    written, so keep ``ratings.user_map.ids`` and ``ratings.item_map.ids``
    elsewhere to translate back. Values are written as float32, LIBMF's type,
    with the fewest digits that read back as the same float32 (``3``, ``3.5``,
    ``0.1``, ``1e-45``), so every float32 value round-trips bit for bit.

    The file is written atomically: to a temporary file in the same folder,
    renamed over ``path`` once complete.

    Parameters
    ----------
    ratings : Ratings
    path : str or os.PathLike

    Raises
    ------
    TypeError
        When ``ratings`` is not a :class:`Ratings`.
    ValueError
        When a value overflows float32.

    Warns
    -----
    UserWarning
        When some values are not exactly float32 and are rounded to it.

    Examples
    --------
    >>> import os, tempfile
    >>> from fastmf.data import Ratings, read_ratings, write_libmf
    >>> ratings = Ratings.from_raw_ids(["ann", "bob"], [10, 20], [4.5, 3.0])
    >>> path = os.path.join(tempfile.mkdtemp(), "train.txt")
    >>> write_libmf(ratings, path)
    >>> open(path).read()
    '0 0 4.5\\n1 1 3\\n'
    >>> read_ratings(path, preset="libmf").values.tolist()
    [4.5, 3.0]
    """
    if not isinstance(ratings, Ratings):
        raise TypeError(
            f"write_libmf expects a Ratings; got {type(ratings).__name__}. Build one "
            "with Ratings.from_arrays or Ratings.from_raw_ids."
        )
    path = os.fspath(path)
    values = _float32_values(ratings.values)
    codes, texts, offsets = _value_texts(values)
    users = np.ascontiguousarray(ratings.users, dtype=np.int32)
    items = np.ascontiguousarray(ratings.items, dtype=np.int32)

    def write(handle):
        longest = int(np.diff(offsets).max(initial=0))
        out = np.empty(
            min(_BLOCK_ROWS, users.size) * (_parse.TRIPLE_OVERHEAD + longest),
            dtype=np.uint8,
        )
        for lo in range(0, users.size, _BLOCK_ROWS):
            hi = min(lo + _BLOCK_ROWS, users.size)
            n = _parse.format_triples(users, items, codes, texts, offsets, lo, hi, out)
            handle.write(memoryview(out)[:n])

    atomic_write(path, write)


def _float32_values(values):
    """The values as float32; overflow is an error, rounding a warning."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore"):
        rounded = values.astype(np.float32)
    if not np.isfinite(rounded).all():
        row = int(np.argmin(np.isfinite(rounded)))
        raise ValueError(
            f"value {values[row]!r} (rating {row}) overflows float32, LIBMF's value "
            "type; rescale the ratings before writing them."
        )
    inexact = rounded != values
    if inexact.any():
        row = int(np.argmax(inexact))
        warnings.warn(
            f"write_libmf: {int(inexact.sum()):,} of {values.size:,} values are not "
            f"exact in float32, LIBMF's value type, and were rounded (for example "
            f"{float(values[row])!r} became {float(rounded[row])!r}).",
            UserWarning,
            stacklevel=3,
        )
    return rounded


def _float32_text(value):
    """Shortest decimal that reads back as the same float32 (NumPy's repr)."""
    text = str(np.float32(value))
    return text[:-2] if text.endswith(".0") else text


def _value_texts(values):
    """Codes of the distinct values (by bit pattern) and their texts.

    Only the distinct values are formatted in Python; the compiled writer copies
    a row's text by its code. Bit patterns keep ``-0.0`` apart from ``0.0``.
    """
    bits = values.view(np.int32).astype(np.int64)
    codes = np.empty(bits.size, dtype=np.int32)
    distinct = _ids.hash_codes(bits, codes)
    floats = distinct.astype(np.int32).view(np.float32)
    encoded = [_float32_text(x).encode("ascii") for x in floats]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(
        np.array([len(text) for text in encoded], dtype=np.int64), out=offsets[1:]
    )
    texts = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
    return codes, texts, offsets

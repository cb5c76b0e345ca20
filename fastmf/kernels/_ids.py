"""Compiled id encoding: raw ids to contiguous codes in O(n), no object per row.

Each kernel gives every distinct raw id a code and writes the code of every row.
:func:`integer_codes` numbers integer ids in sorted order, like ``np.unique`` with
``return_inverse``: through a table spanning their range when it is small, else
through an open-addressing hash table, after which only the distinct ids are
sorted. :func:`hash_codes` (64-bit keys) and :func:`span_codes` (byte spans of
text) number them in order of first appearance; the caller sorts the few distinct
ids and renumbers the codes with :func:`renumber`. Memory grows with the number of
rows and distinct ids (and for the table, with a range of at most about twice the
rows), never with the largest id.

Hash tables use linear probing in a power-of-two table kept at most half full,
indexed by the top bits of a mixed 64-bit hash. Equal hashes are not trusted:
:func:`span_codes` compares the bytes of two spans before giving them one code, so
a collision of the 64-bit hashes (or of the few bits left by ``hash_mask``, which
tests use to force collisions) still gives distinct codes.
"""

import numba as nb
import numpy as np

from .._config import CACHE, NOGIL

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_QUOTE = 34
_MIN_BITS = 10
_EMPTY = -1
# Codes are int32; IdMap allows at most 2**31 - 2 distinct ids.
_MAX_CODES = 2**31 - 2


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _mix(h):
    """SplitMix64's finalizer: every input bit affects the top output bits."""
    h = (h ^ (h >> _S30)) * _MIX1
    h = (h ^ (h >> _S27)) * _MIX2
    return h ^ (h >> _S31)


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _slot(h, bits):
    """Home slot of the hash ``h`` in a table of ``2**bits`` slots."""
    return np.int64(_mix(h) >> np.uint64(64 - bits))


@nb.njit(cache=CACHE, nogil=NOGIL)
def _grown(array, size):
    """``array`` copied into a new array of ``size`` entries (rest unset)."""
    bigger = np.empty(size, dtype=array.dtype)
    bigger[: array.size] = array
    return bigger


@nb.njit(cache=CACHE, nogil=NOGIL)
def _table(hashes, n_keys, bits):
    """A table of ``2**bits`` slots holding the codes ``0 .. n_keys - 1``."""
    slots = np.full(1 << bits, _EMPTY, dtype=np.int32)
    mask = (1 << bits) - 1
    for code in range(n_keys):
        s = _slot(hashes[code], bits)
        while slots[s] != _EMPTY:
            s = (s + 1) & mask
        slots[s] = code
    return slots


# -- integers ----------------------------------------------------------------------

#: Integer ids whose range is below ``DENSE_FACTOR * n + DENSE_SLACK`` are numbered
#: through a table over the range (int32 per entry, so at most about 8 bytes per
#: id), others through a hash table of the distinct ids.
DENSE_FACTOR = 2
DENSE_SLACK = 4096


@nb.njit(cache=CACHE, nogil=NOGIL)
def _dense_codes(raw, low, span, codes):
    """Sorted distinct ids of ``raw`` (all in ``[low, low + span)``) and their codes.

    Three passes: mark the ids present, number the marks in order (a running
    sum), look every row up. ``codes`` may be ``raw`` itself (int32).
    """
    n = raw.size
    table = np.zeros(span, dtype=np.int32)
    for i in range(n):
        table[raw[i] - low] = 1

    ids = np.empty(min(span, n) + 1, dtype=np.int64)
    k = 0
    for j in range(span):  # branch-free: ids[k] is overwritten until marked
        present = table[j]
        table[j] = k
        ids[k] = low + j
        k += present

    for i in range(n):
        codes[i] = table[raw[i] - low]
    return ids[:k].copy()


@nb.njit(cache=CACHE, nogil=NOGIL)
def _hash_codes(raw, codes):
    """Distinct ids of ``raw`` in order of first appearance, and their codes.

    One pass through a hash table of the distinct ids, doubled whenever it is half
    full. ``codes`` may be ``raw`` itself (int32): row ``i`` is read before its
    code is written.
    """
    n = raw.size
    bits = _MIN_BITS
    slots = np.full(1 << bits, _EMPTY, dtype=np.int32)
    keys = np.empty(1 << (bits - 1), dtype=np.int64)
    hashes = np.empty(keys.size, dtype=np.uint64)
    k = 0
    for i in range(n):
        x = np.int64(raw[i])
        h = np.uint64(x)
        mask = (1 << bits) - 1
        s = _slot(h, bits)
        while slots[s] != _EMPTY and keys[slots[s]] != x:
            s = (s + 1) & mask
        if slots[s] != _EMPTY:
            codes[i] = slots[s]
            continue
        if k == _MAX_CODES:
            raise ValueError("more than 2**31 - 2 distinct ids")
        if k == keys.size:
            keys = _grown(keys, 2 * k)
            hashes = _grown(hashes, 2 * k)
        keys[k] = x
        hashes[k] = h
        slots[s] = k
        codes[i] = k
        k += 1
        if 2 * k > (1 << bits):
            bits += 1
            slots = _table(hashes, k, bits)
    return keys[:k].copy()


_INTEGER_SIGNATURES = [
    nb.int64[::1](raw, nb.int32[::1])
    for raw in (
        nb.int64[::1],
        nb.types.Array(nb.int64, 1, "C", readonly=True),
        nb.int32[::1],
    )
]


@nb.njit(_INTEGER_SIGNATURES, cache=CACHE, nogil=NOGIL)
def integer_codes(raw, codes):
    """Sorted distinct integer ids and the code of every row, in O(n).

    The same result as ``np.unique(raw, return_inverse=True)``. Ids whose range
    is small next to their number (see ``DENSE_FACTOR``) are numbered through a
    table over the range; others through a hash table, after which only the
    distinct ids are sorted. Memory never grows with the largest id.

    Parameters
    ----------
    raw : int64 or int32, shape (n,)
        The ids. For uint64 ids pass ``(ids ^ 2**63).view(np.int64)``, which
        sorts in the same order, and undo it on the result.
    codes : int32, shape (n,), written
        May be ``raw`` itself when ``raw`` is int32: the ids are then replaced by
        their codes in place.

    Returns
    -------
    ids : int64, shape (k,)
        The distinct ids, sorted; ``ids[codes] == raw``.
    """
    n = raw.size
    if codes.size != n:
        raise ValueError("codes must have one entry per id")
    if n == 0:
        return np.empty(0, dtype=np.int64)
    low = np.int64(raw.min())
    high = np.int64(raw.max())
    # The range in uint64: high - low overflows int64 for ids of both signs.
    if np.uint64(high) - np.uint64(low) < np.uint64(DENSE_FACTOR * n + DENSE_SLACK):
        return _dense_codes(raw, low, high - low + 1, codes)

    distinct = _hash_codes(raw, codes)
    order = np.argsort(distinct)
    new_code = np.empty(order.size, dtype=np.int32)
    for rank in range(order.size):
        new_code[order[rank]] = rank
    for i in range(n):
        codes[i] = new_code[codes[i]]
    return distinct[order]


_HASH_SIGNATURE = nb.int64[::1](nb.int64[::1], nb.int32[::1])


@nb.njit(_HASH_SIGNATURE, cache=CACHE, nogil=NOGIL)
def hash_codes(raw, codes):
    """Distinct ids in order of first appearance, and the code of every row.

    Parameters
    ----------
    raw : int64, shape (n,)
        Any 64-bit keys (for example the bit patterns of float values).
    codes : int32, shape (n,), written
        ``ids[codes] == raw``.

    Returns
    -------
    ids : int64, shape (k,)
        The distinct keys, in order of first appearance.
    """
    if codes.size != raw.size:
        raise ValueError("codes must have one entry per key")
    return _hash_codes(raw, codes)


_RENUMBER_SIGNATURE = nb.void(nb.int32[::1], nb.int32[::1])


@nb.njit(_RENUMBER_SIGNATURE, cache=CACHE, nogil=NOGIL)
def renumber(codes, new_code):
    """Replace every code ``c`` by ``new_code[c]``, in place.

    Parameters
    ----------
    codes : int32, shape (n,), updated in place
        Values in ``[0, new_code.size)``.
    new_code : int32, shape (k,)
    """
    for i in range(codes.size):
        codes[i] = new_code[codes[i]]


# -- byte spans of text ------------------------------------------------------------


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _text(buf, a, b):
    """``(start, stop, quoted)`` of the text of span ``[a, b)``.

    A span that starts with a quote holds a quoted field: its text lies inside the
    quotes, with each doubled quote standing for one.
    """
    if b - a >= 2 and buf[a] == _QUOTE:
        return a + 1, b - 1, True
    return a, b, False


@nb.njit(cache=CACHE, nogil=NOGIL)
def _span_hash(buf, a, b):
    """64-bit FNV-1a hash of the text of the span ``[a, b)`` (quotes undone).

    Parameters
    ----------
    buf : uint8, shape (n_bytes,), read only
    a, b : int64
        A span as the parser records it: quotes included for a quoted field.

    Returns
    -------
    uint64
    """
    t, stop, quoted = _text(buf, a, b)
    h = _FNV_OFFSET
    while t < stop:
        c = buf[t]
        h = (h ^ np.uint64(c)) * _FNV_PRIME
        t += 2 if quoted and c == _QUOTE else 1
    return h


@nb.njit(cache=CACHE, nogil=NOGIL)
def _same_text(buf, a1, b1, a2, b2):
    """Whether spans ``[a1, b1)`` and ``[a2, b2)`` hold the same text."""
    s, s_stop, s_quoted = _text(buf, a1, b1)
    t, t_stop, t_quoted = _text(buf, a2, b2)
    if not s_quoted and not t_quoted and s_stop - s != t_stop - t:
        return False
    while s < s_stop and t < t_stop:
        c = buf[s]
        if c != buf[t]:
            return False
        s += 2 if s_quoted and c == _QUOTE else 1
        t += 2 if t_quoted and c == _QUOTE else 1
    return s >= s_stop and t >= t_stop


_BYTES = nb.types.Array(nb.uint8, 1, "C", readonly=True)
_SPAN_SIGNATURE = nb.types.Tuple((nb.int64[::1], nb.int32[::1]))(
    _BYTES, nb.int64[:, ::1], nb.int64, nb.uint64
)


@nb.njit(_SPAN_SIGNATURE, cache=CACHE, nogil=NOGIL)
def span_codes(buf, spans, n, hash_mask):
    """Number the distinct texts of ``spans[:n]`` in order of first appearance.

    Rows whose texts have equal (masked) hashes get one code only when their bytes
    are equal too, so hash collisions never merge two ids.

    Parameters
    ----------
    buf : uint8, shape (n_bytes,), read only
    spans : int64, shape (m, 2), ``m >= n``
        Byte span ``[a, b)`` of each row's text, as :func:`parse_chunk` records
        it (quotes included for a quoted field, whose doubled quotes stand for
        one).
    n : int64
        Rows to encode.
    hash_mask : uint64
        ANDed with every hash; all ones in use. Tests pass a few bits to force
        collisions.

    Returns
    -------
    first_rows : int64, shape (k,)
        For each code, the first row holding its text.
    codes : int32, shape (n,)
    """
    if n > spans.shape[0]:
        raise ValueError("n is larger than the number of spans")
    bits = _MIN_BITS
    slots = np.full(1 << bits, _EMPTY, dtype=np.int32)
    first_rows = np.empty(1 << (bits - 1), dtype=np.int64)
    hashes = np.empty(first_rows.size, dtype=np.uint64)
    k = 0
    codes = np.empty(n, dtype=np.int32)
    for i in range(n):
        a, b = spans[i, 0], spans[i, 1]
        h = _span_hash(buf, a, b) & hash_mask
        mask = (1 << bits) - 1
        s = _slot(h, bits)
        found = _EMPTY
        while slots[s] != _EMPTY:
            code = slots[s]
            if hashes[code] == h:
                other = first_rows[code]
                if _same_text(buf, spans[other, 0], spans[other, 1], a, b):
                    found = code
                    break
            s = (s + 1) & mask
        if found != _EMPTY:
            codes[i] = found
            continue
        if k == _MAX_CODES:
            raise ValueError("more than 2**31 - 2 distinct ids")
        if k == first_rows.size:
            first_rows = _grown(first_rows, 2 * k)
            hashes = _grown(hashes, 2 * k)
        first_rows[k] = i
        hashes[k] = h
        slots[s] = k
        codes[i] = k
        k += 1
        if 2 * k > (1 << bits):
            bits += 1
            slots = _table(hashes, k, bits)
    return first_rows[:k].copy(), codes

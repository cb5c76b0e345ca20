"""Compiled parser for delimited text files of (user, item, rating) rows.

The parser reads a byte buffer once, with no Python object per row. It reports the
first malformed row as a status code plus the line, field and byte span, so the
Python layer can name the file, line, column and offending text.
"""

import numba as nb
import numpy as np

from .._config import CACHE, NOGIL

# Status codes returned by :func:`parse_delimited`.
OK = 0
MISSING_FIELD = 1
BAD_INTEGER = 2
BAD_NUMBER = 3
INTEGER_OVERFLOW = 4

# Exact binary values of 10**0 .. 10**22: a decimal with at most 15 significant
# digits scaled by one of these is correctly rounded (Clinger's fast path).
_POW10 = np.array([10.0**e for e in range(23)])
_MAX_FAST_DIGITS = 15
_MAX_INT_DIGITS = 18

_NEWLINE = 10
_CR = 13
_SPACE = 32
_TAB = 9


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _is_blank(c):
    return c == _SPACE or c == _TAB or c == _CR


@nb.njit(cache=CACHE, nogil=NOGIL)
def _trim(buf, a, b):
    """Span ``[a, b)`` without surrounding blanks."""
    while a < b and _is_blank(buf[a]):
        a += 1
    while b > a and _is_blank(buf[b - 1]):
        b -= 1
    return a, b


@nb.njit(cache=CACHE, nogil=NOGIL)
def _parse_int(buf, a, b):
    """Parse ``buf[a:b]`` as a signed decimal integer. Returns (value, status)."""
    a, b = _trim(buf, a, b)
    negative = False
    if a < b and (buf[a] == 45 or buf[a] == 43):  # '-' or '+'
        negative = buf[a] == 45
        a += 1
    if a >= b:
        return 0, BAD_INTEGER
    if b - a > _MAX_INT_DIGITS:
        for t in range(a, b):
            if buf[t] < 48 or buf[t] > 57:
                return 0, BAD_INTEGER
        return 0, INTEGER_OVERFLOW
    value = 0
    for t in range(a, b):
        c = buf[t]
        if c < 48 or c > 57:
            return 0, BAD_INTEGER
        value = value * 10 + (int(c) - 48)
    return (-value if negative else value), OK


@nb.njit(cache=CACHE, nogil=NOGIL)
def _parse_float(buf, a, b):
    """Parse ``buf[a:b]`` as a decimal number. Returns (value, status, exact).

    ``exact`` is False when the number is valid but outside the fast path; the
    caller then converts that field with Python's ``float``.
    """
    a, b = _trim(buf, a, b)
    negative = False
    if a < b and (buf[a] == 45 or buf[a] == 43):
        negative = buf[a] == 45
        a += 1

    mantissa = 0
    digits = 0
    significant = 0
    exponent = 0
    seen_point = False
    t = a
    while t < b:
        c = buf[t]
        if 48 <= c <= 57:
            digits += 1
            if significant > 0 or c != 48:
                significant += 1
                if significant <= _MAX_INT_DIGITS:
                    mantissa = mantissa * 10 + (int(c) - 48)
                    if seen_point:
                        exponent -= 1
                elif not seen_point:
                    exponent += 1
            elif seen_point:
                exponent -= 1
        elif c == 46 and not seen_point:  # '.'
            seen_point = True
        else:
            break
        t += 1
    if digits == 0:
        return 0.0, BAD_NUMBER, True

    if t < b and (buf[t] == 101 or buf[t] == 69):  # 'e' or 'E'
        t += 1
        exp_negative = False
        if t < b and (buf[t] == 45 or buf[t] == 43):
            exp_negative = buf[t] == 45
            t += 1
        exp_digits = 0
        exp_value = 0
        while t < b and 48 <= buf[t] <= 57:
            if exp_value < 100000:
                exp_value = exp_value * 10 + (int(buf[t]) - 48)
            exp_digits += 1
            t += 1
        if exp_digits == 0:
            return 0.0, BAD_NUMBER, True
        exponent += -exp_value if exp_negative else exp_value
    if t != b:
        return 0.0, BAD_NUMBER, True

    if significant > _MAX_FAST_DIGITS or exponent > 22 or exponent < -22:
        return 0.0, OK, False
    value = float(mantissa)
    if exponent >= 0:
        value = value * _POW10[exponent]
    else:
        value = value / _POW10[-exponent]
    return (-value if negative else value), OK, True


@nb.njit(cache=CACHE, nogil=NOGIL)
def _field_end(buf, a, line_end, sep):
    """End of the field starting at ``a``: the next separator or the line end."""
    n_sep = sep.size
    if n_sep == 0:  # runs of blanks separate fields
        t = a
        while t < line_end and not _is_blank(buf[t]):
            t += 1
        return t
    t = a
    while t + n_sep <= line_end:
        match = True
        for s in range(n_sep):
            if buf[t + s] != sep[s]:
                match = False
                break
        if match:
            return t
        t += 1
    return line_end


_BYTES = nb.types.Array(nb.uint8, 1, "C", readonly=True)
_PARSE_SIGNATURE = nb.types.UniTuple(nb.int64, 7)(
    _BYTES, nb.int64, nb.int64, nb.uint8[::1], nb.int64[::1],
    nb.int64[::1], nb.int64[::1], nb.float64[::1], nb.int64[:, ::1],
)  # fmt: skip


@nb.njit(_PARSE_SIGNATURE, cache=CACHE, nogil=NOGIL)
def parse_delimited(
    buf, start, first_line, sep, columns, users, items, values, inexact
):
    """Parse rows of ``user, item, rating`` from ``buf[start:]``.

    Parameters
    ----------
    buf : uint8, shape (n_bytes,), read only
        The whole text; lines end in ``\\n`` with an optional ``\\r``.
    start : int64
        Byte offset of the first line to parse.
    first_line : int64
        1-based line number of the line at ``start`` (for error reports).
    sep : uint8, shape (s,)
        Field separator; empty means runs of spaces or tabs.
    columns : int64, shape (3,)
        0-based field numbers of the user id, item id and rating.
    users, items : int64, shape (capacity,), written
    values : float64, shape (capacity,), written
    inexact : int64, shape (capacity, 4), written
        For each rating that needs Python's ``float``: its row, the byte span of
        its field and its line number.

    Returns
    -------
    tuple of int64
        ``(n_rows, status, line, field, span_start, span_end, n_inexact)``.
        ``status`` is one of the module's codes; on error ``line`` (1-based),
        ``field`` (0-based) and the byte span name the offending text.
    """
    n_bytes = buf.size
    n_sep = sep.size
    last_field = max(columns[0], max(columns[1], columns[2]))
    row = 0
    n_inexact = 0
    line = first_line
    pos = start
    while pos < n_bytes:
        line_end = pos
        while line_end < n_bytes and buf[line_end] != _NEWLINE:
            line_end += 1
        next_pos = line_end + 1

        a, b = _trim(buf, pos, line_end)
        if a < b:
            field = 0
            cursor = a if n_sep == 0 else pos
            while field <= last_field:
                if cursor > line_end or (n_sep == 0 and cursor >= line_end):
                    return row, MISSING_FIELD, line, field, pos, line_end, n_inexact
                end = _field_end(buf, cursor, line_end, sep)
                if field == columns[0] or field == columns[1]:
                    value, status = _parse_int(buf, cursor, end)
                    if status != OK:
                        return row, status, line, field, cursor, end, n_inexact
                    if field == columns[0]:
                        users[row] = value
                    if field == columns[1]:
                        items[row] = value
                if field == columns[2]:
                    rating, status, exact = _parse_float(buf, cursor, end)
                    if status != OK:
                        return row, status, line, field, cursor, end, n_inexact
                    values[row] = rating
                    if not exact:
                        inexact[n_inexact, 0] = row
                        inexact[n_inexact, 1] = cursor
                        inexact[n_inexact, 2] = end
                        inexact[n_inexact, 3] = line
                        n_inexact += 1
                field += 1
                if n_sep == 0:
                    cursor = end
                    while cursor < line_end and _is_blank(buf[cursor]):
                        cursor += 1
                else:
                    cursor = end + n_sep
            row += 1
        pos = next_pos
        line += 1
    return row, OK, line, 0, 0, 0, n_inexact

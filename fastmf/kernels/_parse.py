"""Compiled parser for delimited text files of (user, item, rating) rows, and the
writer of LIBMF's ``user item value`` lines.

The parser reads a byte buffer once, with no Python object per row. It reports the
first malformed row as a status code plus the line, field and byte span, so the
Python layer can name the file, line, column and offending text.

Fields are separated by a byte string, or by runs of blanks when the separator is
empty. A field that starts with a double quote (after blanks) is quoted: it runs to
the matching closing quote, may hold separators, and writes a quote inside as two
(``"a ""b"", c"``). A quoted field cannot span lines.

One worker, :func:`parse_chunk`, parses the lines of a byte range; the drivers run
it over the whole buffer (:func:`parse_delimited`) or over several ranges at once on
Numba's threads (:func:`parse_chunks`). Each range writes its own rows of the
output arrays, so the result does not depend on the number of threads.
"""

import numba as nb
import numpy as np

from .._config import CACHE, NOGIL

# Status codes returned by the parsers.
OK = 0
MISSING_FIELD = 1
BAD_INTEGER = 2
BAD_NUMBER = 3
INTEGER_OVERFLOW = 4
#: An id field that is not an integer, in a column read with ``ID_AUTO``: the
#: caller reads the column again as text.
NOT_INTEGER = 5
UNTERMINATED_QUOTE = 6
TEXT_AFTER_QUOTE = 7
EMPTY_ID = 8
#: The ``inexact`` buffer of a range is full; the state returned resumes the range.
INEXACT_FULL = 9
#: More rows than the output arrays hold (a caller error).
CAPACITY = 10
# Internal: a rating that Python's float() must convert (never returned).
INEXACT = 11
#: An integer id beyond int32 read into int32 arrays: read them as int64.
WIDE_INTEGER = 12

# How an id column is read (``modes``): integers (anything else is an error),
# integers until one field is not (then ``NOT_INTEGER``), or byte spans of text.
ID_INT = 0
ID_AUTO = 1
ID_TEXT = 2

# Exact binary values of 10**0 .. 10**22: a decimal with at most 15 significant
# digits scaled by one of these is correctly rounded (Clinger's fast path).
_POW10 = np.array([10.0**e for e in range(23)])
_MAX_FAST_DIGITS = 15
_MAX_MANTISSA_DIGITS = 18
# int64 holds every 18-digit integer; a 19th digit is checked against the limit.
_INT64_TENTH = 922337203685477580

_NEWLINE = 10
_CR = 13
_SPACE = 32
_TAB = 9
_QUOTE = 34


# Hot conditions are written with ``&`` and ``|`` on booleans: chained comparisons
# and short-circuit ``and``/``or`` compile to branches that made the fast paths
# four times slower.


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _is_blank(c):
    return (c == _SPACE) | (c == _TAB) | (c == _CR)


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _trim(buf, a, b):
    """Span ``[a, b)`` without surrounding blanks."""
    while a < b and _is_blank(buf[a]):
        a += 1
    while b > a and _is_blank(buf[b - 1]):
        b -= 1
    return a, b


@nb.njit(cache=CACHE, nogil=NOGIL)
def _parse_int(buf, a, b):
    """Parse the trimmed span ``buf[a:b]`` as an int64. Returns (value, status).

    Every int64 is accepted, from -2**63 to 2**63 - 1; a longer run of digits is
    ``INTEGER_OVERFLOW``, anything that is not an optional sign and digits is
    ``BAD_INTEGER``.
    """
    negative = False
    if a < b and (buf[a] == 45 or buf[a] == 43):  # '-' or '+'
        negative = buf[a] == 45
        a += 1
    if a >= b:
        return 0, BAD_INTEGER
    value = 0
    for t in range(a, b):
        c = buf[t]
        if c < 48 or c > 57:
            return 0, BAD_INTEGER
    n_digits = b - a
    while n_digits > 19 and buf[a] == 48:  # leading zeros
        a += 1
        n_digits -= 1
    if n_digits > 19:
        return 0, INTEGER_OVERFLOW
    last = b if n_digits < 19 else b - 1
    for t in range(a, last):
        value = value * 10 + (int(buf[t]) - 48)
    if n_digits == 19:
        digit = int(buf[b - 1]) - 48
        limit = 8 if negative else 7
        if value > _INT64_TENTH or (value == _INT64_TENTH and digit > limit):
            return 0, INTEGER_OVERFLOW
        # -2**63 has no positive counterpart: build negatives from below.
        value = -value * 10 - digit if negative else value * 10 + digit
        return value, OK
    return (-value if negative else value), OK


@nb.njit(cache=CACHE, nogil=NOGIL)
def _parse_float(buf, a, b):
    """Parse the trimmed span ``buf[a:b]`` as a decimal. Returns (value, status, exact).

    ``exact`` is False when the number is valid but outside the fast path; the
    caller then converts that field with Python's ``float``.
    """
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
                if significant <= _MAX_MANTISSA_DIGITS:
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


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _sep_at(buf, t, line_end, sep):
    """Whether a separator starts at ``t`` (a blank, when ``sep`` is empty)."""
    n_sep = sep.size
    if n_sep == 0:
        return _is_blank(buf[t])
    if t + n_sep > line_end:
        return False
    for s in range(n_sep):
        if buf[t + s] != sep[s]:
            return False
    return True


@nb.njit(cache=CACHE, nogil=NOGIL)
def _field(buf, cursor, line_end, sep):
    """Find the field starting at ``cursor``. Returns ``(a, b, end, status)``.

    ``[a, b)`` is the field without surrounding blanks, quotes included when it is
    quoted (``buf[a]`` is then a quote); ``end`` is where the separator after it
    starts, or ``line_end``. On a quoting error ``end`` closes the offending text.
    """
    n_sep = sep.size
    a = cursor
    while a < line_end and _is_blank(buf[a]) and not _sep_at(buf, a, line_end, sep):
        a += 1
    if a < line_end and buf[a] == _QUOTE:
        q = a + 1
        while q < line_end:
            if buf[q] == _QUOTE:
                if q + 1 < line_end and buf[q + 1] == _QUOTE:
                    q += 2
                    continue
                break
            q += 1
        if q >= line_end:
            return a, line_end, line_end, UNTERMINATED_QUOTE
        b = q + 1
        end = b
        while end < line_end and not _sep_at(buf, end, line_end, sep):
            if not _is_blank(buf[end]):
                while end < line_end and not _sep_at(buf, end, line_end, sep):
                    end += 1
                return a, b, end, TEXT_AFTER_QUOTE
            end += 1
        return a, b, end, OK

    end = a
    if n_sep == 1:  # the common case: one separator byte
        s0 = sep[0]
        while end < line_end and buf[end] != s0:
            end += 1
    elif n_sep == 0:
        while end < line_end and not _is_blank(buf[end]):
            end += 1
    else:
        while end < line_end and not _sep_at(buf, end, line_end, sep):
            end += 1
    b = end
    while b > a and _is_blank(buf[b - 1]):
        b -= 1
    return a, b, end, OK


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _content(buf, a, b):
    """The text of a field found by :func:`_field`: inside its quotes, trimmed."""
    if b - a >= 2 and buf[a] == _QUOTE:
        return _trim(buf, a + 1, b - 1)
    return a, b


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _read_id(buf, a, b, mode, ids, spans, row):
    """Store the id field ``[a, b)`` of ``row`` by ``mode``; returns a status."""
    if mode == ID_TEXT:
        if b - a == 0 or (b - a == 2 and buf[a] == _QUOTE):
            return EMPTY_ID
        spans[row, 0] = a
        spans[row, 1] = b
        return OK
    ca, cb = _content(buf, a, b)
    value, status = _parse_int(buf, ca, cb)
    if status != OK:
        if mode == ID_AUTO:
            return NOT_INTEGER
        return status
    ids[row] = value
    return OK if _fits(ids, value) else WIDE_INTEGER


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _fits(ids, value):
    """Whether ``value`` fits the dtype of ``ids`` (int32 or int64)."""
    return ids.itemsize == 8 or (value >= -(2**31)) & (value < 2**31)


# What a field holds, by its number (see :func:`_role`).
_USER = 0
_ITEM = 1
_RATING = 2
_TIME = 3
_SKIPPED = 4


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _role(field, columns):
    """Which of user, item, rating and timestamp the field holds, or _SKIPPED."""
    if field == columns[0]:
        return _USER
    if field == columns[1]:
        return _ITEM
    if field == columns[2]:
        return _RATING
    if field == columns[3]:
        return _TIME
    return _SKIPPED


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _line_end(buf, t, stop):
    """Offset of the ``\\n`` ending the line that holds ``t``, or ``stop``."""
    while t < stop and buf[t] != _NEWLINE:
        t += 1
    return t


# The fast paths below read a line without checking the end of the buffer: they
# stop at the line's ``\\n`` at the latest (it is no digit, separator or blank),
# so callers use them only on lines that end in one. Bounds checks in these loops
# doubled the time of a parse.


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _digit(c):
    """``c - '0'`` as uint64: below 10 exactly for a digit.

    One unsigned comparison; ``0 <= d <= 9`` measured three times slower.
    """
    return np.uint64(c) - np.uint64(48)


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _ends_field(buf, t, sep):
    """Whether a field may end right before ``t``: at a separator or line end.

    With an empty ``sep`` any blank ends a field. A ``\\r`` counts only before the
    ``\\n`` (the reader has turned other carriage returns into line ends).
    """
    c = buf[t]
    if c == _NEWLINE:
        return True
    if c == _CR:
        return buf[t + 1] == _NEWLINE
    n_sep = sep.size
    if n_sep == 0:
        return c == _SPACE or c == _TAB
    if c != sep[0]:
        return False
    for s in range(1, n_sep):  # stops at the newline: no separator holds one
        if buf[t + s] != sep[s]:
            return False
    return True


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _fast_int(buf, t, sep):
    """Read 1 to 18 digits ending at a separator. Returns (value, end, read).

    ``read`` is False for anything else (signs, blanks, other characters), which
    the general path then reads or reports.
    """
    a = t
    value = 0
    digit = _digit(buf[t])
    while digit < 10:
        value = value * 10 + np.int64(digit)
        t += 1
        digit = _digit(buf[t])
    n_digits = t - a
    return value, t, (n_digits > 0) & (n_digits <= 18) & _ends_field(buf, t, sep)


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _fast_float(buf, t, sep):
    """Read ``[-]digits[.digits]`` (at most 15 digits) ending at a separator.

    Returns (value, end, read). The value is correctly rounded: an integer of at
    most 15 digits and a power of ten up to 10**15 are exact doubles, so the one
    division rounds once (the same result as :func:`_parse_float`).
    """
    negative = buf[t] == 45  # '-'
    t += negative
    a = t
    mantissa = 0
    digit = _digit(buf[t])
    while digit < 10:
        mantissa = mantissa * 10 + np.int64(digit)
        t += 1
        digit = _digit(buf[t])
    n_digits = t - a
    n_fraction = 0
    if buf[t] == 46:  # '.'
        t += 1
        b = t
        digit = _digit(buf[t])
        while digit < 10:
            mantissa = mantissa * 10 + np.int64(digit)
            t += 1
            digit = _digit(buf[t])
        n_fraction = t - b
        n_digits += n_fraction
    read = (n_digits > 0) & (n_digits <= _MAX_FAST_DIGITS) & _ends_field(buf, t, sep)
    if not read:
        return 0.0, t, False
    value = float(mantissa) / _POW10[n_fraction]
    return (-value if negative else value), t, True


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _fast_text(buf, t, sep):
    """Skip a plain field: no quote, no surrounding blank. Returns (end, read)."""
    a = t
    c = buf[t]
    if (c == _QUOTE) | _is_blank(c) | (c == _NEWLINE):
        return t, False
    if sep.size == 0:
        while not (_is_blank(c) | (c == _NEWLINE)):
            t += 1
            c = buf[t]
        return t, True
    s0 = sep[0]
    while (c != s0) & (c != _NEWLINE):
        t += 1
        c = buf[t]
    return t, (t > a) & (not _is_blank(buf[t - 1])) & _ends_field(buf, t, sep)


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _skip_line(buf, t):
    """Offset of the ``\\n`` ending a line known to have one."""
    while buf[t] != _NEWLINE:
        t += 1
    return t


@nb.njit(cache=CACHE, nogil=NOGIL)
def _read_field(
    buf, t, line_end, sep, role, modes, user_ids, item_ids, user_spans, item_spans,
    values, timestamps, row,
):  # fmt: skip
    """The general path: find the field at ``t`` and store it by its role.

    Returns ``(status, end, a, b)``: ``end`` is where the separator after the
    field starts (or the end of the offending text on error); the status is
    ``INEXACT`` for a rating that needs Python's ``float``, whose text is
    ``buf[a:b]``. A separate function on purpose: inlined, its array arguments
    cost reference counting in the fast loop.
    """
    a, b, end, status = _field(buf, t, line_end, sep)
    if status != OK:
        return status, end, a, b
    if role == _USER:
        status = _read_id(buf, a, b, modes[0], user_ids, user_spans, row)
    elif role == _ITEM:
        status = _read_id(buf, a, b, modes[1], item_ids, item_spans, row)
    elif role == _RATING:
        a, b = _content(buf, a, b)
        rating, status, exact = _parse_float(buf, a, b)
        values[row] = rating
        if status == OK and not exact:
            status = INEXACT
    elif role == _TIME:
        a, b = _content(buf, a, b)
        time, status = _parse_int(buf, a, b)
        timestamps[row] = time
    return status, end, a, b


_BYTES = nb.types.Array(nb.uint8, 1, "C", readonly=True)
_STATE = nb.types.UniTuple(nb.int64, 8)


def _chunk_args(ids):
    """Argument types from ``sep`` to ``inexact``, with integer ids of type ``ids``."""
    return (
        nb.uint8[::1], nb.int64, nb.int64[::1], nb.int64[::1],  # sep .. modes
        ids[::1], ids[::1], nb.int64[:, ::1], nb.int64[:, ::1],  # ids, spans
        nb.float64[::1], nb.int64[::1], nb.int64[:, ::1],  # values .. inexact
    )  # fmt: skip


# Integer ids are read into int32 arrays when they fit (half the memory, and they
# are encoded in place), else into int64 ones.
_ID_TYPES = (nb.int32, nb.int64)


@nb.njit(
    [_STATE(_BYTES, nb.int64, nb.int64, nb.int64, nb.int64, *_chunk_args(ids),
            nb.int64, nb.int64) for ids in _ID_TYPES],
    cache=CACHE, nogil=NOGIL,
)  # fmt: skip
def parse_chunk(
    buf, pos, stop, row, line, sep, comment, columns, modes, user_ids, item_ids,
    user_spans, item_spans, values, timestamps, inexact, inexact_lo, inexact_hi,
):  # fmt: skip
    """Parse the lines of ``buf[pos:stop]`` into rows ``row, row + 1, ...``.

    Parameters
    ----------
    buf : uint8, shape (n_bytes,), read only
        The whole text; lines end in ``\\n`` with an optional ``\\r``.
    pos, stop : int64
        Byte range to parse; ``pos`` starts a line and ``stop`` is ``n_bytes`` or
        follows a ``\\n``.
    row : int64
        Row of the output arrays that the first rating of the range goes to.
    line : int64
        1-based line number of the line at ``pos`` (for error reports).
    sep : uint8, shape (s,)
        Field separator; empty means runs of spaces or tabs.
    comment : int64
        Lines whose first non-blank byte is this are skipped, like blank lines;
        -1 for none.
    columns : int64, shape (4,)
        0-based field numbers of the user id, item id, rating and timestamp
        (-1: no timestamp). The first three differ, and the timestamp from them.
    modes : int64, shape (2,)
        How the user and item ids are read: ``ID_INT``, ``ID_AUTO`` or ``ID_TEXT``.
    user_ids, item_ids : int32 or int64 (both alike), shape (capacity,), written
        Integer ids (columns read as integers; else any array). With int32
        arrays an id beyond int32 stops the parse with ``WIDE_INTEGER``.
    user_spans, item_spans : int64, shape (capacity, 2), written
        Byte span ``[a, b)`` of each text id, quotes included when quoted
        (columns read as text; else any array).
    values : float64, shape (capacity,), written
    timestamps : int64, shape (capacity,), written when ``columns[3] >= 0``
    inexact : int64, shape (m, 4), rows ``inexact_lo:inexact_hi`` written
        For each rating that needs Python's ``float``: its row, the byte span of
        its text and its line number.
    inexact_lo, inexact_hi : int64
        The rows of ``inexact`` this range may use.

    Returns
    -------
    tuple of 8 int64
        ``(pos, row, line, status, field, span_start, span_end, n_inexact)``.
        ``status`` is one of the module's codes. After ``OK`` and
        ``INEXACT_FULL``, ``pos``, ``row`` and ``line`` are where the next call
        resumes; after an error they are the offending line's start, row and
        number, ``field`` is 0-based and the span is the offending text (the
        whole line for ``MISSING_FIELD``). ``n_inexact`` rows of ``inexact`` were
        written from ``inexact_lo``.
    """
    n_sep = sep.size
    capacity = values.size
    last_field = max(max(columns[0], columns[1]), max(columns[2], columns[3]))
    n_inexact = 0
    # Lines before ``sentinel`` end in a newline and may take the fast paths; a
    # last line without one is read by the general path, which checks bounds.
    sentinel = stop
    while sentinel > pos and buf[sentinel - 1] != _NEWLINE:
        sentinel -= 1
    while pos < stop:
        checked = pos >= sentinel
        first = pos
        while first < stop and _is_blank(buf[first]):
            first += 1
        if first >= stop or buf[first] == _NEWLINE or buf[first] == comment:
            pos = _line_end(buf, first, stop) + 1
            line += 1
            continue
        if row >= capacity:
            return pos, row, line, CAPACITY, 0, pos, _line_end(buf, pos, stop), 0

        # Each field is first tried on a fast path that reads it in one pass and
        # stops at the separator; anything unusual (blanks, quotes, signs,
        # exponents, errors) goes through the general path, which needs the end
        # of the line.
        t = first if n_sep == 0 else pos
        line_end = -1
        at_end = False
        end = t
        for field in range(last_field + 1):
            if at_end:
                line_end = _line_end(buf, t, stop)
                return pos, row, line, MISSING_FIELD, field, pos, line_end, n_inexact
            # No array is picked into a variable: Numba would count references
            # to it on every field, which costs more than the parsing.
            role = _role(field, columns)
            fast = False
            if checked:
                pass
            elif role == _USER and modes[0] == ID_TEXT:
                end, fast = _fast_text(buf, t, sep)
                user_spans[row, 0] = t
                user_spans[row, 1] = end
            elif role == _USER:
                value, end, fast = _fast_int(buf, t, sep)
                user_ids[row] = value
                fast &= _fits(user_ids, value)
            elif role == _ITEM and modes[1] == ID_TEXT:
                end, fast = _fast_text(buf, t, sep)
                item_spans[row, 0] = t
                item_spans[row, 1] = end
            elif role == _ITEM:
                value, end, fast = _fast_int(buf, t, sep)
                item_ids[row] = value
                fast &= _fits(item_ids, value)
            elif role == _RATING:
                rating, end, fast = _fast_float(buf, t, sep)
                values[row] = rating
            elif role == _TIME:
                value, end, fast = _fast_int(buf, t, sep)
                timestamps[row] = value
            else:
                end, fast = _fast_text(buf, t, sep)

            if not fast:
                if line_end < 0:
                    line_end = _line_end(buf, t, stop)
                status, end, ca, cb = _read_field(
                    buf, t, line_end, sep, role, modes, user_ids, item_ids,
                    user_spans, item_spans, values, timestamps, row,
                )  # fmt: skip
                if status == INEXACT:
                    k = inexact_lo + n_inexact
                    inexact[k, 0] = row
                    inexact[k, 1] = ca
                    inexact[k, 2] = cb
                    inexact[k, 3] = line
                    n_inexact += 1
                elif status != OK:
                    return pos, row, line, status, field, t, end, n_inexact

            if n_sep == 0:
                while end < stop and _is_blank(buf[end]):
                    end += 1
                at_end = end >= stop or buf[end] == _NEWLINE
                t = end
            else:
                at_end = end >= stop or buf[end] == _NEWLINE or buf[end] == _CR
                t = end + n_sep
        if line_end < 0:
            line_end = _line_end(buf, end, stop) if checked else _skip_line(buf, end)
        row += 1
        pos = line_end + 1
        line += 1
        if inexact_lo + n_inexact >= inexact_hi:
            return pos, row, line, INEXACT_FULL, 0, 0, 0, n_inexact
    return pos, row, line, OK, 0, 0, 0, n_inexact


@nb.njit(
    [nb.void(_BYTES, nb.int64[::1], nb.int64[::1], nb.int64[::1],
             *_chunk_args(ids), nb.int64[:, ::1]) for ids in _ID_TYPES],
    parallel=True, cache=CACHE, nogil=NOGIL,
)  # fmt: skip
def parse_chunks(
    buf, bounds, rows, lines, sep, comment, columns, modes, user_ids, item_ids,
    user_spans, item_spans, values, timestamps, inexact, states,
):  # fmt: skip
    """Run :func:`parse_chunk` on consecutive byte ranges in parallel.

    Range ``c`` is ``buf[bounds[c]:bounds[c + 1]]``; its rows start at ``rows[c]``
    and its first line is numbered ``lines[c]``; it may use an equal share of the
    rows of ``inexact``, the ``c``-th. ``rows`` must leave each range room for one
    row per line it holds. Ranges share no output row, so the result does not
    depend on the number of threads.

    Parameters
    ----------
    buf : uint8, shape (n_bytes,), read only
    bounds : int64, shape (n_chunks + 1,)
        Increasing offsets, each the start of a line or ``n_bytes``.
    rows, lines : int64, shape (n_chunks,)
    sep, comment, columns, modes, user_ids, item_ids, user_spans, item_spans,
    values, timestamps, inexact
        As for :func:`parse_chunk`.
    states : int64, shape (n_chunks, 8), written
        The tuple :func:`parse_chunk` returned for each range.
    """
    n_chunks = bounds.size - 1
    if rows.size < n_chunks or lines.size < n_chunks or states.shape[0] < n_chunks:
        raise ValueError("rows, lines and states need one entry per range")
    share = inexact.shape[0] // max(n_chunks, 1)
    for c in nb.prange(n_chunks):
        state = parse_chunk(
            buf, bounds[c], bounds[c + 1], rows[c], lines[c], sep, comment, columns,
            modes, user_ids, item_ids, user_spans, item_spans, values, timestamps,
            inexact, c * share, (c + 1) * share,
        )  # fmt: skip
        for j in range(8):
            states[c, j] = state[j]


@nb.njit(cache=CACHE, nogil=NOGIL)
def _count_line_ends(buf, a, b):
    """Newlines and carriage returns in ``buf[a:b]``, counted in 255-byte blocks.

    A uint8 sum over 255 bytes cannot overflow and vectorises; an int64 count
    per byte measured 1.7 times slower.
    """
    newlines = 0
    returns = 0
    while a + 255 <= b:
        block_newlines = np.uint8(0)
        block_returns = np.uint8(0)
        for t in range(a, a + 255):
            block_newlines += np.uint8(buf[t] == _NEWLINE)
            block_returns += np.uint8(buf[t] == _CR)
        newlines += block_newlines
        returns += block_returns
        a += 255
    for t in range(a, b):
        newlines += buf[t] == _NEWLINE
        returns += buf[t] == _CR
    return newlines, returns


@nb.njit(
    nb.void(_BYTES, nb.int64[::1], nb.int64[:, ::1]), parallel=True, cache=CACHE,
    nogil=NOGIL,
)  # fmt: skip
def count_line_ends(buf, bounds, counts):
    """Count the ``\\n`` and ``\\r`` bytes of each range, in parallel.

    Parameters
    ----------
    buf : uint8, shape (n_bytes,), read only
    bounds : int64, shape (n_chunks + 1,), increasing
        Range ``c`` is ``buf[bounds[c]:bounds[c + 1]]``.
    counts : int64, shape (n_chunks, 2), written
        Newlines and carriage returns of each range.
    """
    if counts.shape[0] < bounds.size - 1 or counts.shape[1] < 2:
        raise ValueError("counts needs shape (n_chunks, 2)")
    for c in nb.prange(bounds.size - 1):
        newlines, returns = _count_line_ends(buf, bounds[c], bounds[c + 1])
        counts[c, 0] = newlines
        counts[c, 1] = returns


_FIELDS_SIGNATURE = nb.int64(
    _BYTES, nb.int64, nb.int64, nb.uint8[::1], nb.int64[:, ::1]
)


@nb.njit(_FIELDS_SIGNATURE, cache=CACHE, nogil=NOGIL)
def split_line(buf, pos, line_end, sep, spans):
    """Split one line into fields exactly as the parser does.

    Parameters
    ----------
    buf : uint8, shape (n_bytes,), read only
    pos, line_end : int64
        The line, without its ``\\n``.
    sep : uint8, shape (s,)
        As for :func:`parse_chunk`.
    spans : int64, shape (m, 3), written
        Per field: its span without blanks (quotes included) and its status.

    Returns
    -------
    int64
        Number of fields found, at most ``m``; a field with a quoting error ends
        the line.
    """
    n_sep = sep.size
    cursor = pos
    if n_sep == 0:
        while cursor < line_end and _is_blank(buf[cursor]):
            cursor += 1
    n = 0
    while n < spans.shape[0]:
        if cursor > line_end or (n_sep == 0 and cursor >= line_end):
            break
        a, b, end, status = _field(buf, cursor, line_end, sep)
        spans[n, 0] = a
        spans[n, 1] = b
        spans[n, 2] = status
        n += 1
        if status != OK:
            break
        if n_sep == 0:
            cursor = end
            while cursor < line_end and _is_blank(buf[cursor]):
                cursor += 1
        else:
            cursor = end + n_sep
    return n


_PARSE_SIGNATURE = nb.types.UniTuple(nb.int64, 7)(
    _BYTES, nb.int64, nb.int64, nb.uint8[::1], nb.int64[::1],
    nb.int64[::1], nb.int64[::1], nb.float64[::1], nb.int64[:, ::1],
)  # fmt: skip


@nb.njit(_PARSE_SIGNATURE, cache=CACHE, nogil=NOGIL)
def parse_delimited(
    buf, start, first_line, sep, columns, users, items, values, inexact
):
    """Parse rows of integer ``user, item`` ids and ``rating`` from ``buf[start:]``.

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
    if columns.size != 3:
        raise ValueError("columns must hold 3 field numbers")
    if users.size < values.size or items.size < values.size:
        raise ValueError("users, items and values need the same capacity")
    if inexact.shape[0] < values.size or inexact.shape[1] < 4:
        raise ValueError("inexact needs shape (capacity, 4)")
    chosen = np.full(4, -1, dtype=np.int64)
    chosen[:3] = columns
    modes = np.zeros(2, dtype=np.int64)  # ID_INT
    no_spans = np.zeros((0, 2), dtype=np.int64)
    no_times = np.zeros(0, dtype=np.int64)
    state = parse_chunk(
        buf, start, buf.size, 0, first_line, sep, -1, chosen, modes, users, items,
        no_spans, no_spans, values, no_times, inexact, 0, inexact.shape[0] + 1,
    )  # fmt: skip
    _, row, line, status, field, span_start, span_end, n_inexact = state
    return row, status, line, field, span_start, span_end, n_inexact


# -- writing -----------------------------------------------------------------------


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _write_int(out, n, x):
    """Write the decimal digits of ``x >= 0`` at ``out[n:]``; returns the new end."""
    digits = 1
    rest = x // 10
    while rest > 0:
        digits += 1
        rest //= 10
    for d in range(digits - 1, -1, -1):
        out[n + d] = 48 + x % 10
        x //= 10
    return n + digits


#: Longest line :func:`format_triples` writes, less the value text: two int32
#: indices of up to 10 digits, two blanks and the newline.
TRIPLE_OVERHEAD = 23

_FORMAT_SIGNATURE = nb.int64(
    nb.int32[::1], nb.int32[::1], nb.int32[::1], nb.uint8[::1], nb.int64[::1],
    nb.int64, nb.int64, nb.uint8[::1],
)  # fmt: skip


@nb.njit(_FORMAT_SIGNATURE, cache=CACHE, nogil=NOGIL)
def format_triples(users, items, codes, texts, offsets, lo, hi, out):
    """Write rows ``lo:hi`` as lines ``user item value`` (LIBMF's text format).

    Parameters
    ----------
    users, items : int32, shape (n,)
        Non-negative indices.
    codes : int32, shape (n,)
        Which text each row's value is written as.
    texts : uint8, shape (m,)
        The value texts, one after another: code ``c`` is written as
        ``texts[offsets[c]:offsets[c + 1]]``.
    offsets : int64, shape (k + 1,)
    lo, hi : int64
        Rows to write.
    out : uint8, shape (capacity,), written
        At least ``(hi - lo) * (TRIPLE_OVERHEAD + longest text)`` bytes.

    Returns
    -------
    int64
        Bytes written at the start of ``out``.
    """
    longest = 0
    for c in range(offsets.size - 1):
        longest = max(longest, offsets[c + 1] - offsets[c])
    if lo < 0 or hi > users.size or hi > items.size or hi > codes.size:
        raise ValueError("rows lo:hi are outside the arrays")
    if out.size < (hi - lo) * (TRIPLE_OVERHEAD + longest):
        raise ValueError("out is too small for the rows")
    n = 0
    for r in range(lo, hi):
        n = _write_int(out, n, users[r])
        out[n] = _SPACE
        n = _write_int(out, n + 1, items[r])
        out[n] = _SPACE
        n += 1
        c = codes[r]
        for t in range(offsets[c], offsets[c + 1]):
            out[n] = texts[t]
            n += 1
        out[n] = _NEWLINE
        n += 1
    return n

"""Reading ratings files: MovieLens layouts and other delimited text, compressed
or not, parsed by a compiled kernel with no Python object per row."""

import bz2
import gzip
import lzma
import os
import re

import numpy as np

from ..exceptions import RatingsFileError
from ..kernels import _parse
from ._ratings import Ratings

#: Named layouts: separator and whether the first line is a header.
PRESETS = {
    "ml-100k": {"sep": "\t", "header": False},
    "ml-1m": {"sep": "::", "header": False},
    "ml-10m": {"sep": "::", "header": False},
    "ml-latest": {"sep": ",", "header": True},
    "ml-20m": {"sep": ",", "header": True},
    "libmf": {"sep": " ", "header": False},
}

_MAGIC = (
    (b"\x1f\x8b", gzip.decompress),
    (b"BZh", bz2.decompress),
    (b"\xfd7zXZ\x00", lzma.decompress),
)
_BOM = b"\xef\xbb\xbf"

_EXPECTED = {
    _parse.BAD_INTEGER: "an integer id",
    _parse.BAD_NUMBER: "a number",
    _parse.INTEGER_OVERFLOW: "an integer id of at most 18 digits",
}


def read_ratings(path, *, sep=None, header=None, columns=(0, 1, 2), preset=None):
    """Read explicit ratings from a delimited text file.

    Reads MovieLens ``u.data`` (tab, no header), ``ratings.csv`` (comma, header,
    LF or CRLF) and ``ratings.dat`` (``::``) and any similar file, optionally gzip,
    bz2 or xz compressed (detected from the content, not the name). Raw ids may be
    any integers; they are mapped to contiguous indices and the map is kept.

    Parameters
    ----------
    path : str or os.PathLike
    sep : str, optional
        Field separator. By default: the preset's, else guessed from the first
        line (``::``, then tab, then comma, else runs of blanks).
    header : bool, optional
        Whether the first line is a header. By default it is detected: a first
        line whose id or rating fields are not numbers is a header.
    columns : tuple of 3 int or str, default (0, 1, 2)
        Fields holding the user id, item id and rating: 0-based positions, or
        names from the header. Other fields are ignored.
    preset : str, optional
        One of ``PRESETS`` (``"ml-100k"``, ``"ml-1m"``, ``"ml-latest"``, ...).

    Returns
    -------
    Ratings

    Raises
    ------
    RatingsFileError
        For an empty file, a file without ratings, or a malformed line; the message
        names the file, the line, the column and the offending text.
    """
    path = os.fspath(path)
    settings = dict(PRESETS[_check_preset(preset)]) if preset else {}
    if sep is not None:
        settings["sep"] = sep
    if header is not None:
        settings["header"] = header

    buf = _read_bytes(path)
    start = len(_BOM) if buf[:3] == _BOM else 0
    start, first_line = _skip_blank_lines(buf, start)
    if start >= len(buf):
        raise RatingsFileError(f"{path}: the file holds no ratings.", path)

    line_end = buf.find(b"\n", start)
    line_end = len(buf) if line_end < 0 else line_end
    first = buf[start:line_end].decode("utf-8", "replace").strip()
    separator = settings.get("sep", _guess_separator(first))
    fields = _split(first, separator)

    has_header = settings.get("header")
    if has_header is None:
        has_header = _is_header(fields, columns)
    positions = _column_positions(columns, fields if has_header else None, path)
    if has_header:
        start, first_line = _skip_blank_lines(buf, line_end + 1, first_line + 1)

    users, items, values = _parse_rows(
        buf, start, first_line, separator, positions, path, header_given=has_header
    )
    _check_finite(values, path)
    if values.size == 0:
        raise RatingsFileError(
            f"{path}: the file holds no ratings"
            + (" (only a header line)." if has_header else "."),
            path,
        )
    return Ratings.from_raw_ids(users, items, values)


def _check_preset(preset):
    if preset not in PRESETS:
        listed = ", ".join(repr(name) for name in PRESETS)
        raise ValueError(f"preset must be one of {listed}; got {preset!r}.")
    return preset


def _read_bytes(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such ratings file.") from None
    if not data:
        raise RatingsFileError(f"{path}: the file is empty.", path)
    for magic, decompress in _MAGIC:
        if data.startswith(magic):
            try:
                data = decompress(data)
            except (OSError, EOFError, lzma.LZMAError, ValueError) as error:
                raise RatingsFileError(
                    f"{path}: the compressed data is damaged ({error}).", path
                ) from None
            if not data:
                raise RatingsFileError(f"{path}: the file is empty.", path)
            break
    return data


def _skip_blank_lines(buf, start, line=1):
    """Offset and line number of the first non-blank line at or after ``start``."""
    while start < len(buf):
        end = buf.find(b"\n", start)
        end = len(buf) if end < 0 else end
        if buf[start:end].strip():
            break
        start = end + 1
        line += 1
    return start, line


def _guess_separator(line):
    for candidate in ("::", "\t", ","):
        if candidate in line:
            return candidate
    return " "


def _split(line, separator):
    if separator == " ":
        return line.split()
    return [field.strip() for field in line.split(separator)]


def _is_header(fields, columns):
    """Whether a first line is a header: none of its selected fields is a number.

    A data line with one bad field is not a header; it is reported as an error
    instead of being skipped, so no rating is ever dropped silently.
    """
    if not all(isinstance(c, (int, np.integer)) for c in columns):
        return True
    for column in columns:
        try:
            float(fields[column])
        except ValueError:
            continue
        except IndexError:
            return False
        return False
    return True


def _column_positions(columns, header_fields, path):
    if len(columns) != 3:
        raise ValueError(
            f"columns must name 3 fields (user, item, rating); got {columns!r}."
        )
    positions = []
    for column in columns:
        if isinstance(column, str):
            if header_fields is None:
                raise ValueError(
                    f"column {column!r} is a name, but {path} has no header line; "
                    "use 0-based positions."
                )
            if column not in header_fields:
                raise RatingsFileError(
                    f"{path}, line 1: no column named {column!r}; the header has "
                    f"{', '.join(repr(f) for f in header_fields)}.",
                    path,
                    line=1,
                )
            positions.append(header_fields.index(column))
        elif isinstance(column, (int, np.integer)) and column >= 0:
            positions.append(int(column))
        else:
            raise ValueError(
                f"columns must be 0-based positions or header names; got {column!r}."
            )
    return np.array(positions, dtype=np.int64)


def _parse_rows(buf, start, first_line, separator, positions, path, header_given):
    data = np.frombuffer(buf, dtype=np.uint8)
    capacity = buf.count(b"\n", start) + 1
    users = np.empty(capacity, dtype=np.int64)
    items = np.empty(capacity, dtype=np.int64)
    values = np.empty(capacity, dtype=np.float64)
    inexact = np.empty((capacity, 4), dtype=np.int64)
    sep = b"" if separator == " " else separator.encode()

    n, status, line, field, span_start, span_end, n_inexact = _parse.parse_delimited(
        data,
        start,
        first_line,
        np.frombuffer(sep, dtype=np.uint8).copy(),
        positions,
        users,
        items,
        values,
        inexact,
    )
    if status != _parse.OK:
        raise _row_error(
            buf, path, status, line, field, span_start, span_end,
            header_hint=not header_given and line == first_line,
            positions=positions,
        )  # fmt: skip

    for row, field_start, field_end, row_line in inexact[:n_inexact]:
        text = buf[field_start:field_end].strip()
        values[row] = float(text)
        if not np.isfinite(values[row]):
            raise RatingsFileError(
                f"{path}, line {row_line}, column {positions[2] + 1}: the rating "
                f"{text.decode(errors='replace')!r} is not a finite double; ratings "
                "must be finite.",
                path, int(row_line), int(positions[2] + 1),
            )  # fmt: skip
    return users[:n], items[:n], values[:n]


def _check_finite(values, path):
    """The compiled parser rejects 'nan' and 'inf'; this is a last guard."""
    if not np.isfinite(values).all():
        row = int(np.argmin(np.isfinite(values)))
        raise RatingsFileError(f"{path}: rating number {row + 1} is not finite.", path)


def _row_error(
    buf, path, status, line, field, span_start, span_end, header_hint, positions
):
    text = buf[span_start:span_end].decode("utf-8", "replace").strip()
    column = field + 1
    if status == _parse.MISSING_FIELD:
        # Name the first selected column the line lacks, not the first field.
        column = int(min(p for p in positions if p >= field)) + 1
        message = (
            f"{path}, line {line}, column {column}: missing; expected at least "
            f"{int(positions.max()) + 1} fields, found {field}: {text!r}."
        )
        return RatingsFileError(message, path, line, column)

    message = f"{path}, line {line}, column {column}: expected {_EXPECTED[status]}"
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        message += f", got the non-finite value {text!r}; ratings must be finite."
    else:
        message += f", got {text!r}."
    if header_hint and not _has_number(buf, span_start, span_end):
        message += f" If line {line} is a header, pass header=True (CLI: --header)."
    return RatingsFileError(message, path, line, column)


def _has_number(buf, span_start, span_end):
    """Whether the line holding ``buf[span_start:span_end]`` has a numeric field.

    A header has none; a data line with one bad id has some, and then the hint to
    declare a header would mislead.
    """
    line_start = buf.rfind(b"\n", 0, span_start) + 1
    line_end = buf.find(b"\n", span_end)
    line = buf[line_start : len(buf) if line_end < 0 else line_end]
    for field in re.split(rb"[\s,;:|]+", line):
        try:
            float(field)
        except ValueError:
            continue
        return True
    return False

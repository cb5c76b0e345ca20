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
# Formats that are not (plain or gzip/bz2/xz compressed) text, by first bytes.
_NOT_TEXT = (
    (b"PK\x03\x04", "is a zip archive; extract the ratings file first"),
    (b"PK\x05\x06", "is a zip archive; extract the ratings file first"),
    (
        b"\x28\xb5\x2f\xfd",
        "is zstd-compressed, which is not supported; decompress it or use gzip, "
        "bz2 or xz",
    ),
)
# Longest first: the UTF-32 little-endian mark starts with the UTF-16 one.
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
_NUL_SCAN = 64 * 1024
# A carriage return that does not start a CRLF pair: a classic Mac line end.
_BARE_CR = re.compile(rb"\r(?!\n)")

#: Separators tried on the first line, in order; else runs of blanks.
_GUESSED_SEPARATORS = ("::", "\t", ",", ";", "|")
# Characters that hint at a separator other than the one in use.
_LIKELY_SEPARATORS = (";", "|", ":", ",", "\t", " ")

_EXPECTED = {
    _parse.BAD_INTEGER: "an integer id",
    _parse.BAD_NUMBER: "a number",
    _parse.INTEGER_OVERFLOW: "an integer id of at most 18 digits",
}


def read_ratings(path, *, sep=None, header=None, columns=(0, 1, 2), preset=None):
    """Read explicit ratings from a delimited text file.

    Reads MovieLens ``u.data`` (tab, no header), ``ratings.csv`` (comma, header)
    and ``ratings.dat`` (``::``) and any similar UTF-8 or ASCII file with LF, CRLF
    or CR line endings, optionally gzip, bz2 or xz compressed (detected from the
    content, not the name). Raw ids may be any integers; they are mapped to
    contiguous indices and the map is kept.

    Parameters
    ----------
    path : str or os.PathLike
    sep : str, optional
        Field separator, a non-empty string; ``" "`` means runs of blanks. By
        default: the preset's, else guessed from the first line (``::``, then
        tab, comma, ``;`` and ``|``, else runs of blanks).
    header : bool or None, optional
        Whether the first line is a header. By default it is detected: a first
        line whose id or rating fields are not numbers is a header.
    columns : tuple of 3 int or str, default (0, 1, 2)
        Three distinct fields holding the user id, item id and rating: 0-based
        positions, or names from the header. Other fields are ignored.
    preset : str, optional
        One of ``PRESETS`` (``"ml-100k"``, ``"ml-1m"``, ``"ml-latest"``, ...).

    Returns
    -------
    Ratings

    Raises
    ------
    RatingsFileError
        For an empty file, a file that is not text (binary, UTF-16, zip or zstd),
        a file without ratings, or a malformed line; the message names the file,
        the line, the column and the offending text.
    ValueError
        For an invalid ``sep``, ``header``, ``columns`` or ``preset``.
    """
    path = os.fspath(path)
    columns = _check_columns(columns)
    settings = dict(PRESETS[_check_preset(preset)]) if preset is not None else {}
    if sep is not None:
        settings["sep"] = _check_sep(sep)
    if header is not None:
        settings["header"] = _check_header(header)

    buf = _normalise_line_ends(_read_bytes(path))
    start = len(_BOM) if buf[:3] == _BOM else 0
    start, first_line = _skip_blank_lines(buf, start)
    if start >= len(buf):
        raise RatingsFileError(f"{path}: the file holds no ratings.", path)

    line_end = buf.find(b"\n", start)
    line_end = len(buf) if line_end < 0 else line_end
    first = buf[start:line_end].decode("utf-8", "replace")
    separator = settings.get("sep") or _guess_separator(first.strip())
    fields = _split(first, separator)  # as many as the parser will find

    has_header = settings.get("header")
    if has_header is None:
        _check_first_line_fields(fields, columns, first, first_line, path, separator)
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
    if not isinstance(preset, str) or preset not in PRESETS:
        listed = ", ".join(repr(name) for name in PRESETS)
        raise ValueError(f"preset must be one of {listed}; got {preset!r}.")
    return preset


def _check_sep(sep):
    if not isinstance(sep, str) or not sep:
        raise ValueError(
            f"sep must be a non-empty string such as ',' or '\\t'; got {sep!r}."
        )
    if "\n" in sep or "\r" in sep:
        raise ValueError(f"sep must not contain a line break; got {sep!r}.")
    return sep


def _check_header(header):
    # Not truthiness: header="no" must not mean True.
    if not isinstance(header, (bool, np.bool_)):
        raise ValueError(
            f"header must be None (detect), True or False; got {header!r}."
        )
    return bool(header)


def _check_columns(columns):
    """``columns`` as a tuple of 3 distinct non-negative ints or names."""
    if isinstance(columns, (str, bytes)):
        given = None
    else:
        try:
            given = tuple(columns)
        except TypeError:
            given = None
    if given is None or len(given) != 3:
        raise ValueError(
            f"columns must name 3 fields (user, item, rating); got {columns!r}."
        )
    checked = []
    for column in given:
        if isinstance(column, (int, np.integer)) and not isinstance(
            column, (bool, np.bool_)
        ):
            if column < 0:
                break
            checked.append(int(column))
        elif isinstance(column, str):
            checked.append(column)
        else:
            break
    else:
        if len(set(checked)) < 3:
            raise ValueError(
                "columns must be 3 distinct fields (user, item, rating); "
                f"got {columns!r}."
            )
        return tuple(checked)
    raise ValueError(
        f"columns must be 0-based positions or header names; got {column!r}."
    )


def _read_bytes(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such ratings file.") from None
    except (IsADirectoryError, PermissionError):
        if not os.path.isdir(path):  # Windows says PermissionError for folders
            raise
        raise IsADirectoryError(
            f"{path}: is a directory, not a ratings file."
        ) from None
    if not data:
        raise RatingsFileError(f"{path}: the file is empty.", path)
    for magic, problem in _NOT_TEXT:
        if data.startswith(magic):
            raise RatingsFileError(f"{path}: the file {problem}.", path)
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
    for mark, encoding in _WIDE_BOMS:
        if data.startswith(mark):
            raise RatingsFileError(
                f"{path}: the file is {encoding} encoded; save it as UTF-8.", path
            )
    if data.find(b"\x00", 0, _NUL_SCAN) >= 0:
        raise RatingsFileError(
            f"{path}: the file does not look like a text file (it contains NUL bytes).",
            path,
        )
    return data


def _normalise_line_ends(buf):
    """``buf`` with CR (classic Mac) line ends turned into LF.

    The parser splits lines at LF and trims a CR before it, so LF and CRLF files
    pass unchanged: a file without CR costs one memchr, a CRLF file one regex
    scan. A CR that is not followed by LF ends a line, as in ``str.splitlines``.
    """
    if b"\r" not in buf or _BARE_CR.search(buf) is None:
        return buf
    return buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


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
    for candidate in _GUESSED_SEPARATORS:
        if candidate in line:
            return candidate
    return " "


def _split(line, separator):
    """Fields of ``line`` as the parser splits them, each stripped of blanks."""
    if separator == " ":
        return line.split()
    return [field.strip() for field in line.split(separator)]


def _check_first_line_fields(fields, columns, line_text, line, path, separator):
    """Report a selected position beyond the first line's fields.

    Such a line is neither a header nor data that can be read; saying that the
    column is missing beats reporting its first field (and hinting at a header).
    """
    if all(isinstance(c, int) for c in columns) and max(columns) >= len(fields):
        positions = np.array(columns, dtype=np.int64)
        raise _missing_field_error(
            path, line, len(fields), positions, line_text, separator
        )


def _is_header(fields, columns):
    """Whether a first line is a header: none of its selected fields is a number.

    A data line with one bad field is not a header; it is reported as an error
    instead of being skipped, so no rating is ever dropped silently. The caller
    has checked that the line has every selected position.
    """
    if not all(isinstance(c, int) for c in columns):
        return True
    for column in columns:
        try:
            float(fields[column])
        except ValueError:
            continue
        return False
    return True


def _column_positions(columns, header_fields, path):
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
        else:
            positions.append(column)
    if len(set(positions)) < 3:
        raise ValueError(
            f"columns {columns!r} select the same field twice; the user, item and "
            "rating fields must differ."
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
            positions=positions, separator=separator,
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
    buf, path, status, line, field, span_start, span_end, header_hint, positions,
    separator,
):  # fmt: skip
    text = buf[span_start:span_end].decode("utf-8", "replace").strip()
    column = field + 1
    if status == _parse.MISSING_FIELD:
        return _missing_field_error(path, line, field, positions, text, separator)

    message = f"{path}, line {line}, column {column}: expected {_EXPECTED[status]}"
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        message += f", got the non-finite value {text!r}; ratings must be finite."
    else:
        message += f", got {text!r}."
    if header_hint and not _has_number(buf, span_start, span_end):
        message += f" If line {line} is a header, pass header=True (CLI: --header)."
    if field == 0:
        message += _separator_hint(text, separator)
    return RatingsFileError(message, path, line, column)


def _missing_field_error(path, line, found, positions, text, separator):
    """The error for a line lacking a selected field; ``text`` is the line."""
    # Name the first selected column the line lacks, not the first field.
    column = int(min(p for p in positions if p >= found)) + 1
    text = text.strip()
    first_field = _split(text, separator)[0] if text else ""
    message = (
        f"{path}, line {line}, column {column}: missing; expected at least "
        f"{int(positions.max()) + 1} fields, found {found}: {text!r}."
        + _separator_hint(first_field, separator)
    )
    return RatingsFileError(message, path, int(line), column)


def _separator_hint(text, separator):
    """A hint naming a separator that the first field of a bad line holds, or "".

    A blank counts only in text with a digit, as a header name may hold one.
    """
    for candidate in _LIKELY_SEPARATORS:
        if candidate == separator or candidate not in text:
            continue
        if candidate == " " and not any(c.isdigit() for c in text):
            continue
        if candidate == ":" and "::" in text:
            candidate = "::"
        if sum(1 for part in text.split(candidate) if part.strip()) < 2:
            continue
        return (
            f" The fields may be separated by {candidate!r}: pass sep={candidate!r} "
            "(CLI: --sep)."
        )
    return ""


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

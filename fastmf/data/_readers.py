"""Reading ratings files: MovieLens layouts, LIBMF triples and other delimited text,
compressed or not, parsed by compiled kernels with no Python object per row."""

import bz2
import codecs
import gzip
import lzma
import os
import re

import numba
import numpy as np

from .._threads import parallel_section
from ..exceptions import RatingsFileError
from ..kernels import _ids, _parse
from ._ratings import IdMap, Ratings

#: Named layouts: separator, whether the first line is a header, and the column
#: of the timestamps where the layout has them.
PRESETS = {
    "ml-100k": {"sep": "\t", "header": False, "timestamps": 3},
    "ml-1m": {"sep": "::", "header": False, "timestamps": 3},
    "ml-10m": {"sep": "::", "header": False, "timestamps": 3},
    "ml-latest": {"sep": ",", "header": True, "timestamps": 3},
    "ml-20m": {"sep": ",", "header": True, "timestamps": 3},
    "libmf": {"sep": " ", "header": False},
}

_IDS = ("auto", "int", "str")
_ENCODINGS = {"utf-8": "utf-8", "iso8859-1": "latin-1"}

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
# A double-quoted field, doubled quotes inside included.
_QUOTED = re.compile(r'"(?:[^"]|"")*"')

#: Separators tried on the first line, in order; else runs of blanks.
_GUESSED_SEPARATORS = ("::", "\t", ",", ";", "|")
# Characters that hint at a separator other than the one in use.
_LIKELY_SEPARATORS = (";", "|", ":", ",", "\t", " ")

# Each thread parses a range of at least this many bytes; smaller files are parsed
# on one thread, where starting the others would cost more than it saves.
_MIN_CHUNK_BYTES = 1 << 20
# Rows of the buffer that records ratings for Python's float(), per range; when it
# fills up the range is resumed after converting them, so memory stays bounded.
_INEXACT_ROWS = 4096
# All 64 bits of the text-id hashes are used; tests narrow it to force collisions.
_HASH_MASK = np.uint64(2**64 - 1)

_ROLES = ("user", "item", "rating", "timestamp")


def read_ratings(
    path,
    *,
    sep=None,
    header=None,
    columns=(0, 1, 2),
    preset=None,
    ids="auto",
    encoding="utf-8",
    comment=None,
    timestamps=None,
):
    """Read explicit ratings from a delimited text file.

    Reads MovieLens ``u.data`` (tab, no header), ``ratings.csv`` (comma, header)
    and ``ratings.dat`` (``::``), LIBMF's ``user item value`` lines, and any
    similar UTF-8, Latin-1 or ASCII file with LF, CRLF or CR line endings,
    optionally gzip, bz2 or xz compressed (detected from the content, not the
    name). Ids may be integers or text; they are mapped to contiguous indices in
    sorted order and the maps are kept.

    Parameters
    ----------
    path : str or os.PathLike
    sep : str, optional
        Field separator, a non-empty string without a double quote; ``" "`` means
        runs of blanks. By default: the preset's, else guessed from the first line
        (``::``, then tab, comma, ``;`` and ``|``, else runs of blanks), outside
        quoted fields.
    header : bool or None, optional
        Whether the first line is a header. By default it is detected: a first
        line whose id or rating fields are not numbers is a header.
    columns : tuple of 3 int or str, default (0, 1, 2)
        Three distinct fields holding the user id, item id and rating: 0-based
        positions, or names from the header. Other fields are ignored.
    preset : str, optional
        One of ``PRESETS`` (``"ml-100k"``, ``"ml-1m"``, ``"ml-latest"``,
        ``"libmf"``, ...): sets the separator, the header and, for MovieLens, the
        timestamp column; explicit arguments win.
    ids : {"auto", "int", "str"}, default "auto"
        How user and item ids are read. ``"int"``: 64-bit integers (anything else
        is an error). ``"str"``: text, so ``"007"`` and ``"7"`` are two ids.
        ``"auto"``: decided per column, integers when every id of the column is
        an integer of at most 64 bits, else text.
    encoding : {"utf-8", "latin-1"}, default "utf-8"
        Encoding of text ids and header names. A text id that is not valid UTF-8
        is an error naming its line and column.
    comment : str, optional
        A character that starts comment lines (``"#"``): lines whose first
        non-blank character it is are skipped, like blank lines. By default
        there are none.
    timestamps : int, str or False, optional
        Field of the rating times, read as int64 into ``Ratings.timestamps``: a
        0-based position or a header name. By default the preset's (column 3 of
        the MovieLens layouts), else none; ``False`` reads none even with a
        preset.

    Returns
    -------
    Ratings
        Integer ids give int64 id maps, text ids maps of sorted ``str``.

    Raises
    ------
    RatingsFileError
        For an empty file, a file that is not text (binary, UTF-16, zip or zstd),
        a file without ratings, a malformed line or an id that is not valid in
        ``encoding``; the message names the file, the line, the column and the
        offending text.
    ValueError
        For an invalid argument.

    Notes
    -----
    The file is read into memory whole and parsed in parallel on Numba's threads
    (``numba.set_num_threads``), one byte range per thread; the result does not
    depend on the number of threads. Peak memory is about the size of the file
    plus the arrays returned (16 bytes per rating, 24 with timestamps): integer
    ids that fit int32 are replaced by their indices in place. Ids beyond int32
    cost 16 bytes more per rating while reading, text ids 20 per column.

    Text ids are hashed (64-bit FNV-1a) in compiled code; rows whose hashes are
    equal are compared byte for byte, so a hash collision never merges two ids.
    Only the distinct ids become Python strings. In ``"auto"`` mode a column that
    turns out to hold text after some integers is parsed again from the start.

    A quoted field (``"a, b"``; a quote inside is written twice) may hold the
    separator but not a line break. A comment must take its whole line.
    """
    path = os.fspath(path)
    columns = _check_columns(columns)
    settings = dict(PRESETS[_check_preset(preset)]) if preset is not None else {}
    if sep is not None:
        settings["sep"] = _check_sep(sep)
    if header is not None:
        settings["header"] = _check_header(header)
    if timestamps is not None:
        settings["timestamps"] = _check_timestamps(timestamps, columns)
    ids = _check_ids(ids)
    encoding = _check_encoding(encoding)
    comment_byte = _check_comment(comment, settings.get("sep"))

    buf = _read_bytes(path)
    bounds, counts = _count_line_ends(buf)
    if counts[:, 1].any():  # carriage returns: CRLF passes, CR alone is changed
        normalised = _normalise_line_ends(buf)
        if normalised is not buf:
            buf = normalised
            bounds, counts = _count_line_ends(buf)
    start = len(_BOM) if encoding == "utf-8" and buf[:3] == _BOM else 0
    start, first_line = _skip_blank_lines(buf, start, 1, comment_byte)
    if start >= len(buf):
        raise RatingsFileError(f"{path}: the file holds no ratings.", path)

    line_end = buf.find(b"\n", start)
    line_end = len(buf) if line_end < 0 else line_end
    first = buf[start:line_end].decode(encoding, "replace")
    separator = settings.get("sep") or _guess_separator(_QUOTED.sub("", first))
    if comment is not None and comment in separator:
        raise ValueError(
            f"comment {comment!r} is part of the separator {separator!r}; choose "
            "another comment character."
        )
    sep_bytes = np.frombuffer(_separator_bytes(separator), dtype=np.uint8).copy()
    fields = _line_fields(buf, start, line_end, sep_bytes, encoding)
    selected = columns + _timestamp_column(settings.get("timestamps"))

    has_header = settings.get("header")
    if has_header is None:
        _check_first_line_fields(fields, selected, first, first_line, path, separator)
        has_header = _is_header(fields, columns)
    positions = _column_positions(selected, fields if has_header else None, path)
    if has_header:
        start, first_line = _skip_blank_lines(
            buf, line_end + 1, first_line + 1, comment_byte
        )

    layout = _Layout(
        path, separator, sep_bytes, comment_byte, positions, ids, encoding,
        header_given=has_header, first_line=first_line,
    )  # fmt: skip
    bounds, newlines = _ranges_from(buf, bounds, counts[:, 0], start)
    rows = _parse_rows(buf, bounds, newlines, layout)
    del buf  # the text is no longer needed: free it before encoding the ids
    return _ratings_from_rows(rows, layout, has_header)


class _Layout:
    """What the parse of one file needs to know, and to say in its errors."""

    def __init__(
        self, path, separator, sep_bytes, comment, positions, ids, encoding,
        header_given, first_line,
    ):  # fmt: skip
        self.path = path
        self.separator = separator
        self.sep_bytes = sep_bytes
        self.comment = comment
        self.positions = positions
        self.ids = ids
        self.encoding = encoding
        self.header_given = header_given
        self.first_line = first_line


# -- argument checks -------------------------------------------------------------


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
    if '"' in sep:
        raise ValueError(
            f"sep must not contain a double quote, which quotes fields; got {sep!r}."
        )
    return sep


def _check_header(header):
    # Not truthiness: header="no" must not mean True.
    if not isinstance(header, (bool, np.bool_)):
        raise ValueError(
            f"header must be None (detect), True or False; got {header!r}."
        )
    return bool(header)


def _is_position(column):
    return isinstance(column, (int, np.integer)) and not isinstance(
        column, (bool, np.bool_)
    )


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
        if _is_position(column):
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


def _check_timestamps(timestamps, columns):
    """``timestamps`` as False, a non-negative int or a name."""
    if timestamps is False or (isinstance(timestamps, np.bool_) and not timestamps):
        return False
    if _is_position(timestamps) and timestamps >= 0:
        timestamps = int(timestamps)
    elif not isinstance(timestamps, str) or not timestamps:
        raise ValueError(
            "timestamps must be None (the preset's), False (none), a 0-based "
            f"position or a header name; got {timestamps!r}."
        )
    if timestamps in columns:
        raise ValueError(
            f"timestamps={timestamps!r} is also one of columns={columns!r}; the "
            "timestamp field must differ from the user, item and rating fields."
        )
    return timestamps


def _timestamp_column(timestamps):
    return () if timestamps is None or timestamps is False else (timestamps,)


def _check_ids(ids):
    if not isinstance(ids, str) or ids not in _IDS:
        raise ValueError(f"ids must be 'auto', 'int' or 'str'; got {ids!r}.")
    return ids


def _check_encoding(encoding):
    try:
        name = codecs.lookup(encoding).name if isinstance(encoding, str) else None
    except LookupError:
        name = None
    if name not in _ENCODINGS:
        raise ValueError(
            f"encoding must be 'utf-8' or 'latin-1'; got {encoding!r}. Re-encode "
            "other files as UTF-8."
        )
    return _ENCODINGS[name]


def _check_comment(comment, sep):
    """The comment character as a byte value, or -1 for none."""
    if comment is None:
        return -1
    if (
        not isinstance(comment, str)
        or len(comment) != 1
        or not comment.isascii()
        or comment in ' \t\r\n"'
        or not comment.isprintable()
    ):
        raise ValueError(
            "comment must be None or one printable ASCII character other than a "
            f"blank or a double quote, such as '#'; got {comment!r}."
        )
    if sep is not None and comment in sep:
        raise ValueError(
            f"comment {comment!r} is part of the separator {sep!r}; choose another "
            "comment character."
        )
    return ord(comment)


# -- bytes -----------------------------------------------------------------------


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


def _skip_blank_lines(buf, start, line=1, comment=-1):
    """Offset and number of the first line at or after ``start`` holding data.

    Blank lines and, when ``comment`` is a byte value, comment lines are skipped.
    """
    while start < len(buf):
        end = buf.find(b"\n", start)
        end = len(buf) if end < 0 else end
        text = buf[start:end].strip()
        if text and text[0] != comment:
            break
        start = end + 1
        line += 1
    return start, line


# -- the first line ----------------------------------------------------------------


def _guess_separator(line):
    for candidate in _GUESSED_SEPARATORS:
        if candidate in line:
            return candidate
    return " "


def _separator_bytes(separator):
    return b"" if separator == " " else separator.encode("utf-8")


def _unquote(raw):
    """The text of a field as the parser found it: quotes undone."""
    if len(raw) >= 2 and raw[:1] == b'"':
        return raw[1:-1].replace(b'""', b'"')
    return raw


def _line_fields(buf, start, line_end, sep_bytes, encoding):
    """Fields of one line, split by the compiled parser, unquoted and decoded."""
    data = np.frombuffer(buf, dtype=np.uint8)
    spans = np.zeros((max(64, line_end - start + 1), 3), dtype=np.int64)
    n = _parse.split_line(data, start, line_end, sep_bytes, spans)
    return [
        _unquote(buf[a:b]).decode(encoding, "replace").strip() for a, b, _ in spans[:n]
    ]


def _split(line, separator):
    """Fields of ``line`` split at the separator (for messages), each stripped."""
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


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_header(fields, columns):
    """Whether a first line is a header: none of its selected fields is a number.

    A data line with one bad field is not a header; it is reported as an error
    instead of being skipped, so no rating is ever dropped silently. The caller
    has checked that the line has every selected position.
    """
    if not all(isinstance(c, int) for c in columns):
        return True
    return not any(_is_number(fields[column]) for column in columns)


def _column_positions(columns, header_fields, path):
    """The 0-based field of user, item, rating and timestamp (-1: none)."""
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
    if len(set(positions)) < len(positions):
        raise ValueError(
            f"columns {columns!r} select the same field twice; the user, item, "
            "rating and timestamp fields must differ."
        )
    positions += [-1] * (4 - len(positions))
    return np.array(positions, dtype=np.int64)


# -- the rows --------------------------------------------------------------------


class _Rows:
    """The parsed columns: integer ids or text spans, ratings, timestamps.

    Integer ids go to int32 arrays until one does not fit; then both id columns
    are read again into int64 arrays (the kernel takes the two of one type).
    """

    def __init__(self, capacity, modes, with_timestamps):
        self.modes = modes
        self.values = np.empty(capacity, dtype=np.float64)
        self.timestamps = np.empty(capacity if with_timestamps else 0, np.int64)
        self.id_type = np.int32
        self.ids = [self._int_ids(mode) for mode in modes]
        self.spans = [_text_spans(capacity, mode) for mode in modes]
        self.n = capacity
        self.inexact = None
        self.text_maps = {}  # id column -> IdMap of its sorted text ids

    def _int_ids(self, mode):
        capacity = 0 if mode == _parse.ID_TEXT else self.values.size
        return np.empty(capacity, dtype=self.id_type)

    def read_as_text(self, column):
        """Switch id column ``column`` (0: users, 1: items) to text."""
        self.modes[column] = _parse.ID_TEXT
        self.ids[column] = self._int_ids(_parse.ID_TEXT)
        self.spans[column] = _text_spans(self.values.size, _parse.ID_TEXT)

    def widen(self):
        """Read integer ids into int64 arrays."""
        self.id_type = np.int64
        self.ids = [None, None]  # free the int32 arrays first
        self.ids = [self._int_ids(mode) for mode in self.modes]

    def arrays(self):
        """Every array holding one entry per row."""
        arrays = [self.values]
        if self.timestamps.size:
            arrays.append(self.timestamps)
        for column in (0, 1):
            arrays.append(
                self.spans[column] if self.is_text(column) else self.ids[column]
            )
        return arrays

    def is_text(self, column):
        return self.modes[column] == _parse.ID_TEXT


def _text_spans(capacity, mode):
    return np.empty((capacity if mode == _parse.ID_TEXT else 0, 2), dtype=np.int64)


def _parse_rows(buf, bounds, newlines, layout):
    """Parse the lines of the ranges; return the rows or raise the first error.

    ``newlines`` holds the number of newlines of each range.
    """
    data = np.frombuffer(buf, dtype=np.uint8)
    room = newlines.copy()  # rows each range may hold: one per line
    if not buf.endswith(b"\n"):
        room[-1] += 1
    first_rows = np.concatenate([[0], np.cumsum(room)[:-1]]).astype(np.int64)
    first_lines = layout.first_line + np.concatenate([[0], np.cumsum(newlines)[:-1]])
    first_lines = first_lines.astype(np.int64)

    initial = _parse.ID_AUTO if layout.ids == "auto" else _parse.ID_INT
    if layout.ids == "str":
        initial = _parse.ID_TEXT
    rows = _Rows(int(room.sum()), [initial, initial], layout.positions[3] >= 0)
    while True:
        states = _run_ranges(data, bounds, first_rows, first_lines, rows, layout)
        again = _finish_ranges(buf, data, bounds, states, rows, layout)
        if again is None:
            break
        if again == "wide":
            rows.widen()
        else:
            rows.read_as_text(again)  # a non-integer in "auto": read it as text

    rows.n = _close_gaps(rows, first_rows, room, states[:, 1] - first_rows)
    if rows.n == 0:
        return rows
    errors = []
    for column in (0, 1):
        if rows.is_text(column):
            try:
                rows.ids[column] = _encode_text_ids(buf, data, rows, column, layout)
            except RatingsFileError as error:
                errors.append(error)
            rows.spans[column] = None
    if errors:  # the first in the file, whichever column it is in
        raise min(errors, key=lambda error: (error.line, error.column))
    return rows


def _n_chunks(n_bytes):
    """How many byte ranges to parse at once: one per thread, none tiny."""
    return max(1, min(numba.get_num_threads(), n_bytes // _MIN_CHUNK_BYTES))


def _count_line_ends(buf):
    """Byte ranges for the threads, each starting a line, and their line ends.

    Returns ``bounds`` (range ``c`` is ``buf[bounds[c]:bounds[c + 1]]``) and, per
    range, its newlines and carriage returns. Counting them is one parallel pass.
    """
    n_chunks = _n_chunks(len(buf))
    bounds = [0]
    for c in range(1, n_chunks):
        cut = buf.find(b"\n", c * len(buf) // n_chunks) + 1
        if cut <= bounds[-1] or cut >= len(buf):
            continue
        bounds.append(cut)
    bounds.append(len(buf))
    bounds = np.array(bounds, dtype=np.int64)
    counts = np.empty((bounds.size - 1, 2), dtype=np.int64)
    with parallel_section():  # takes turns on a thread-unsafe threading layer
        _parse.count_line_ends(np.frombuffer(buf, dtype=np.uint8), bounds, counts)
    return bounds, counts


def _ranges_from(buf, bounds, newlines, start):
    """The ranges and their newline counts, cut to begin at ``start``."""
    first = int(np.searchsorted(bounds, start, side="right")) - 1
    first = min(first, bounds.size - 2)  # start at the very end: one empty range
    skipped = buf.count(b"\n", int(bounds[first]), start)
    newlines = newlines[first:].copy()
    newlines[0] -= skipped
    bounds = np.concatenate([[start], bounds[first + 1 :]]).astype(np.int64)
    return bounds, newlines


def _run_ranges(data, bounds, first_rows, first_lines, rows, layout):
    """Parse every range, in parallel when there are several."""
    n_chunks = bounds.size - 1
    modes = np.array(rows.modes, dtype=np.int64)
    inexact = np.empty((n_chunks * _INEXACT_ROWS, 4), dtype=np.int64)
    arrays = (
        layout.sep_bytes, layout.comment, layout.positions, modes, *rows.ids,
        *rows.spans, rows.values, rows.timestamps, inexact,
    )  # fmt: skip
    states = np.empty((n_chunks, 8), dtype=np.int64)
    if n_chunks == 1:
        states[0] = _parse.parse_chunk(
            data, bounds[0], bounds[1], 0, first_lines[0], *arrays, 0, _INEXACT_ROWS
        )
    else:
        with parallel_section():
            _parse.parse_chunks(data, bounds, first_rows, first_lines, *arrays, states)
    rows.inexact = inexact
    return states


def _finish_ranges(buf, data, bounds, states, rows, layout):
    """Convert inexact ratings, resume full ranges and raise the first error.

    Ranges are handled in file order, so the error reported is the first in the
    file. Returns what to read again: the id column (0 or 1) to read as text when
    an "auto" column held a non-integer, "wide" when an integer id needs int64;
    else None.
    """
    modes = np.array(rows.modes, dtype=np.int64)
    for c in range(bounds.size - 1):
        low, high = c * _INEXACT_ROWS, (c + 1) * _INEXACT_ROWS
        while True:
            pos, row, line, status, field, a, b, n_inexact = (
                int(x) for x in states[c]
            )  # fmt: skip
            _convert_inexact(
                buf, rows.values, rows.inexact[low : low + n_inexact], layout
            )
            if status != _parse.INEXACT_FULL:
                break
            states[c] = _parse.parse_chunk(
                data, pos, bounds[c + 1], row, line, layout.sep_bytes, layout.comment,
                layout.positions, modes, *rows.ids, *rows.spans, rows.values,
                rows.timestamps, rows.inexact, low, high,
            )  # fmt: skip
        if status == _parse.NOT_INTEGER:
            return 0 if field == layout.positions[0] else 1
        if status == _parse.WIDE_INTEGER:
            return "wide"
        if status != _parse.OK:
            raise _row_error(buf, status, line, field, a, b, layout)
    return None


def _convert_inexact(buf, values, inexact, layout):
    """Ratings outside the compiled fast path, converted by Python's float()."""
    for row, a, b, line in inexact:
        text = buf[a:b]
        values[row] = float(text)
        if not np.isfinite(values[row]):
            column = int(layout.positions[2]) + 1
            raise RatingsFileError(
                f"{layout.path}, line {line}, column {column}: the rating "
                f"{text.decode(errors='replace')!r} is not a finite double; "
                "ratings must be finite.",
                layout.path, int(line), column,
            )  # fmt: skip


def _close_gaps(rows, first_rows, room, found):
    """Move each range's rows up to the previous range's; returns the row count.

    A range leaves a gap when it holds blank or comment lines.
    """
    n = int(found[0])
    if (found == room).all():
        return int(found.sum())
    for c in range(1, first_rows.size):
        count, source = int(found[c]), int(first_rows[c])
        for array in rows.arrays():
            array[n : n + count] = array[source : source + count]
        n += count
    return n


# -- text ids --------------------------------------------------------------------


def _encode_text_ids(buf, data, rows, column, layout):
    """Codes (int32) of the text ids of one column; sets ``rows.text_maps``.

    Only the distinct ids become Python strings; they are sorted, and the codes of
    the compiled pass (in order of first appearance) renumbered to match.
    """
    spans = rows.spans[column]
    first_rows, codes = _ids.span_codes(data, spans, rows.n, _HASH_MASK)
    texts = []
    for row in first_rows:
        a, b = spans[row]
        raw = _unquote(buf[a:b])
        try:
            text = raw.decode(layout.encoding)
        except UnicodeDecodeError as error:
            raise _decode_error(buf, a, raw, error, column, layout) from None
        if "\x00" in text:
            line, position = _line_of(buf, a), int(layout.positions[column]) + 1
            raise RatingsFileError(
                f"{layout.path}, line {line}, column {position}: the "
                f"{_ROLES[column]} id {text!r} holds a NUL character.",
                layout.path, line, position,
            )  # fmt: skip
        texts.append(text)
    if len(texts) >= np.iinfo(np.int32).max:
        raise ValueError(
            f"{_ROLES[column]}s have {len(texts):,} distinct ids; at most 2**31-2."
        )
    ids = np.array(texts, dtype=str)
    del texts
    order = np.argsort(ids, kind="stable")
    new_code = np.empty(order.size, dtype=np.int32)
    new_code[order] = np.arange(order.size, dtype=np.int32)
    _ids.renumber(codes, new_code)
    rows.text_maps[column] = IdMap(ids[order])
    return codes


def _line_of(buf, offset):
    """1-based number of the line holding byte ``offset``."""
    return buf.count(b"\n", 0, offset) + 1


def _decode_error(buf, a, raw, error, column, layout):
    line = _line_of(buf, a)
    position = int(layout.positions[column]) + 1
    shown = raw.decode(layout.encoding, "backslashreplace")
    return RatingsFileError(
        f"{layout.path}, line {line}, column {position}: the {_ROLES[column]} id "
        f"{shown!r} is not valid UTF-8 (byte 0x{raw[error.start]:02x} at position "
        f"{error.start}). If the file is Latin-1 encoded, pass encoding='latin-1'.",
        layout.path, line, position,
    )  # fmt: skip


def _ratings_from_rows(rows, layout, has_header):
    path = layout.path
    if rows.n == 0:
        raise RatingsFileError(
            f"{path}: the file holds no ratings"
            + (" (only a header line)." if has_header else "."),
            path,
        )
    values = _trimmed(rows.values, rows.n)
    timestamps = _trimmed(rows.timestamps, rows.n) if rows.timestamps.size else None
    maps, indices = [], []
    for column, name in ((0, "users"), (1, "items")):
        if column in rows.text_maps:
            maps.append(rows.text_maps[column])
            indices.append(_trimmed(rows.ids[column], rows.n))
        elif rows.id_type == np.int32:
            # Replace the ids by their codes in place: no new array.
            codes = rows.ids[column][: rows.n]
            maps.append(IdMap(_ids.integer_codes(codes, codes)))
            indices.append(_trimmed(rows.ids[column], rows.n))
        else:
            raw = rows.ids[column][: rows.n]
            rows.ids[column] = None
            id_map, index = IdMap.encode(raw, name)
            del raw
            maps.append(id_map)
            indices.append(index)
    shape = (len(maps[0]), len(maps[1]))
    return Ratings(indices[0], indices[1], values, shape, maps[0], maps[1], timestamps)


def _trimmed(array, n):
    """``array[:n]``, copied when that frees much memory."""
    return array[:n].copy() if n < 0.9 * array.size else array[:n]


# -- errors ----------------------------------------------------------------------


def _row_error(buf, status, line, field, span_start, span_end, layout):
    path, positions, separator = layout.path, layout.positions, layout.separator
    if status == _parse.CAPACITY:
        raise RuntimeError(f"{path}: more rows than lines; this is a bug.")
    text = buf[span_start:span_end].decode(layout.encoding, "replace").strip()
    column = field + 1
    if status == _parse.MISSING_FIELD:
        return _missing_field_error(path, line, field, positions, text, separator)

    role = _ROLES[list(positions).index(field)] if field in positions else None
    where = f"{path}, line {line}, column {column}: "
    if status == _parse.EMPTY_ID:
        message = where + f"expected a {role} id, got an empty field."
    elif status == _parse.UNTERMINATED_QUOTE:
        message = (
            where + f"the quoted field {text!r} has no closing quote; a quoted "
            "field must end on its line."
        )
    elif status == _parse.TEXT_AFTER_QUOTE:
        message = (
            where + f"the quoted field {text!r} has text after its closing quote; "
            'write a quote inside a quoted field twice ("").'
        )
    else:
        message = where + f"expected {_expected(status, role, text, layout.ids)}"
    if (
        not layout.header_given
        and line == layout.first_line
        and not _has_number(buf, span_start, span_end)
    ):
        message += _header_hint(buf, span_start, line, layout)
    if field == 0:
        message += _separator_hint(text, separator)
    return RatingsFileError(message, path, line, column)


def _expected(status, role, text, ids):
    """What a field should have held, what it held, and the way out."""
    if role in ("user", "item"):
        if status == _parse.INTEGER_OVERFLOW:
            return (
                f"an integer id within 64 bits, got {text!r}. Pass ids='str' (or "
                "'auto') to read such ids as text."
            )
        way_out = " Pass ids='auto' or ids='str' to read text ids." * (ids == "int")
        return f"an integer id, got {text!r}.{way_out}"
    if role == "timestamp":
        size = " within 64 bits" if status == _parse.INTEGER_OVERFLOW else ""
        return f"an integer timestamp{size}, got {text!r}."
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return f"a number, got the non-finite value {text!r}; ratings must be finite."
    return f"a number, got {text!r}."


def _header_hint(buf, span_start, line, layout):
    """A hint that the first line, whose fields are all non-numeric, is a header."""
    line_start = buf.rfind(b"\n", 0, span_start) + 1
    line_end = buf.find(b"\n", span_start)
    line_end = len(buf) if line_end < 0 else line_end
    fields = _line_fields(buf, line_start, line_end, layout.sep_bytes, layout.encoding)
    named = [repr(fields[p]) for p in layout.positions[:3] if 0 <= p < len(fields)]
    return (
        f" If line {line} is a header ({', '.join(named)}), pass header=True "
        "(CLI: --header)."
    )


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
    for field in re.split(rb'[\s,;:|"]+', line):
        try:
            float(field)
        except ValueError:
            continue
        return True
    return False

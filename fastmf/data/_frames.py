"""Ratings from pandas, polars and Arrow tables and from Parquet files.

Each adapter picks the user, item and rating columns (and optionally a timestamp
column), turns each into a NumPy array with the library's own vectorised
conversion, checks it and builds a :class:`Ratings` exactly as
:meth:`Ratings.from_raw_ids` would: raw ids sorted into an :class:`IdMap`,
contiguous int32 indices, float64 ratings.

- Numeric columns never become Python objects: they come out with ``to_numpy``,
  without a copy where the library allows one. Zero-copy arrays are read-only
  views, so nothing in fastmf can write into the caller's frame.
- String and categorical ids are dictionary-encoded by the library (pandas
  ``factorize`` and categories, Arrow ``dictionary_encode``, which polars ids go
  through too when pyarrow is installed, else polars ``unique``); only the
  distinct ids become Python strings.
- pandas, polars and pyarrow are optional: each is imported when its adapter is
  called, and a missing one fails naming the extra to install.

The checks live here rather than in ``fastmf._validation``: they are about frame
columns (nulls, extension dtypes, column selection), not about the NumPy arrays
every other entry point validates. The ids they produce are encoded by the same
``IdMap`` code as ``from_raw_ids``.
"""

from __future__ import annotations

import importlib
import numbers
import os
from collections.abc import Hashable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ._ratings import IdMap, Ratings, _object_ids_to_array

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

_WHAT = {
    "user": "user id",
    "item": "item id",
    "rating": "rating",
    "timestamp": "timestamp",
}
#: The adapter for frames of each library, for messages that point to it.
_ADAPTERS = {"pandas": "from_pandas", "polars": "from_polars", "pyarrow": "from_arrow"}


class _Column(NamedTuple):
    """One selected column, converted to NumPy.

    Exactly one of ``values`` (numbers, ids or datetimes as an array) and
    ``codes`` (dictionary-encoded ids: positions into ``dictionary``) is set.
    ``dtype`` is the library's own name of the column type, for messages.
    """

    label: Hashable
    dtype: str
    values: np.ndarray | None = None
    codes: np.ndarray | None = None
    dictionary: np.ndarray | None = None


# -- public adapters ----------------------------------------------------------------


def from_pandas(
    frame: pandas.DataFrame,
    user: Hashable = "user",
    item: Hashable = "item",
    rating: Hashable = "rating",
    timestamp: Hashable | None = None,
) -> Ratings:
    """Ratings from a pandas DataFrame, keeping its raw user and item ids.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per rating. It is never modified.
    user, item, rating : column label or int, default "user", "item", "rating"
        The columns to use, by label, or by 0-based position when an int.
    timestamp : column label or int, optional
        A column of integer seconds since the epoch or of datetimes (time zones
        are converted to UTC); stored as int64 seconds in ``Ratings.timestamps``.

    Returns
    -------
    Ratings
        Raw ids sorted into ``user_map`` and ``item_map``, as
        :meth:`Ratings.from_raw_ids` builds them, so models answer in raw ids.

    Raises
    ------
    ImportError
        When pandas is not installed.
    TypeError
        When ``frame`` is not a DataFrame or a column has the wrong type: ids
        must be integers or strings (categoricals of either included), ratings
        real numbers, timestamps integers or datetimes.
    ValueError
        When a column is missing or selected twice, or holds a missing value
        (None, NaN, NA, NaT) or a non-finite rating; the message names the
        column and the 0-based row (and the index label).

    Notes
    -----
    Any integer dtype works for ids (NumPy, nullable ``Int64``, Arrow); string
    ids may be ``object``, ``string``/``str`` or Arrow strings, or categoricals.
    An int selects a column by position even when the columns have integer
    labels; an int that is also the label of another column is refused as
    ambiguous. Integer timestamps are taken as seconds; datetimes are floored to
    whole seconds. Numeric columns are not copied where pandas allows it: the
    ratings may then be a read-only view of the frame's memory.

    Examples
    --------
    >>> import pandas as pd
    >>> from fastmf.data import from_pandas
    >>> frame = pd.DataFrame(
    ...     {"user": ["ann", "bob", "ann"], "item": [10, 20, 20],
    ...      "rating": [4.0, 3.5, 5.0]}
    ... )
    >>> ratings = from_pandas(frame)
    >>> ratings.shape
    (2, 2)
    >>> ratings.user_map.ids.tolist(), ratings.item_map.ids.tolist()
    (['ann', 'bob'], [10, 20])
    """
    pd = _require("pandas", "from_pandas", "pandas")
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(_wrong_type("from_pandas", "a pandas.DataFrame", frame))
    selectors = _check_selectors(user, item, rating, timestamp, labels=True)

    positions = {
        role: _pandas_position(frame.columns, selector, role)
        for role, selector in selectors.items()
    }
    _check_distinct(positions, lambda p: _plain(frame.columns[p]))
    columns = {
        role: _pandas_column(frame, position, role, pd)
        for role, position in positions.items()
    }
    return _assemble(columns, "")


def from_polars(
    frame: polars.DataFrame,
    user: str | int = "user",
    item: str | int = "item",
    rating: str | int = "rating",
    timestamp: str | int | None = None,
) -> Ratings:
    """Ratings from a polars DataFrame, keeping its raw user and item ids.

    Parameters
    ----------
    frame : polars.DataFrame
        One row per rating; collect a ``LazyFrame`` first. It is never modified.
    user, item, rating : str or int, default "user", "item", "rating"
        The columns to use, by name or by 0-based position.
    timestamp : str or int, optional
        A column of integer seconds since the epoch, ``Datetime`` (time zones are
        UTC underneath) or ``Date``; stored as int64 seconds in
        ``Ratings.timestamps``.

    Returns
    -------
    Ratings
        As :meth:`Ratings.from_raw_ids` builds it from the same ids and ratings.

    Raises
    ------
    ImportError
        When polars is not installed.
    TypeError
        When ``frame`` is not a DataFrame or a column has the wrong type: ids
        must be integers, strings, ``Categorical`` or ``Enum``, ratings real
        numbers, timestamps integers or temporal.
    ValueError
        When a column is missing or selected twice, or holds a null or a
        non-finite rating (NaN is a value in polars, not a null); the message
        names the column and the 0-based row.

    Notes
    -----
    Numeric columns without nulls are not copied where polars allows it (a
    single chunk); the ratings may then be a read-only view of its memory.
    Datetimes are floored to whole seconds.
    """
    pl = _require("polars", "from_polars", "polars")
    if not isinstance(frame, pl.DataFrame):
        hint = ""
        if isinstance(frame, pl.LazyFrame):
            hint = " Collect the LazyFrame first: frame.collect()."
        message = _wrong_type("from_polars", "a polars.DataFrame", frame)
        raise TypeError(message + hint)
    selectors = _check_selectors(user, item, rating, timestamp, labels=False)

    names = list(frame.columns)
    positions = {
        role: _named_position(names, selector, role, "the frame")
        for role, selector in selectors.items()
    }
    _check_distinct(positions, names.__getitem__)
    columns = {
        role: _polars_column(frame.to_series(position), role, pl)
        for role, position in positions.items()
    }
    return _assemble(columns, "")


def from_arrow(
    table: pyarrow.Table | pyarrow.RecordBatch,
    user: str | int = "user",
    item: str | int = "item",
    rating: str | int = "rating",
    timestamp: str | int | None = None,
) -> Ratings:
    """Ratings from a pyarrow Table or RecordBatch, keeping its raw ids.

    Parameters
    ----------
    table : pyarrow.Table or pyarrow.RecordBatch
        One row per rating. It is never modified.
    user, item, rating : str or int, default "user", "item", "rating"
        The columns to use, by name or by 0-based position.
    timestamp : str or int, optional
        A column of integer seconds since the epoch, ``timestamp`` (any unit;
        time zones are UTC underneath) or ``date``; stored as int64 seconds in
        ``Ratings.timestamps``.

    Returns
    -------
    Ratings
        As :meth:`Ratings.from_raw_ids` builds it from the same ids and ratings.

    Raises
    ------
    ImportError
        When pyarrow is not installed.
    TypeError
        When ``table`` is neither a Table nor a RecordBatch or a column has the
        wrong type: ids must be integers, strings, binary or dictionary-encoded
        integers or strings, ratings real numbers (decimals included),
        timestamps integers, timestamps or dates.
    ValueError
        When a column is missing, ambiguous or selected twice, or holds a null
        or a non-finite rating (NaN is a value in Arrow, not a null); the message
        names the column and the 0-based row.

    Notes
    -----
    A numeric column in one chunk is not copied: the ratings may then be a
    read-only view of the table's memory. Columns in several chunks are
    concatenated. Datetimes are floored to whole seconds.
    """
    pa = _require("pyarrow", "from_arrow", "arrow")
    if not isinstance(table, pa.Table | pa.RecordBatch):
        raise TypeError(
            _wrong_type("from_arrow", "a pyarrow.Table or RecordBatch", table)
        )
    selectors = _check_selectors(user, item, rating, timestamp, labels=False)
    return _from_arrow_table(table, selectors, "", pa)


def read_parquet(
    path: str | os.PathLike,
    user: str | int = "user",
    item: str | int = "item",
    rating: str | int = "rating",
    timestamp: str | int | None = None,
) -> Ratings:
    """Ratings from a Parquet file, reading only the selected columns.

    Parameters
    ----------
    path : str or os.PathLike
        A Parquet file.
    user, item, rating : str or int, default "user", "item", "rating"
        The columns to read, by name or by 0-based position in the file schema.
    timestamp : str or int, optional
        As for :func:`from_arrow`.

    Returns
    -------
    Ratings
        As :meth:`Ratings.from_raw_ids` builds it from the same ids and ratings.

    Raises
    ------
    ImportError
        When pyarrow (with Parquet support) is not installed.
    FileNotFoundError, IsADirectoryError
        When ``path`` is not a file.
    ValueError, TypeError
        As for :func:`from_arrow`; messages start with the path. A file that
        is not Parquet is a ValueError.

    Notes
    -----
    String id columns are read dictionary-encoded, as Parquet usually stores
    them, so each distinct id is decoded once rather than once per row.
    """
    pa = _require("pyarrow", "read_parquet", "arrow")
    pq = _require("pyarrow.parquet", "read_parquet", "arrow")
    selectors = _check_selectors(user, item, rating, timestamp, labels=False)
    path = _check_path(path)

    schema = _parquet_schema(path, pq, pa)
    names = list(schema.names)
    positions = {
        role: _named_position(names, selector, role, path)
        for role, selector in selectors.items()
    }
    _check_distinct(positions, names.__getitem__)
    selected = {role: names[position] for role, position in positions.items()}
    strings = [
        name
        for role, name in selected.items()
        if role in ("user", "item") and _is_arrow_text(schema.field(name).type, pa)
    ]

    try:
        table = pq.read_table(
            path, columns=list(selected.values()), read_dictionary=strings
        )
    except (pa.ArrowInvalid, OSError) as error:
        raise ValueError(f"{path}: not a readable Parquet file ({error}).") from None
    return _from_arrow_table(table, selected, f"{path}: ", pa)


# -- optional imports and argument checks -------------------------------------------


def _require(module, caller, extra):
    """Import ``module`` or fail naming the fastmf extra that installs it."""
    package = module.partition(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if error.name in (None, package):
            raise ImportError(
                f"{caller} needs {package}: pip install 'fastmf[{extra}]'"
            ) from None
        raise ImportError(
            f"{caller} needs {package}, which is installed but failed to import "
            f"({error}); reinstall it: pip install --force-reinstall {package}"
        ) from error


def _wrong_type(caller, expected, given):
    """Message for a frame of the wrong type, pointing to the right adapter."""
    kind = type(given)
    library = kind.__module__.partition(".")[0]
    message = f"{caller} expects {expected}; got {library}.{kind.__qualname__}."
    adapter = _ADAPTERS.get(library)
    if adapter is not None and adapter != caller:
        message += f" Use fastmf.data.{adapter} for {library} data."
    return message


def _check_selectors(user, item, rating, timestamp, labels):
    """The column selectors by role; ``labels`` allows any hashable label."""
    selectors = {"user": user, "item": item, "rating": rating}
    if timestamp is not None:
        selectors["timestamp"] = timestamp
    for role, selector in selectors.items():
        if isinstance(selector, bool | np.bool_) or selector is None:
            good = False
        elif labels:
            good = isinstance(selector, Hashable)
        else:
            good = isinstance(selector, str | numbers.Integral)
        if not good:
            names = "a column label" if labels else "a column name (str)"
            raise TypeError(
                f"{role} must be {names} or a 0-based position (int); got {selector!r}."
            )
    return selectors


def _is_position(selector):
    return isinstance(selector, numbers.Integral) and not isinstance(
        selector, bool | np.bool_
    )


def _check_position(position, n_columns, role, where):
    if not 0 <= position < n_columns:
        raise ValueError(
            f"{role}={position} is not a column of {where}, which has "
            f"{n_columns} columns; pass a 0-based position below {n_columns} or a "
            "column name."
        )
    return int(position)


def _named_position(names, selector, role, where):
    """0-based position of a column given by name or position (polars, Arrow)."""
    if _is_position(selector):
        return _check_position(selector, len(names), role, where)
    found = [position for position, name in enumerate(names) if name == selector]
    if not found:
        raise ValueError(
            f"{role}={selector!r}: {where} has no such column; its columns "
            f"are {_listed(names)}."
        )
    if len(found) > 1:
        raise ValueError(
            f"{role}={selector!r}: {where} has {len(found)} columns of that "
            f"name (positions {found}); pass a 0-based position instead."
        )
    return found[0]


def _check_distinct(positions, name_of):
    """Refuse one column selected for two roles."""
    seen = {}
    for role, position in positions.items():
        if position in seen:
            raise ValueError(
                f"{seen[position]}= and {role}= both select column "
                f"{name_of(position)!r}; the user, item, rating and timestamp "
                "columns must differ."
            )
        seen[position] = role


def _check_path(path):
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"path must be a str or os.PathLike naming a Parquet file; got "
            f"{type(path).__name__}."
        )
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"{path}: is a directory; read_parquet reads one Parquet file."
        )
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such Parquet file.")
    return path


def _listed(names, limit=10):
    shown = ", ".join(repr(name) for name in list(names)[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# -- pandas -------------------------------------------------------------------------


def _pandas_position(columns, selector, role):
    """0-based position of a pandas column; an int is a position."""
    if _is_position(selector):
        position = _check_position(selector, len(columns), role, "the frame")
        labelled = [i for i, label in enumerate(columns) if label == selector]
        if labelled and labelled != [position]:
            raise ValueError(
                f"{role}={selector} is ambiguous: an int selects a column by "
                f"position, here {_plain(columns[position])!r}, but the column at "
                f"position {labelled[0]} is labelled {selector}. Pass "
                f"{role}={labelled[0]} to use that one, or rename the columns."
            )
        return position
    try:
        found = columns.get_loc(selector)
    except KeyError:
        raise ValueError(
            f"{role}={selector!r}: the frame has no such column; its columns are "
            f"{_listed(columns)}."
        ) from None
    if not isinstance(found, numbers.Integral):
        raise ValueError(
            f"{role}={selector!r}: the frame has several columns of that label; "
            "pass a 0-based position instead."
        )
    return int(found)


def _plain(label):
    """A column label as Python shows it: 3, not np.int64(3)."""
    return label.item() if isinstance(label, np.generic) else label


def _pandas_column(frame, position, role, pd):
    """The column at ``position`` as a ``_Column``, after the null check."""
    series = frame.iloc[:, position]
    label, dtype = _plain(frame.columns[position]), series.dtype
    if not (isinstance(dtype, np.dtype) and dtype.kind in "iub"):
        missing = series.isna().to_numpy(dtype=bool)
        if missing.any():
            row = int(np.argmax(missing))
            raise ValueError(
                _null_message("", label, role, row, _index_note(frame.index, row))
                + f" Drop or fill those rows first, e.g. "
                f"frame.dropna(subset=[{label!r}])."
            )

    if isinstance(dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        categories = np.asarray(series.cat.categories.to_numpy())
        if role in ("user", "item"):
            return _Column(label, str(dtype), codes=codes, dictionary=categories)
        return _Column(label, str(dtype), values=categories[codes])
    if isinstance(dtype, getattr(pd, "ArrowDtype", ())):
        # Arrow-backed columns get exactly the Arrow treatment (dictionary-encoded
        # strings, any timestamp unit, decimals), whatever this pandas converts.
        pa = _require("pyarrow", "from_pandas", "arrow")
        data = series.array.__arrow_array__()
        if isinstance(data, pa.Array):
            data = pa.chunked_array([data], type=data.type)
        return _arrow_column(data, label, role, "", pa)
    values = _pandas_numpy(series, pd)
    if values is None and role in ("user", "item"):
        # Strings and objects: pandas hashes them once; only the distinct ids
        # become an array of strings or integers.
        codes, uniques = pd.factorize(series.array)  # uniques: an array, no Index
        dictionary = np.asarray(uniques, dtype=object)
        return _Column(label, str(dtype), codes=codes, dictionary=dictionary)
    return _Column(label, str(dtype), values=values)


def _pandas_numpy(series, pd):
    """A numeric or datetime column as NumPy, a view where pandas allows one.

    The column holds no missing value. Returns None for other dtypes (strings,
    objects, timedeltas), which only id columns accept, through ``factorize``.
    """
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        return series.to_numpy() if dtype.kind in "iufbM" else None
    if isinstance(dtype, pd.DatetimeTZDtype):
        # The stored instants are UTC; asking for naive datetime64 gives them.
        return series.to_numpy(dtype=f"datetime64[{getattr(dtype, 'unit', 'ns')}]")
    numpy_dtype = getattr(dtype, "numpy_dtype", None)  # nullable and Arrow dtypes
    if numpy_dtype is not None and numpy_dtype.kind in "iufbM":
        return series.to_numpy(dtype=numpy_dtype)
    return None


def _index_note(index, row):
    """The index label of ``row`` when the index is not the default 0..n-1."""
    if getattr(index, "start", None) == 0 and getattr(index, "step", None) == 1:
        return ""
    return f"; index label {index[row]!r}"


# -- polars -------------------------------------------------------------------------


def _polars_column(series, role, pl):
    """A polars Series as a ``_Column``, after the null check."""
    label, dtype = series.name, series.dtype
    if series.null_count():
        row = int(series.is_null().arg_true()[0])
        raise ValueError(
            _null_message("", label, role, row, "")
            + f" Drop those rows first, e.g. frame.drop_nulls([{label!r}])."
        )

    string = getattr(pl, "String", None) or pl.Utf8  # String arrived in 0.20.x
    text_types = (string, pl.Categorical, getattr(pl, "Enum", pl.Categorical))
    if role in ("user", "item") and dtype in text_types:
        return _polars_text_ids(series, label, role, string)
    if dtype == pl.Datetime or dtype == pl.Date:
        # The physical values are UTC instants in the column's unit (days for Date).
        unit = "D" if dtype == pl.Date else dtype.time_unit
        physical = series.to_physical().to_numpy().astype(np.int64, copy=False)
        return _Column(label, str(dtype), values=physical.view(f"datetime64[{unit}]"))
    if dtype == pl.Decimal:
        series = series.cast(pl.Float64)
    if not (series.dtype.is_numeric() or series.dtype == pl.Boolean):
        return _Column(label, str(dtype))  # refused by the checks of its role
    return _Column(label, str(dtype), values=np.asarray(series.to_numpy()))


def _polars_text_ids(series, label, role, string):
    """Codes and distinct values of a String, Categorical or Enum id column."""
    try:
        pa = importlib.import_module("pyarrow")
    except ImportError:
        pa = None
    if pa is not None:
        # Arrow's dictionary encoding is about 4 times faster than the polars-only
        # route below (5M string ids: 0.6 s against 2.7 s); polars hands its
        # buffers to Arrow without copying them.
        data = series.to_arrow()
        if isinstance(data, pa.Array):
            data = pa.chunked_array([data], type=data.type)
        return _arrow_dictionary_ids(data, label, role, "", pa)

    # Distinct ids sorted by polars; each row's position among them found by
    # binary search in the same order, so only distinct ids leave polars.
    text = series if series.dtype == string else series.cast(string)
    distinct = text.unique().sort()
    codes = distinct.search_sorted(text).to_numpy()
    # to_list: polars 0.20 needs pyarrow for to_numpy of strings.
    dictionary = np.asarray(distinct.to_list(), dtype=object)
    return _Column(label, str(series.dtype), codes=codes, dictionary=dictionary)


# -- Arrow and Parquet --------------------------------------------------------------


def _from_arrow_table(table, selectors, prefix, pa):
    """Ratings from the selected columns of a Table or RecordBatch."""
    names = list(table.schema.names)
    where = prefix[:-2] if prefix else "the table"
    positions = {
        role: _named_position(names, selector, role, where)
        for role, selector in selectors.items()
    }
    _check_distinct(positions, names.__getitem__)
    columns = {}
    for role, position in positions.items():
        column = table.column(position)
        if isinstance(column, pa.Array):  # RecordBatch columns are single arrays
            column = pa.chunked_array([column], type=column.type)
        columns[role] = _arrow_column(column, names[position], role, prefix, pa)
    return _assemble(columns, prefix)


def _parquet_schema(path, pq, pa):
    try:
        return pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise ValueError(f"{path}: not a readable Parquet file ({error}).") from None


def _is_arrow_text(arrow_type, pa):
    types = pa.types
    checks = (
        types.is_string, types.is_large_string, types.is_binary,
        types.is_large_binary, getattr(types, "is_string_view", None),
        getattr(types, "is_binary_view", None),
    )  # fmt: skip
    return any(check(arrow_type) for check in checks if check is not None)


def _arrow_column(column, label, role, prefix, pa):
    """An Arrow ChunkedArray as a ``_Column``, after the null check."""
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_dictionary(kind) and role not in ("user", "item"):
        column = column.cast(kind.value_type)  # decode: nulls become visible
    if column.null_count:
        _raise_arrow_null(_arrow_numpy(pc.is_null(column)), label, role, prefix)

    if role in ("user", "item") and (
        pa.types.is_dictionary(kind) or _is_arrow_text(kind, pa)
    ):
        return _arrow_dictionary_ids(column, label, role, prefix, pa)
    if pa.types.is_decimal(column.type):
        column = column.cast(pa.float64())
    if not _is_arrow_number_or_time(column.type, pa):
        return _Column(label, str(kind))  # refused by the checks of its role
    return _Column(label, str(kind), values=_arrow_numpy(column))


def _is_arrow_number_or_time(arrow_type, pa):
    types = pa.types
    checks = (
        types.is_integer, types.is_floating, types.is_boolean, types.is_timestamp,
        types.is_date,
    )  # fmt: skip
    return any(check(arrow_type) for check in checks)


def _raise_arrow_null(missing, label, role, prefix):
    """Raise the error for the first null of a column (``missing``: bool per row)."""
    row = int(np.argmax(missing))
    raise ValueError(
        _null_message(prefix, label, role, row, "")
        + " Drop or fill those rows first, e.g. "
        f"table.filter(pyarrow.compute.is_valid(table[{label!r}]))."
    )


def _arrow_numpy(column):
    """A ChunkedArray without nulls as NumPy; no copy for one numeric chunk."""
    if column.num_chunks == 1:
        return column.chunk(0).to_numpy(zero_copy_only=False)
    return np.asarray(column.to_numpy())  # pyarrow 12 takes no keyword here


def _arrow_dictionary_ids(column, label, role, prefix, pa):
    """Codes and distinct values of a string or dictionary-encoded id column."""
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(column.type):
        if "view" in str(column.type):  # older dictionary_encode takes no views
            binary = "binary" in str(column.type)
            column = column.cast(pa.large_binary() if binary else pa.large_string())
        column = pc.dictionary_encode(column)
    # Chunks may carry different dictionaries (Parquet row groups do); unify them
    # so one set of codes indexes one dictionary.
    column = pa.Table.from_arrays([column], names=["ids"]).unify_dictionaries()[0]
    chunks = column.chunks
    if not chunks:
        return _Column(label, str(column.type), values=np.zeros(0, dtype=np.int64))

    dictionary = chunks[0].dictionary
    codes = np.concatenate(
        [chunk.indices.to_numpy(zero_copy_only=False) for chunk in chunks]
    )
    if dictionary.null_count:  # a code pointing at a null dictionary entry
        missing = pc.is_null(dictionary).to_numpy(zero_copy_only=False)[codes]
        if missing.any():
            _raise_arrow_null(missing, label, role, prefix)
    values = np.asarray(dictionary.to_numpy(zero_copy_only=False))
    return _Column(label, str(column.type), codes=codes, dictionary=values)


# -- assembling (library-neutral) ---------------------------------------------------


def _assemble(columns, prefix):
    """Ratings from converted columns, as ``Ratings.from_raw_ids`` builds them."""
    user_map, users = _encode_ids(columns["user"], "user", prefix)
    item_map, items = _encode_ids(columns["item"], "item", prefix)
    values = _ratings(columns["rating"], prefix)
    timestamps = None
    if "timestamp" in columns:
        timestamps = _timestamps(columns["timestamp"], prefix)

    shape = (len(user_map), len(item_map))
    return Ratings(users, items, values, shape, user_map, item_map, timestamps)


def _encode_ids(column, role, prefix):
    """``(IdMap, int32 indices)`` of an id column, as ``IdMap.encode`` gives them."""
    where = f"{prefix}column {column.label!r}"
    if column.codes is None:
        _check_id_kind(column.values, column, role, prefix)
        return IdMap.encode(column.values, where)

    dictionary = _dictionary_ids(column, role, prefix)
    codes = np.asarray(column.codes, dtype=np.intp)
    if codes.size == 0:
        return IdMap.encode(np.zeros(0, dtype=np.int64), where)

    # Only the ids that occur enter the map (a categorical may have unused
    # categories); np.unique sorts them and merges any repeated dictionary entry.
    used = np.bincount(codes, minlength=dictionary.size) > 0
    ids, inverse = np.unique(dictionary[used], return_inverse=True)
    if ids.size >= np.iinfo(np.int32).max:
        raise ValueError(f"{where} has {ids.size:,} distinct ids; at most 2**31-2.")
    renumber = np.zeros(dictionary.size, dtype=np.int32)
    renumber[used] = inverse.reshape(-1)

    return IdMap(ids), renumber[codes]


def _dictionary_ids(column, role, prefix):
    """The distinct values of a dictionary-encoded column as integers or strings."""
    dictionary = column.dictionary
    if dictionary.size == 0:
        return np.zeros(0, dtype=np.int64)
    if dictionary.dtype.kind != "O":
        _check_id_kind(dictionary, column, role, prefix)
        return dictionary

    # Integers, strings or bytes, as from_raw_ids takes them, never mixed.
    groups = {_id_group(type(value)) for value in dictionary}
    if len(groups) > 1 or None in groups:
        kinds = {type(value).__name__ for value in dictionary}
        names = ", ".join(sorted(kinds))
        if None in groups:
            problem = f"holds {names} values, not {_WHAT[role]}s"
        else:
            problem = f"mixes {_WHAT[role]}s of different types ({names})"
        raise TypeError(
            f"{prefix}column {column.label!r} {problem}; ids must be all integers "
            "or all strings."
        )
    where = f"{prefix}the {_WHAT[role]}s in column {column.label!r}"
    return _object_ids_to_array(dictionary, where)


def _id_group(kind):
    """ "int", "str" or "bytes" for the Python types ids may have; else None."""
    if issubclass(kind, bool | np.bool_):
        return None
    if issubclass(kind, int | np.integer):
        return "int"
    if issubclass(kind, str):
        return "str"
    return "bytes" if issubclass(kind, bytes) else None


def _check_id_kind(values, column, role, prefix):
    """Refuse id columns that are neither integers nor strings."""
    if values is not None and values.dtype.kind in "iuUS":
        return
    hint = ""
    if values is not None and values.dtype.kind == "f":
        hint = (
            " Whole-number ids stored as floats can be converted with "
            ".astype('int64') first."
        )
    raise TypeError(
        f"{prefix}column {column.label!r} has dtype {column.dtype}, not "
        f"{_WHAT[role]}s; ids must be integers or strings.{hint}"
    )


def _ratings(column, prefix):
    """The ratings as finite float64 (no copy for float64 input; read-only)."""
    values = column.values
    if values is None or values.dtype.kind not in "iufb":
        raise TypeError(
            f"{prefix}column {column.label!r} has dtype {column.dtype}, not "
            "ratings; ratings must be real numbers. Convert the column to a "
            "numeric type first (pandas: pd.to_numeric)."
        )

    # As v.check_values does, but naming the column and the row.
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        row = int(np.argmin(finite))
        raise ValueError(
            f"{prefix}column {column.label!r} holds the non-finite rating "
            f"{values[row]} in row {row} (0-based); ratings must be finite. Drop "
            "or fix those rows first."
        )

    return _read_only(values)


def _timestamps(column, prefix):
    """Timestamps as int64 seconds since the epoch (datetimes floored)."""
    values = column.values
    if values is not None and values.dtype.kind == "M":
        return values.astype("datetime64[s]").view(np.int64)
    if values is None or values.dtype.kind not in "iu":
        raise TypeError(
            f"{prefix}column {column.label!r} has dtype {column.dtype}, not "
            "timestamps; timestamps must be integers (seconds since the epoch) "
            "or datetimes. Convert the column first (pandas: pd.to_datetime)."
        )

    if values.dtype.kind == "u" and values.size and values.max() > 2**63 - 1:
        row = int(np.argmax(values > 2**63 - 1))
        raise ValueError(
            f"{prefix}column {column.label!r} holds the timestamp {values[row]} in "
            f"row {row} (0-based), beyond the int64 range of seconds."
        )
    return _read_only(np.ascontiguousarray(values, dtype=np.int64))


def _read_only(array):
    """A read-only view of ``array`` when it may share the caller's memory."""
    if array.base is not None and array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return array


def _null_message(prefix, label, role, row, note):
    needs = "a timestamp" if role == "timestamp" else "a user, an item and a rating"
    return (
        f"{prefix}column {label!r} has a missing {_WHAT[role]} in row {row} "
        f"(0-based{note}); every rating needs {needs}."
    )

"""Ratings from pandas, polars and Arrow tables and from Parquet files.

Expectations are written out by hand or computed with plain Python (sorted sets,
``datetime.timestamp``), never with the code under test.
"""

import math
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from fastmf import MatrixFactorization
from fastmf.data import (
    Ratings,
    from_arrow,
    from_pandas,
    from_polars,
    read_parquet,
)

# No repeated (user, item) pair, so models train on them with the defaults.
INT_USERS = [7, -3, 2**40, 7, 5, -3]
INT_ITEMS = [100, 100, 3, 42, 3, 42]
STR_USERS = ["bob", "ann", "zoë", "bob", "carl", "ann"]
STR_ITEMS = ["x1", "x1", "b", "a", "b", "a"]
VALUES = [4.0, 3.5, 1.0, 5.0, 2.0, 0.0]


@pytest.fixture
def pd():
    return pytest.importorskip("pandas")


@pytest.fixture
def pl():
    return pytest.importorskip("polars")


@pytest.fixture
def pa():
    return pytest.importorskip("pyarrow")


@pytest.fixture
def pq():
    pytest.importorskip("pyarrow")
    return pytest.importorskip("pyarrow.parquet")


class Source:
    """Builds one kind of table from plain lists and reads it with its adapter."""

    def __init__(self, kind, tmp_path):
        self.kind = kind
        self.path = tmp_path / "ratings.parquet"
        library = {"pandas": "pandas", "polars": "polars"}.get(kind, "pyarrow")
        self.lib = pytest.importorskip(library)

    def build(self, columns):
        if self.kind == "pandas":
            return self.lib.DataFrame(columns)
        if self.kind == "polars":
            return self.lib.DataFrame(columns)
        if self.kind == "record_batch":
            return self.lib.RecordBatch.from_pydict(columns)
        table = self.lib.table(columns)
        if self.kind == "parquet":
            pq = pytest.importorskip("pyarrow.parquet")
            pq.write_table(table, self.path, row_group_size=2)
            return self.path
        return table

    def read(self, source, **columns):
        adapter = {
            "pandas": from_pandas,
            "polars": from_polars,
            "arrow": from_arrow,
            "record_batch": from_arrow,
            "parquet": read_parquet,
        }[self.kind]
        return adapter(source, **columns)


@pytest.fixture(params=["pandas", "polars", "arrow", "record_batch", "parquet"])
def source(request, tmp_path):
    return Source(request.param, tmp_path)


def _triples(ratings):
    return sorted(
        zip(
            ratings.raw_users().tolist(),
            ratings.raw_items().tolist(),
            ratings.values.tolist(),
            strict=True,
        )
    )


def _check_ratings(ratings, users, items, values):
    """The ratings hold exactly these raw triples, with sorted unique id maps."""
    assert _triples(ratings) == sorted(zip(users, items, values, strict=True))
    assert ratings.user_map.ids.tolist() == sorted(set(users))
    assert ratings.item_map.ids.tolist() == sorted(set(items))
    assert ratings.shape == (len(set(users)), len(set(items)))
    assert ratings.users.dtype == np.int32 and ratings.items.dtype == np.int32
    assert ratings.values.dtype == np.float64
    # Row order is kept: rating i of the table is rating i of the Ratings.
    assert ratings.raw_users().tolist() == users
    assert ratings.values.tolist() == values


# -- round trips --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("users", "items"),
    [(INT_USERS, INT_ITEMS), (STR_USERS, STR_ITEMS), (STR_USERS, INT_ITEMS)],
    ids=["integer ids", "string ids", "string users, integer items"],
)
def test_round_trip_keeps_raw_ids(source, users, items):
    table = source.build({"user": users, "item": items, "rating": VALUES})

    ratings = source.read(table)

    _check_ratings(ratings, users, items, VALUES)
    assert ratings.timestamps is None
    reference = Ratings.from_raw_ids(users, items, VALUES)
    assert ratings.user_map == reference.user_map
    assert ratings.item_map == reference.item_map


def test_model_fitted_on_a_frame_predicts_by_raw_id(source):
    table = source.build({"user": STR_USERS, "item": INT_ITEMS, "rating": VALUES})

    model = MatrixFactorization(n_factors=3, n_epochs=5, random_state=0)
    model.fit(source.read(table))
    twin = MatrixFactorization(n_factors=3, n_epochs=5, random_state=0)
    twin.fit((STR_USERS, INT_ITEMS, VALUES))

    users, items = ["zoë", "ann", "nobody"], [3, 42, 3]
    predicted, unknown = model.predict(users, items, return_unknown=True)
    assert unknown.tolist() == [False, False, True]
    np.testing.assert_array_equal(predicted, twin.predict(users, items))


def test_columns_by_name_and_position(source):
    table = source.build(
        {
            "rating": VALUES,
            "junk": [0] * len(VALUES),
            "uid": STR_USERS,
            "iid": INT_ITEMS,
        }
    )

    by_name = source.read(table, user="uid", item="iid", rating="rating")
    by_position = source.read(table, user=2, item=3, rating=0)

    _check_ratings(by_name, STR_USERS, INT_ITEMS, VALUES)
    _check_ratings(by_position, STR_USERS, INT_ITEMS, VALUES)


def test_integer_ratings_become_float64(source):
    table = source.build({"user": INT_USERS, "item": INT_ITEMS, "rating": [1] * 6})

    ratings = source.read(table)

    assert ratings.values.dtype == np.float64
    assert ratings.values.tolist() == [1.0] * 6


def test_empty_table_gives_empty_ratings(pd, pa):
    frame = pd.DataFrame(
        {
            "user": np.zeros(0, dtype=np.int64),
            "item": pd.Series([], dtype=object),
            "rating": np.zeros(0),
        }
    )
    table = pa.table(
        {
            "user": pa.array([], pa.int64()),
            "item": pa.array([], pa.string()),
            "rating": pa.array([], pa.float64()),
        }
    )

    for ratings in (from_pandas(frame), from_arrow(table)):
        assert ratings.n_ratings == 0 and ratings.shape == (0, 0)


# -- Parquet ------------------------------------------------------------------------


def test_parquet_reads_only_the_selected_columns(pa, pq, tmp_path, monkeypatch):
    path = tmp_path / "ratings.parquet"
    table = pa.table(
        {
            "user": STR_USERS,
            "notes": [{"a": 1}] * 6,  # a struct column fastmf could not convert
            "item": INT_ITEMS,
            "rating": VALUES,
        }
    )
    pq.write_table(table, path, row_group_size=4)
    requested = []
    read_table = pq.read_table

    def spy(*args, **kwargs):
        requested.append(list(kwargs["columns"]))
        return read_table(*args, **kwargs)

    monkeypatch.setattr(pq, "read_table", spy)

    ratings = read_parquet(str(path))

    assert requested == [["user", "item", "rating"]]
    _check_ratings(ratings, STR_USERS, INT_ITEMS, VALUES)


def test_parquet_keeps_ids_across_row_groups(pa, pq, tmp_path):
    # Each row group has its own dictionary of string ids; one map must result.
    users = [f"u{i % 7}" for i in range(50)]
    items = [f"i{(i * 3) % 11}" for i in range(50)]
    values = [float(i % 5) for i in range(50)]
    path = tmp_path / "ratings.parquet"
    pq.write_table(
        pa.table({"user": users, "item": items, "rating": values}),
        path,
        row_group_size=8,
    )

    ratings = read_parquet(path)

    _check_ratings(ratings, users, items, values)


def test_parquet_errors_name_the_file(pa, pq, tmp_path):
    path = tmp_path / "ratings.parquet"
    pq.write_table(
        pa.table({"user": [1, 2], "item": [1, None], "rating": [1.0, 2.0]}), path
    )
    text = tmp_path / "ratings.csv"
    text.write_text("user,item,rating\n1,2,3\n")

    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: column 'item' "):
        read_parquet(path)
    with pytest.raises(ValueError, match=r"user='userId': .* has no such column"):
        read_parquet(path, user="userId")
    with pytest.raises(FileNotFoundError, match=r"missing\.parquet: no such"):
        read_parquet(tmp_path / "missing.parquet")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        read_parquet(tmp_path)
    with pytest.raises(ValueError, match=r"ratings\.csv: not a readable Parquet"):
        read_parquet(text)


# -- missing and non-finite values --------------------------------------------------


@pytest.mark.parametrize(
    ("column", "what"),
    [("user", "user id"), ("item", "item id"), ("rating", "rating")],
)
def test_null_is_an_error_naming_column_and_row(source, column, what):
    columns = {"user": STR_USERS, "item": INT_ITEMS, "rating": VALUES}
    columns[column] = list(columns[column])
    columns[column][3] = None
    table = source.build(columns)

    with pytest.raises(
        ValueError, match=rf"column '{column}' has a missing {what} in row 3 "
    ):
        source.read(table)


def test_pandas_missing_values_of_every_kind(pd):
    base = {"user": STR_USERS, "item": INT_ITEMS, "rating": VALUES}
    cases = {
        "NaN rating": ("rating", [1.0, 2.0, np.nan, 4.0, 5.0, 6.0]),
        "NA in Int64": ("item", pd.array([1, 2, None, 4, 5, 6], dtype="Int64")),
        "NA in string": ("user", pd.array(["a", "b", None, "d", "e", "f"], "string")),
        "None in object": ("user", np.array(["a", "b", None, "d", "e", "f"], object)),
        "NaN in category": ("user", pd.Categorical(["a", "b", None, "d", "e", "f"])),
        "NA in Float64": ("rating", pd.array([1.0, 2.0, None, 4, 5, 6], "Float64")),
    }
    for name, (column, values) in cases.items():
        frame = pd.DataFrame({**base, column: values})
        with pytest.raises(ValueError, match=rf"column '{column}' .* in row 2 ") as e:
            from_pandas(frame)
        assert f"frame.dropna(subset=['{column}'])" in str(e.value), name


def test_pandas_error_gives_the_index_label(pd):
    frame = pd.DataFrame(
        {"user": STR_USERS, "item": INT_ITEMS, "rating": VALUES},
        index=list("abcdef"),
    )
    frame.loc["c", "rating"] = np.nan

    with pytest.raises(
        ValueError,
        match=r"column 'rating' has a missing rating in row 2 \(0-based; index "
        r"label 'c'\)",
    ):
        from_pandas(frame)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rating_is_an_error_naming_column_and_row(source, bad):
    values = [*VALUES[:4], bad, VALUES[5]]
    table = source.build({"user": STR_USERS, "item": INT_ITEMS, "rating": values})
    if source.kind == "pandas" and np.isnan(bad):
        expected = r"column 'rating' has a missing rating in row 4 "  # NaN = NA
    else:
        expected = rf"column 'rating' holds the non-finite rating {bad} in row 4 "

    with pytest.raises(ValueError, match=expected):
        source.read(table)


# -- column types -------------------------------------------------------------------


def test_pandas_nullable_and_arrow_dtypes(pd, pa):
    big = 2**63 + 5  # needs uint64
    frame = pd.DataFrame(
        {
            "u_int64": pd.array([1, 2, 3], dtype="Int64"),
            # From NumPy: pandas 1.5 builds UInt64 from Python ints via float64.
            "u_uint64": pd.array(np.array([big, 1, big], np.uint64), "UInt64"),
            "u_arrow_int": pd.array([5, 6, 5], dtype="int64[pyarrow]"),
            "u_string": pd.array(["b", "a", "b"], dtype="string"),
            "u_arrow_string": pd.array(["b", "a", "b"], dtype="string[pyarrow]"),
            "u_object": np.array(["b", "a", "b"], dtype=object),
            "u_object_int": np.array([3, 1, 3], dtype=object),
            "item": [1, 2, 3],
            "r_float64": pd.array([1.5, 2.0, 3.0], dtype="Float64"),
            "r_arrow": pd.array([1.5, 2.0, 3.0], dtype="double[pyarrow]"),
            "r_bool": pd.array([True, False, True], dtype="boolean"),
        }
    )
    expected_users = {
        "u_int64": [1, 2, 3],
        "u_uint64": [big, 1, big],
        "u_arrow_int": [5, 6, 5],
        "u_string": ["b", "a", "b"],
        "u_arrow_string": ["b", "a", "b"],
        "u_object": ["b", "a", "b"],
        "u_object_int": [3, 1, 3],
    }
    for column, users in expected_users.items():
        ratings = from_pandas(frame, user=column, rating="r_float64")
        _check_ratings(ratings, users, [1, 2, 3], [1.5, 2.0, 3.0])
    arrow_ratings = from_pandas(frame, user="u_int64", rating="r_arrow")
    bool_ratings = from_pandas(frame, user="u_int64", rating="r_bool")
    uint_ids = from_pandas(frame, user="u_uint64", rating="r_float64").user_map.ids

    assert arrow_ratings.values.tolist() == [1.5, 2.0, 3.0]
    assert bool_ratings.values.tolist() == [1.0, 0.0, 1.0]
    assert uint_ids.dtype == np.uint64


def test_frame_read_without_header_selects_by_position(pd):
    frame = pd.DataFrame({0: INT_USERS, 1: INT_ITEMS, 2: VALUES})

    _check_ratings(
        from_pandas(frame, user=0, item=1, rating=2), INT_USERS, INT_ITEMS, VALUES
    )


@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow"])
def test_wrong_column_types_are_type_errors(kind, tmp_path):
    source = Source(kind, tmp_path)
    base = {"user": INT_USERS, "item": INT_ITEMS, "rating": VALUES}
    cases = [
        ({"user": [float(u) for u in INT_USERS]}, {}, r"column 'user' has dtype "),
        ({"item": [True, False] * 3}, {}, "column 'item' has dtype .*, not item ids"),
        ({"rating": [str(r) for r in VALUES]}, {}, "must be real numbers"),
        ({"ts": ["2020"] * 6}, {"timestamp": "ts"}, "column 'ts' has dtype "),
        ({"ts": [1.5] * 6}, {"timestamp": "ts"}, "timestamps must be integers"),
    ]
    for changed, selection, message in cases:
        table = source.build({**base, **changed})
        with pytest.raises(TypeError, match=message):
            source.read(table, **selection)


def test_float_ids_message_suggests_the_fix(pd):
    frame = pd.DataFrame({"user": [1.0, 2.0], "item": [1, 2], "rating": [1.0, 2.0]})

    with pytest.raises(TypeError, match=r"float64, not user ids.*astype\('int64'\)"):
        from_pandas(frame)


def test_mixed_object_ids_are_refused(pd):
    frame = pd.DataFrame(
        {"user": np.array([1, "a"], dtype=object), "item": [1, 2], "rating": [1, 2]}
    )

    with pytest.raises(TypeError, match=r"column 'user' mixes user ids of different "):
        from_pandas(frame)
    with pytest.raises(TypeError, match=r"column 'user' holds float, int values, not"):
        from_pandas(frame.assign(user=np.array([1.5, 2], dtype=object)))


def test_arrow_binary_ids_are_bytes(pa):
    table = pa.table(
        {"user": pa.array([b"\x00a", b"b", b"\x00a"]), "item": [1, 2, 3]}
        | {"rating": [1.0, 2.0, 3.0]}
    )

    ratings = from_arrow(table)

    _check_ratings(ratings, [b"\x00a", b"b", b"\x00a"], [1, 2, 3], [1.0, 2.0, 3.0])
    assert (
        ratings.user_map
        == Ratings.from_raw_ids([b"\x00a", b"b"], [0, 0], [1, 1]).user_map
    )


# -- categorical ids ----------------------------------------------------------------


def test_pandas_categorical_ids_keep_only_used_categories(pd):
    users = ["z", "a", "z", "m"]
    frame = pd.DataFrame(
        {
            "user": pd.Categorical(users, categories=["z", "unused", "m", "a"]),
            "item": pd.Categorical([30, 10, 20, 30], categories=[30, 99, 10, 20]),
            "rating": [1.0, 2.0, 3.0, 4.0],
        }
    )

    ratings = from_pandas(frame)

    _check_ratings(ratings, users, [30, 10, 20, 30], [1.0, 2.0, 3.0, 4.0])
    assert ratings.user_map == Ratings.from_raw_ids(users, [0] * 4, [0] * 4).user_map


def test_pandas_categorical_ratings_are_decoded(pd):
    frame = pd.DataFrame(
        {"user": [1, 2, 3], "item": [1, 1, 1], "rating": pd.Categorical([5, 1, 5])}
    )

    assert from_pandas(frame).values.tolist() == [5.0, 1.0, 5.0]


def test_polars_categorical_and_enum_ids(pl):
    users = ["z", "a", "z", "m"]
    frame = pl.DataFrame(
        {
            "user": pl.Series(users, dtype=pl.Categorical),
            "item": pl.Series(["q", "p", "p", "q"], dtype=pl.Enum(["q", "x", "p"])),
            "rating": [1.0, 2.0, 3.0, 4.0],
        }
    )

    ratings = from_polars(frame)

    _check_ratings(ratings, users, ["q", "p", "p", "q"], [1.0, 2.0, 3.0, 4.0])


def test_polars_text_ids_without_pyarrow(pl, monkeypatch):
    # Without pyarrow, polars ids take the polars-only route.
    if int(pl.__version__.split(".")[0]) < 1:
        pytest.skip("polars 0.x sees pyarrow installed and converts through it")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    frame = pl.DataFrame(
        {
            "user": STR_USERS,
            "item": pl.Series(STR_ITEMS, dtype=pl.Enum(["x1", "unused", "b", "a"])),
            "rating": VALUES,
            "u_cat": pl.Series(STR_USERS, dtype=pl.Categorical),
        }
    )

    for user in ("user", "u_cat"):
        _check_ratings(from_polars(frame, user=user), STR_USERS, STR_ITEMS, VALUES)
    with pytest.raises(
        ValueError, match=r"column 'user' has a missing user id in row 1"
    ):
        from_polars(frame.with_columns(user=pl.Series(["a", None] * 3)))


def test_arrow_dictionary_ids_across_chunks(pa):
    # Two chunks with different dictionaries, each with an unused entry.
    first = pa.DictionaryArray.from_arrays(
        pa.array([0, 2, 0], pa.int32()), pa.array(["z", "unused", "a"])
    )
    second = pa.DictionaryArray.from_arrays(
        pa.array([1, 1, 0], pa.int32()), pa.array(["m", "a", "zz"])
    )
    table = pa.table(
        {
            "user": pa.chunked_array([first, second]),
            "item": pa.chunked_array([[1, 2, 3], [4, 5, 6]]),
            "rating": pa.chunked_array([[1.0, 2.0], [3.0, 4.0, 5.0, 6.0]]),
        }
    )

    ratings = from_arrow(table)

    users = ["z", "a", "z", "a", "a", "m"]
    _check_ratings(ratings, users, [1, 2, 3, 4, 5, 6], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])


# -- timestamps ---------------------------------------------------------------------

INSTANTS = [
    datetime(2020, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),  # floors to -1
    datetime(2001, 9, 9, 1, 46, 40, 999999, tzinfo=UTC),
]
SECONDS = [math.floor(instant.timestamp()) for instant in INSTANTS]


def test_expected_seconds_are_what_they_say():
    assert SECONDS == [1577836800, -1, 1_000_000_000]


def test_datetime_timestamps_become_int64_seconds(source):
    table = source.build(
        {"user": [1, 2, 3], "item": [1, 2, 3], "rating": [1.0, 2.0, 3.0]}
        | {"ts": INSTANTS}
    )

    ratings = source.read(table, timestamp="ts")

    assert ratings.timestamps.dtype == np.int64
    assert ratings.timestamps.tolist() == SECONDS


def test_integer_timestamps_are_seconds(source):
    table = source.build(
        {"user": [1, 2, 3], "item": [1, 2, 3], "rating": [1.0, 2.0, 3.0]}
        | {"ts": [881250949, 0, -5]}
    )

    ratings = source.read(table, timestamp="ts")

    assert ratings.timestamps.dtype == np.int64
    assert ratings.timestamps.tolist() == [881250949, 0, -5]


def test_time_zones_and_units_give_utc_seconds(pd, pl, pa):
    naive = [instant.replace(tzinfo=None) for instant in INSTANTS]
    plus_two = timezone(timedelta(hours=2))
    base = {"user": [1, 2, 3], "item": [1, 2, 3], "rating": [1.0, 2.0, 3.0]}
    utc = pd.Series(INSTANTS)

    frames = {
        "pandas naive ns": pd.DataFrame(
            {**base, "ts": pd.Series(naive, dtype="M8[ns]")}
        ),
        "pandas +02:00": pd.DataFrame({**base, "ts": utc.dt.tz_convert(plus_two)}),
        "pandas arrow ms": pd.DataFrame(
            {
                **base,
                "ts": utc.dt.floor("ms").astype(
                    pd.ArrowDtype(pa.timestamp("ms", "UTC"))
                ),
            }
        ),
    }
    for name, frame in frames.items():
        assert from_pandas(frame, timestamp="ts").timestamps.tolist() == SECONDS, name

    polars_ts = (
        pl.Series(INSTANTS).dt.convert_time_zone("Asia/Tokyo").dt.cast_time_unit("ms")
    )
    frame = pl.DataFrame({**base, "ts": polars_ts})
    assert from_polars(frame, timestamp="ts").timestamps.tolist() == SECONDS

    table = pa.table({**base, "ts": pa.array(INSTANTS, pa.timestamp("ns", "UTC"))})
    assert from_arrow(table, timestamp="ts").timestamps.tolist() == SECONDS


def test_dates_become_midnight_utc(pl, pa):
    days = [datetime(2020, 1, 1).date(), datetime(1969, 12, 31).date()]
    base = {"user": [1, 2], "item": [1, 2], "rating": [1.0, 2.0]}

    from_pl = from_polars(pl.DataFrame({**base, "ts": days}), timestamp="ts")
    from_pa = from_arrow(pa.table({**base, "ts": pa.array(days)}), timestamp="ts")

    assert from_pl.timestamps.tolist() == [1577836800, -86400]
    assert from_pa.timestamps.tolist() == [1577836800, -86400]


def test_missing_timestamp_is_an_error(source):
    table = source.build(
        {"user": [1, 2, 3], "item": [1, 2, 3], "rating": [1.0, 2.0, 3.0]}
        | {"ts": [INSTANTS[0], None, INSTANTS[2]]}
    )

    with pytest.raises(
        ValueError, match=r"column 'ts' has a missing timestamp in row 1 .*needs a "
    ):
        source.read(table, timestamp="ts")


# -- column selection ---------------------------------------------------------------


def test_column_selection_errors(source):
    table = source.build({"user": INT_USERS, "item": INT_ITEMS, "rating": VALUES})

    with pytest.raises(ValueError, match=r"user='userId': .*no such column; its "):
        source.read(table, user="userId")
    with pytest.raises(ValueError, match=r"rating=3 is not a column of .* 3 columns"):
        source.read(table, rating=3)
    with pytest.raises(ValueError, match=r"user= and item= both select column 'us"):
        source.read(table, item="user")
    with pytest.raises(ValueError, match=r"item= and timestamp= both select"):
        source.read(table, timestamp=1)
    with pytest.raises(TypeError, match=r"user must be a column"):
        source.read(table, user=True)
    with pytest.raises(TypeError, match=r"rating must be a column"):
        source.read(table, rating=None)


def test_pandas_int_that_is_another_columns_label_is_ambiguous(pd):
    frame = pd.DataFrame({1: INT_USERS, 2: INT_ITEMS, 0: VALUES})

    with pytest.raises(
        ValueError,
        match=r"user=0 is ambiguous: .* position 2 is labelled 0\. "
        r"Pass user=2",
    ):
        from_pandas(frame, user=0, item=1, rating=2)


def test_duplicate_names_are_refused(pd, pa):
    frame = pd.DataFrame([[1, 2, 3.0, 4]], columns=["user", "item", "rating", "user"])
    table = pa.table([[1], [2], [3.0], [4]], names=["user", "item", "rating", "user"])

    with pytest.raises(ValueError, match=r"several columns of that label"):
        from_pandas(frame)
    with pytest.raises(ValueError, match=r"2 columns of that name \(positions"):
        from_arrow(table)
    _check_ratings(from_arrow(table, user=3), [4], [2], [3.0])


def test_wrong_frame_types_point_to_the_right_adapter(pd, pl, pa):
    frame = pd.DataFrame({"user": [1], "item": [1], "rating": [1.0]})

    with pytest.raises(TypeError, match=r"got pandas\..*DataFrame\. Use .*from_pand"):
        from_polars(frame)
    with pytest.raises(TypeError, match=r"got polars\..*Use fastmf.data.from_polars"):
        from_pandas(pl.from_pandas(frame))
    with pytest.raises(TypeError, match=r"got polars.*LazyFrame.*frame.collect\(\)"):
        from_polars(pl.from_pandas(frame).lazy())
    with pytest.raises(TypeError, match=r"from_arrow expects a pyarrow.Table or"):
        from_arrow(frame)
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike"):
        read_parquet(frame)


# -- the caller's data --------------------------------------------------------------


def test_pandas_frame_is_not_modified(pd):
    frame = pd.DataFrame(
        {
            "user": pd.Categorical(["z", "a", "z", "m"]),
            "item": pd.array([3, 1, 2, 3], dtype="Int64"),
            "rating": [1.0, 2.0, 3.0, 4.0],
            "ts": np.array([5, 6, 7, 8], dtype=np.int64),
        }
    )
    before = frame.copy(deep=True)

    ratings = from_pandas(frame, timestamp="ts")
    MatrixFactorization(n_factors=2, n_epochs=3, random_state=0).fit(ratings)
    _check_fastmf_cannot_write(ratings)

    pd.testing.assert_frame_equal(frame, before)


def test_polars_and_arrow_tables_are_not_modified(pl, pa):
    columns = {"user": STR_USERS, "item": INT_ITEMS, "rating": VALUES}
    frame, table = pl.DataFrame(columns), pa.table(columns)
    frame_before, table_before = frame.clone(), pa.table(columns)

    for ratings in (from_polars(frame), from_arrow(table)):
        MatrixFactorization(n_factors=2, n_epochs=3, random_state=0).fit(ratings)
        _check_fastmf_cannot_write(ratings)

    assert frame.equals(frame_before)
    assert table.equals(table_before)


def test_numeric_columns_are_not_copied(pd, pl, pa):
    values = np.array(VALUES)
    frame = pd.DataFrame({"user": INT_USERS, "item": INT_ITEMS, "rating": values})
    table = pa.table({"user": INT_USERS, "item": INT_ITEMS, "rating": values})
    polars_frame = pl.DataFrame(
        {"user": INT_USERS, "item": INT_ITEMS, "rating": VALUES}
    )

    from_frame = from_pandas(frame)
    from_table = from_arrow(table)
    from_polars_frame = from_polars(polars_frame)

    assert np.shares_memory(from_frame.values, frame["rating"].to_numpy())
    buffer = np.frombuffer(table.column("rating").chunk(0).buffers()[1], np.float64)
    assert np.shares_memory(from_table.values, buffer)
    assert np.shares_memory(from_polars_frame.values, polars_frame["rating"].to_numpy())
    for ratings in (from_frame, from_table, from_polars_frame):
        assert not ratings.values.flags.writeable


def _check_fastmf_cannot_write(ratings):
    """Arrays that may view the caller's memory are read-only to fastmf."""
    for array in (ratings.values, ratings.timestamps):
        if array is not None and array.base is not None:
            assert not array.flags.writeable
            with pytest.raises(ValueError, match="read-only"):
                array[0] = 99


# -- optional dependencies ----------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "call", "message"),
    [
        (
            "pandas",
            from_pandas,
            "from_pandas needs pandas: pip install 'fastmf[pandas]'",
        ),
        (
            "polars",
            from_polars,
            "from_polars needs polars: pip install 'fastmf[polars]'",
        ),
        (
            "pyarrow",
            from_arrow,
            "from_arrow needs pyarrow: pip install 'fastmf[arrow]'",
        ),
        (
            "pyarrow",
            read_parquet,
            "read_parquet needs pyarrow: pip install 'fastmf[arrow]'",
        ),
    ],
)
def test_missing_library_names_the_extra(monkeypatch, module, call, message):
    # None in sys.modules makes every import of the module fail, as if absent.
    monkeypatch.setitem(sys.modules, module, None)

    with pytest.raises(ImportError) as error:
        call("ratings.parquet")

    assert str(error.value) == message
    assert error.value.__cause__ is None


def test_broken_install_is_not_reported_as_missing(monkeypatch, pa):
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)

    with pytest.raises(ImportError, match=r"needs pyarrow, which is installed but"):
        read_parquet("ratings.parquet")


def test_importing_fastmf_imports_no_optional_library():
    code = (
        "import sys, fastmf, fastmf.data; "
        "print(sorted(m for m in ('pandas', 'polars', 'pyarrow') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"

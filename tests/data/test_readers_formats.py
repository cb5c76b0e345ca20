"""read_ratings options: quotes, comments, encodings, timestamps; LIBMF files."""

import gzip
import os

import numpy as np
import pytest

from fastmf.data import PRESETS, Ratings, _libmf, _readers, read_ratings, write_libmf
from fastmf.exceptions import RatingsFileError
from fastmf.kernels import _parse


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _rows(ratings):
    return list(
        zip(
            ratings.raw_users().tolist(),
            ratings.raw_items().tolist(),
            ratings.values.tolist(),
            strict=True,
        )
    )


# -- quotes -----------------------------------------------------------------------


def test_quoted_numbers_read_as_numbers(tmp_path):
    text = '"userId","movieId","rating"\n"1","2","3.5"\n"4", "5" ,"1e1"\n'
    path = _write(tmp_path, "quoted.csv", text)

    ratings = read_ratings(path)

    assert ratings.user_map.ids.dtype == np.int64
    assert _rows(ratings) == [(1, 2, 3.5), (4, 5, 10.0)]
    named = read_ratings(path, columns=("movieId", "userId", "rating"))
    assert _rows(named) == [(2, 1, 3.5), (5, 4, 10.0)]


def test_quoted_fields_with_blank_separators(tmp_path):
    path = _write(tmp_path, "blanks.txt", '"ann lee"  "x y"  3\nbob\t"x y"\t4\n')

    assert _rows(read_ratings(path)) == [("ann lee", "x y", 3.0), ("bob", "x y", 4.0)]


def test_separator_is_guessed_outside_quotes(tmp_path):
    path = _write(tmp_path, "semi.csv", '"a,b";"c,d";1\n"e";"f";2\n')

    assert _rows(read_ratings(path)) == [("a,b", "c,d", 1.0), ("e", "f", 2.0)]


@pytest.mark.parametrize(
    ("line", "column", "expected"),
    [
        ('4,"abc,5', 2, r"the quoted field '\"abc,5' has no closing quote"),
        ('4,"ab"c,5', 2, r"the quoted field '\"ab\"c' has text after its closing"),
        ('"4"x,5,1', 1, r"has text after its closing quote; write a quote inside"),
        ('1,2,"3', 3, r"no closing quote; a quoted field must end on its line"),
    ],
)
def test_quoting_errors_name_line_column_and_text(tmp_path, line, column, expected):
    path = _write(tmp_path, "q.csv", f"1,2,3\n{line}\n")

    with pytest.raises(RatingsFileError, match=expected) as info:
        read_ratings(path)

    assert str(info.value).startswith(f"{path}, line 2, column {column}: ")
    assert (info.value.line, info.value.column) == (2, column)


def test_a_quote_inside_an_unquoted_field_is_text(tmp_path):
    path = _write(tmp_path, "q.csv", 'a"b,1,2\n')

    assert _rows(read_ratings(path)) == [('a"b', 1, 2.0)]


# -- comments ---------------------------------------------------------------------


def test_comment_lines_are_skipped_and_counted(tmp_path):
    text = (
        "# ratings export\nuser,item,rating\n  # indented comment\n1,2,3\n"
        "#4,5,6\n7,x,9\n"
    )
    path = _write(tmp_path, "c.csv", text)

    ratings = read_ratings(path, comment="#", ids="auto")

    assert _rows(ratings) == [(1, "2", 3.0), (7, "x", 9.0)]
    with pytest.raises(RatingsFileError, match=r"line 6, column 2: .*'x'"):
        read_ratings(path, comment="#", ids="int")  # line numbers count comments


def test_without_comment_a_comment_line_is_an_error(tmp_path):
    path = _write(tmp_path, "c.csv", "1,2,3\n# note\n")

    with pytest.raises(RatingsFileError, match=r"line 2, column 2: missing"):
        read_ratings(path)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"comment": "##"}, r"comment must be None or one printable ASCII character"),
        ({"comment": " "}, r"comment must be .* got ' '"),
        ({"comment": '"'}, r"other than a blank or a double quote"),
        ({"comment": 35}, r"comment must be .* got 35"),
        ({"comment": ",", "sep": ","}, r"comment ',' is part of the separator ','"),
        ({"encoding": "cp1252"}, r"encoding must be 'utf-8' or 'latin-1'; got 'cp1"),
        ({"encoding": None}, r"encoding must be 'utf-8' or 'latin-1'; got None"),
        ({"timestamps": True}, r"timestamps must be None .*; got True"),
        ({"timestamps": -1}, r"timestamps must be None .*; got -1"),
        ({"timestamps": 2}, r"timestamps=2 is also one of columns=\(0, 1, 2\)"),
        ({"sep": '"'}, r"sep must not contain a double quote"),
    ],
)
def test_new_arguments_are_checked_before_the_file_is_read(tmp_path, options, expected):
    with pytest.raises(ValueError, match=expected):
        read_ratings(tmp_path / "nothere.csv", **options)


def test_guessed_separator_holding_the_comment_character(tmp_path):
    path = _write(tmp_path, "pipe.txt", "1|2|3\n")

    with pytest.raises(ValueError, match=r"comment '\|' is part of the separator"):
        read_ratings(path, comment="|")


# -- timestamps -------------------------------------------------------------------


def test_ml_100k_timestamps(data_file):
    path = data_file("ml-100k/u.data")
    expected = [int(line.split("\t")[3]) for line in path.read_text().splitlines()]

    ratings = read_ratings(path, preset="ml-100k")

    assert ratings.timestamps.dtype == np.int64
    assert ratings.timestamps[0] == 881250949
    np.testing.assert_array_equal(ratings.timestamps, expected)
    assert read_ratings(path).timestamps is None  # no preset, no timestamps
    assert read_ratings(path, preset="ml-100k", timestamps=False).timestamps is None


def test_ml_latest_small_timestamps_by_preset_and_by_name(data_file):
    path = data_file("ml-latest-small/ratings.csv")
    lines = path.read_bytes().decode().splitlines()[1:]
    expected = [int(line.split(",")[3]) for line in lines]

    by_preset = read_ratings(path, preset="ml-latest")
    by_name = read_ratings(path, timestamps="timestamp")

    assert by_preset.timestamps[0] == 964982703
    np.testing.assert_array_equal(by_preset.timestamps, expected)
    np.testing.assert_array_equal(by_name.timestamps, expected)
    assert by_preset.n_ratings == 100_836


def test_ml_1m_partial_timestamps(data_file):
    path = data_file("ml-1m-partial/ratings.dat.gz")
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()

    ratings = read_ratings(path, preset="ml-1m")

    assert ratings.timestamps[0] == 978300760
    np.testing.assert_array_equal(
        ratings.timestamps, [int(line.split("::")[3]) for line in lines]
    )


def test_bad_timestamp_is_named(tmp_path):
    path = _write(tmp_path, "t.csv", "1,2,3,100\n1,3,4,1.5e9\n")

    with pytest.raises(
        RatingsFileError,
        match=r"line 2, column 4: expected an integer timestamp, got '1\.5e9'",
    ):
        read_ratings(path, timestamps=3)
    with pytest.raises(RatingsFileError, match=r"line 1, column 5: missing"):
        read_ratings(path, timestamps=4)


def test_timestamps_by_unknown_name(tmp_path):
    path = _write(tmp_path, "t.csv", "u,i,r,time\n1,2,3,4\n")

    assert read_ratings(path, timestamps="time").timestamps.tolist() == [4]
    with pytest.raises(RatingsFileError, match=r"no column named 'when'"):
        read_ratings(path, timestamps="when")


def test_presets_set_the_timestamp_column():
    for name in ("ml-100k", "ml-1m", "ml-10m", "ml-latest", "ml-20m"):
        assert PRESETS[name]["timestamps"] == 3
    assert "timestamps" not in PRESETS["libmf"]


# -- LIBMF ------------------------------------------------------------------------


def _random_float32(rng, n):
    """Finite float32 values from random bit patterns, plus edge cases."""
    bits = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    values = bits.view(np.float32)
    edges = np.array(
        [0.0, -0.0, 0.1, 1 / 3, 3.5, 5, 1e-45, -1e-45, 1.1754942e-38,
         np.finfo(np.float32).max, -np.finfo(np.float32).max, 16777217],
        dtype=np.float32,
    )  # fmt: skip
    return np.concatenate([edges, values[np.isfinite(values)]])


def test_libmf_round_trip_keeps_every_float32_bit(tmp_path, rng):
    values = _random_float32(rng, 50_000)
    n = values.size
    users, items = rng.integers(0, 700, n), rng.integers(0, 300, n)
    ratings = Ratings.from_arrays(users, items, values.astype(np.float64))
    path = tmp_path / "train.txt"

    write_libmf(ratings, path)
    back = read_ratings(path, preset="libmf")

    assert back.n_ratings == n
    np.testing.assert_array_equal(back.raw_users(), ratings.users)
    np.testing.assert_array_equal(back.raw_items(), ratings.items)
    read32 = back.values.astype(np.float32)
    mismatched = np.flatnonzero(read32.view(np.uint32) != values.view(np.uint32))
    assert mismatched.size == 0, values[mismatched[:5]]


def test_libmf_lines_hold_indices_and_short_values(tmp_path):
    ratings = Ratings.from_raw_ids(["zoe", "ann", "zoe"], [100, 7, 7], [4.5, 3.0, 0.25])
    path = tmp_path / "out.libmf"

    write_libmf(ratings, path)

    # Indices, not raw ids: ann -> 0, zoe -> 1; item 7 -> 0, 100 -> 1.
    assert path.read_text() == "1 1 4.5\n0 0 3\n1 0 0.25\n"


def test_libmf_warns_when_values_are_rounded_to_float32(tmp_path):
    ratings = Ratings.from_arrays([0, 1], [0, 0], [0.1, 2.5])

    with pytest.warns(
        UserWarning,
        match=r"1 of 2 values are not exact in float32, LIBMF's value type, and were "
        r"rounded \(for example 0\.1 became 0\.10000000149011612\)",
    ):
        write_libmf(ratings, tmp_path / "r.txt")
    assert (tmp_path / "r.txt").read_text() == "0 0 0.1\n1 0 2.5\n"
    with pytest.raises(ValueError, match=r"overflows float32"):
        write_libmf(Ratings.from_arrays([0], [0], [1e39]), tmp_path / "big.txt")
    with pytest.raises(TypeError, match=r"expects a Ratings; got tuple"):
        write_libmf(([0], [0], [1.0]), tmp_path / "t.txt")


def test_libmf_write_is_atomic(tmp_path, monkeypatch):
    path = _write(tmp_path, "train.txt", "0 0 1\n")
    ratings = Ratings.from_arrays([0, 1], [1, 0], [2.0, 3.0])

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(_libmf._parse, "format_triples", broken)
    with pytest.raises(OSError, match="disk full"):
        write_libmf(ratings, path)

    assert path.read_text() == "0 0 1\n"
    assert os.listdir(tmp_path) == ["train.txt"]  # no temporary file left
    monkeypatch.undo()
    write_libmf(ratings, path)
    assert path.read_text() == "0 1 2\n1 0 3\n"


def test_libmf_writes_in_blocks(tmp_path, monkeypatch, rng):
    monkeypatch.setattr(_libmf, "_BLOCK_ROWS", 7)
    ratings = Ratings.from_arrays(
        rng.integers(0, 50, 100), rng.integers(0, 20, 100), rng.integers(1, 6, 100)
    )
    path = tmp_path / "r.txt"

    write_libmf(ratings, path)

    expected = "".join(
        f"{u} {i} {int(v)}\n"
        for u, i, v in zip(ratings.users, ratings.items, ratings.values, strict=True)
    )
    assert path.read_text() == expected


# -- ranges parsed in parallel ----------------------------------------------------


@pytest.mark.parametrize("n_chunks", [1, 2, 7, 50])
def test_any_number_of_ranges_reads_the_same(tmp_path, monkeypatch, rng, n_chunks):
    monkeypatch.setattr(_readers, "_n_chunks", lambda n_bytes: n_chunks)
    lines = []
    for k in range(2_000):
        lines.append(f"{rng.integers(0, 90)},{rng.integers(0, 40)},{k % 11 / 2}")
        if k % 97 == 0:
            lines.append("")
        if k % 113 == 0:
            lines.append("% a comment")
    lines[500] = "5,6,0.12345678901234567"  # needs Python's float
    path = _write(tmp_path, "r.csv", "\n".join(lines))  # no final newline

    ratings = read_ratings(path, comment="%")

    kept = [line.split(",") for line in lines if line and not line.startswith("%")]
    assert _rows(ratings) == [(int(u), int(i), float(v)) for u, i, v in kept]


@pytest.mark.parametrize("n_chunks", [1, 3])
def test_errors_are_reported_in_file_order_across_ranges(
    tmp_path, monkeypatch, n_chunks
):
    monkeypatch.setattr(_readers, "_n_chunks", lambda n_bytes: n_chunks)
    lines = ["1,2,3"] * 3000
    lines[1200] = "1,2,1e999"  # not finite: reported by the Python pass
    lines[2500] = "1,2,x"
    path = _write(tmp_path, "r.csv", "\n".join(lines) + "\n")

    with pytest.raises(RatingsFileError, match=r"line 1201, column 3: .*'1e999'"):
        read_ratings(path)


def test_inexact_ratings_beyond_the_buffer_are_all_converted(tmp_path, monkeypatch):
    monkeypatch.setattr(_readers, "_INEXACT_ROWS", 3)
    texts = [f"{k}.{k:020d}" for k in range(40)] + ["2.5e-300", "7"]
    path = _write(tmp_path, "long.csv", "".join(f"1,{k},{t}\n" for k, t in
                                                enumerate(texts)))  # fmt: skip

    ratings = read_ratings(path)

    assert ratings.values.tolist() == [float(t) for t in texts]


def test_parse_chunk_reports_capacity_instead_of_writing_past_the_arrays():
    buf = np.frombuffer(b"1,2,3\n4,5,6\n", dtype=np.uint8)
    one = np.zeros(1, dtype=np.int64)
    no_spans = np.zeros((0, 2), dtype=np.int64)

    state = _parse.parse_chunk(
        buf, 0, buf.size, 0, 1, np.frombuffer(b",", np.uint8).copy(), -1,
        np.array([0, 1, 2, -1]), np.zeros(2, np.int64), one, one.copy(), no_spans,
        no_spans, np.zeros(1), np.zeros(0, np.int64), np.zeros((4, 4), np.int64),
        0, 4,
    )  # fmt: skip

    assert state[:4] == (6, 1, 2, _parse.CAPACITY)

"""read_ratings on the real rating sets and on small files written per test."""

import bz2
import gzip
import io
import lzma
import re
import zipfile

import numpy as np
import pytest

from fastmf.data import PRESETS, read_ratings
from fastmf.data._readers import _normalise_line_ends
from fastmf.exceptions import RatingsFileError


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _parse_plain(text, sep=None, skip=0):
    """Independent parse: (users, items, values) lists by plain Python splitting."""
    users, items, values = [], [], []
    for line in text.splitlines()[skip:]:
        if not line.strip():
            continue
        fields = line.split(sep)
        users.append(int(fields[0]))
        items.append(int(fields[1]))
        values.append(float(fields[2]))
    return users, items, values


def _assert_same_rows(ratings, users, items, values):
    np.testing.assert_array_equal(ratings.raw_users(), users)
    np.testing.assert_array_equal(ratings.raw_items(), items)
    np.testing.assert_array_equal(ratings.values, values)


def _counts(ratings):
    return ratings.n_ratings, ratings.n_users, ratings.n_items


# -- real files ---------------------------------------------------------------------


def test_ml_100k_u_data(data_file):
    path = data_file("ml-100k/u.data")

    ratings = read_ratings(path)

    assert _counts(ratings) == (100_000, 943, 1_682)
    np.testing.assert_array_equal(ratings.user_map.ids, np.arange(1, 944))
    np.testing.assert_array_equal(ratings.item_map.ids, np.arange(1, 1683))
    np.testing.assert_array_equal(np.unique(ratings.values), [1, 2, 3, 4, 5])
    assert read_ratings(path, preset="ml-100k").n_ratings == 100_000


def test_ml_100k_u_data_matches_a_plain_parse(data_file):
    path = data_file("ml-100k/u.data")
    users, items, values = _parse_plain(path.read_text(), "\t")

    _assert_same_rows(read_ratings(path), users, items, values)


@pytest.mark.parametrize(("name", "rows"), [("u1.base", 80_000), ("u1.test", 20_000)])
def test_ml_100k_u1_split(data_file, name, rows):
    path = data_file(f"ml-100k/{name}")
    users, items, values = _parse_plain(path.read_text(), "\t")

    ratings = read_ratings(path)

    assert ratings.n_ratings == rows == len(values)
    assert ratings.n_users == len(set(users))
    assert ratings.n_items == len(set(items))
    _assert_same_rows(ratings, users, items, values)


def test_ml_100k_u1_base_and_test_make_up_u_data(data_file):
    whole = read_ratings(data_file("ml-100k/u.data"))
    base = read_ratings(data_file("ml-100k/u1.base"))
    test = read_ratings(data_file("ml-100k/u1.test"))

    def rows(r):
        return sorted(zip(r.raw_users(), r.raw_items(), r.values, strict=True))

    assert sorted(rows(base) + rows(test)) == rows(whole)


def test_ml_latest_small_crlf_header(data_file):
    path = data_file("ml-latest-small/ratings.csv")
    raw = path.read_bytes()
    assert b"\r\n" in raw  # the file really is CRLF
    users, items, values = _parse_plain(raw.decode(), ",", skip=1)

    ratings = read_ratings(path)

    assert _counts(ratings) == (100_836, 610, 9_724)
    np.testing.assert_array_equal(np.unique(ratings.values), np.arange(1, 11) / 2)
    assert ratings.item_map.ids.max() == 193_609
    _assert_same_rows(ratings, users, items, values)
    named = read_ratings(path, columns=("userId", "movieId", "rating"))
    _assert_same_rows(named, users, items, values)


def test_ml_1m_partial_gzip_matches_a_plain_parse(data_file):
    path = data_file("ml-1m-partial/ratings.dat.gz")
    users, items, values = _parse_plain(
        gzip.decompress(path.read_bytes()).decode(), "::"
    )

    ratings = read_ratings(path)

    assert _counts(ratings) == (487_650, 2_999, 3_615)
    np.testing.assert_array_equal(ratings.user_map.ids, np.arange(1, 3000))
    assert (users[0], items[0], values[0]) == (1, 1193, 5.0)
    _assert_same_rows(ratings, users, items, values)


def test_filmtrust_keeps_duplicate_pairs_as_rows(data_file):
    path = data_file("filmtrust/ratings.txt")
    users, items, values = _parse_plain(path.read_text())

    ratings = read_ratings(path)

    assert _counts(ratings) == (35_497, 1_508, 2_071)
    _assert_same_rows(ratings, users, items, values)
    pairs = list(zip(ratings.raw_users(), ratings.raw_items(), strict=True))
    assert len(pairs) - len(set(pairs)) == 3
    user = ratings.raw_users() == 308
    for item, expected in [(207, [3.0, 3.5]), (235, [1.5, 4.0]), (12, [4.0, 4.0])]:
        found = ratings.values[user & (ratings.raw_items() == item)]
        assert sorted(found.tolist()) == expected
    np.testing.assert_array_equal(np.unique(ratings.values), np.arange(1, 9) / 2)


def test_coat_zero_based_ids(data_file):
    path = data_file("coat/train.txt")
    users, items, values = _parse_plain(path.read_text())

    ratings = read_ratings(path)

    assert _counts(ratings) == (6_960, 290, 300)
    np.testing.assert_array_equal(ratings.user_map.ids, np.arange(290))
    np.testing.assert_array_equal(ratings.item_map.ids, np.arange(300))
    assert ratings.user_map.lookup(0) == 0 and ratings.item_map.lookup(0) == 0
    assert np.all(np.bincount(ratings.users) == 24)
    _assert_same_rows(ratings, users, items, values)


# -- compression, BOM, blank lines --------------------------------------------------


@pytest.fixture
def plain_text(rng):
    n = 300
    users = rng.integers(0, 40, n)
    items = rng.integers(1, 10**9, n)
    values = rng.integers(1, 11, n) / 2
    lines = [
        f"{u}\t{i}\t{v:g}\t123" for u, i, v in zip(users, items, values, strict=True)
    ]
    return "\n".join(lines) + "\n", users, items, values


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)],
)
def test_compressed_copies_load_identically(tmp_path, plain_text, suffix, compress):
    text, users, items, values = plain_text
    plain = _write(tmp_path, "plain.tsv", text)
    # The name says nothing: compression is detected from the content.
    packed = _write(tmp_path, "packed.txt", compress(text.encode()))

    expected = read_ratings(plain)
    loaded = read_ratings(packed)

    _assert_same_rows(expected, users, items, values)
    _assert_same_rows(loaded, users, items, values)
    np.testing.assert_array_equal(loaded.users, expected.users)
    assert loaded.shape == expected.shape


def test_damaged_compressed_file_is_a_file_error(tmp_path):
    path = _write(tmp_path, "cut.gz", gzip.compress(b"1,2,3\n" * 200)[:-12])

    with pytest.raises(
        RatingsFileError, match=r"cut\.gz: the compressed data is damaged"
    ):
        read_ratings(path)


def test_utf8_bom_crlf_and_blank_lines(tmp_path):
    text = "\ufeff\r\nuser,item,rating\r\n\r\n1,2,3\r\n  \r\n\r\n4,0,4.5\r\n\n"
    path = _write(tmp_path, "bom.csv", text)

    ratings = read_ratings(path)

    _assert_same_rows(ratings, [1, 4], [2, 0], [3.0, 4.5])


def test_cr_only_line_endings_read_every_rating(tmp_path):
    # Classic Mac line ends: with a fourth field, only the first rating used to
    # come back, the rest of the file read as that field.
    path = _write(tmp_path, "mac.csv", "1,2,3,100\r4,5,4.5,200\r7,8,1,300")

    _assert_same_rows(read_ratings(path), [1, 4, 7], [2, 5, 8], [3.0, 4.5, 1.0])


def test_cr_only_line_endings_with_a_header(tmp_path):
    # The header used to swallow the whole file: "only a header line".
    text = "\ufeffuserId,movieId,rating\r\r1,31,2.5\r2,10,4\r"
    path = _write(tmp_path, "mac.csv", text)

    _assert_same_rows(read_ratings(path), [1, 2], [31, 10], [2.5, 4.0])
    packed = _write(tmp_path, "mac.csv.gz", gzip.compress(text.encode()))
    _assert_same_rows(read_ratings(packed), [1, 2], [31, 10], [2.5, 4.0])


def test_cr_only_and_mixed_line_endings_keep_line_numbers(tmp_path):
    mac = _write(tmp_path, "mac.csv", "u,i,r\r1,2,3\r\r4,x,6\r7,8,9\r")
    # CRLF, CR and LF in one file: each ends one line, as in str.splitlines.
    mixed = _write(tmp_path, "mixed.csv", "1,2,3\r\n4,5,6\r7,8,9\n10,y,1\r\n")

    with pytest.raises(RatingsFileError, match=r"mac\.csv, line 4, column 2: .*'x'"):
        read_ratings(mac, ids="int")
    with pytest.raises(
        RatingsFileError, match=r"mixed\.csv, line 4, column 2: .*'y'"
    ) as info:
        read_ratings(mixed, ids="int")
    assert (info.value.line, info.value.column) == (4, 2)


def test_lf_and_crlf_buffers_are_parsed_as_they_are():
    # The fast path: no copy unless a CR ends a line on its own.
    for buf in (b"1,2,3\n4,5,6\n", b"1,2,3\r\n4,5,6\r\n", b"1,2,3\r\n4,5,6"):
        assert _normalise_line_ends(buf) is buf
    assert _normalise_line_ends(b"1,2,3\r\n4,5,6\r7\r") == b"1,2,3\n4,5,6\n7\n"


def test_blank_lines_do_not_shift_line_numbers(tmp_path):
    path = _write(tmp_path, "gaps.csv", "\ufeff1,2,3\n\n\n4,x,5\n")

    with pytest.raises(RatingsFileError, match=r"gaps\.csv, line 4, column 2") as info:
        read_ratings(path, ids="int")
    assert (info.value.line, info.value.column) == (4, 2)


def test_runs_of_blanks_separate_fields(tmp_path):
    path = _write(tmp_path, "blanks.txt", "1   2  3\n  4 5\t6  \n7 8 0\n")

    _assert_same_rows(read_ratings(path), [1, 4, 7], [2, 5, 8], [3.0, 6.0, 0.0])


def test_zero_ratings_in_a_file_are_ratings(tmp_path):
    path = _write(tmp_path, "zeros.csv", "1,1,0\n1,2,0.0\n2,1,10\n")

    ratings = read_ratings(path)

    assert ratings.n_ratings == 3
    np.testing.assert_array_equal(ratings.values, [0.0, 0.0, 10.0])


def test_last_line_without_newline_and_negative_ids(tmp_path):
    path = _write(tmp_path, "tail.csv", "-1,+2,1.25\n3,-4,.5")

    _assert_same_rows(read_ratings(path), [-1, 3], [2, -4], [1.25, 0.5])


def test_decimal_ratings_match_python_float(tmp_path, rng):
    # Short and long decimals, exponents; compared with Python's correctly rounded
    # float().
    texts = [
        f"{x:.{d}f}"
        for x, d in zip(rng.random(200) * 5, rng.integers(0, 20, 200), strict=True)
    ]
    texts += ["3.14159265358979323846", "1e-400", "2.5E+2", "0.1", "007", "4."]
    path = _write(tmp_path, "decimals.csv", "".join(f"1,2,{t}\n" for t in texts))

    np.testing.assert_array_equal(read_ratings(path).values, [float(t) for t in texts])


# -- header, columns, separators ----------------------------------------------------

HEADER_CSV = (
    "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n2,10,4.0,835355493\n"
)


def test_header_is_detected_and_skipped(tmp_path):
    path = _write(tmp_path, "h.csv", HEADER_CSV)

    ratings = read_ratings(path)

    _assert_same_rows(ratings, [1, 2], [31, 10], [2.5, 4.0])


def test_header_true_and_false_explicit(tmp_path):
    with_header = _write(tmp_path, "h.csv", HEADER_CSV)
    without = _write(tmp_path, "n.csv", HEADER_CSV.split("\n", 1)[1])

    _assert_same_rows(
        read_ratings(with_header, header=True), [1, 2], [31, 10], [2.5, 4.0]
    )
    _assert_same_rows(read_ratings(without, header=False), [1, 2], [31, 10], [2.5, 4.0])
    _assert_same_rows(read_ratings(without), [1, 2], [31, 10], [2.5, 4.0])
    # header=True on a headerless file drops its first line, as asked.
    _assert_same_rows(read_ratings(without, header=True), [2], [10], [4.0])


def test_header_with_header_false_names_line_token_and_option(tmp_path):
    path = _write(tmp_path, "h.csv", HEADER_CSV)

    with pytest.raises(RatingsFileError) as info:
        read_ratings(path, header=False)

    # The ids could be text, so the rating field is the first that cannot be read;
    # the hint names the fields that look like column names.
    message = str(info.value)
    assert str(path) in message
    assert "line 1, column 3: expected a number, got 'rating'" in message
    assert "If line 1 is a header ('userId', 'movieId', 'rating'), pass" in message
    assert "header=True" in message
    assert (info.value.line, info.value.column, info.value.path) == (1, 3, str(path))
    with pytest.raises(RatingsFileError, match=r"line 1, column 1: .*'userId'.*header"):
        read_ratings(path, header=False, ids="int")


def test_header_after_blank_lines_with_header_false_points_to_header_option(tmp_path):
    path = _write(tmp_path, "h.csv", "\n\n" + HEADER_CSV)

    with pytest.raises(RatingsFileError, match=r"line 3, column 3.*header=True"):
        read_ratings(path, header=False)


def test_columns_by_name_in_any_order(tmp_path):
    path = _write(tmp_path, "h.csv", HEADER_CSV)

    swapped = read_ratings(path, columns=("movieId", "userId", "rating"))
    mixed = read_ratings(path, columns=(0, "movieId", 2))

    _assert_same_rows(swapped, [31, 10], [1, 2], [2.5, 4.0])
    _assert_same_rows(mixed, [1, 2], [31, 10], [2.5, 4.0])


def test_columns_by_position(tmp_path):
    path = _write(tmp_path, "p.tsv", "99\t7\t1\t4.5\n98\t8\t2\t0\n")

    ratings = read_ratings(path, columns=(2, 1, 3))

    _assert_same_rows(ratings, [1, 2], [7, 8], [4.5, 0.0])


def test_numpy_integer_column_positions_keep_the_first_row(tmp_path):
    path = _write(tmp_path, "d.csv", "1,2,3\n4,5,4.5\n")

    ratings = read_ratings(path, columns=tuple(np.arange(3)))

    _assert_same_rows(ratings, [1, 4], [2, 5], [3.0, 4.5])


def test_unknown_column_name_lists_the_header(tmp_path):
    path = _write(tmp_path, "h.csv", HEADER_CSV)

    with pytest.raises(RatingsFileError, match=r"no column named 'score'.*'rating'"):
        read_ratings(path, columns=("userId", "movieId", "score"))
    with pytest.raises(ValueError, match=r"'userId' is a name.*no header line"):
        read_ratings(path, columns=("userId", "movieId", "rating"), header=False)


def test_bad_column_specifications(tmp_path):
    path = _write(tmp_path, "h.csv", HEADER_CSV)

    with pytest.raises(ValueError, match=r"columns must name 3 fields.*\(0, 1\)"):
        read_ratings(path, columns=(0, 1))
    with pytest.raises(ValueError, match=r"0-based positions or header names; got -1"):
        read_ratings(path, columns=(0, 1, -1))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"header": "no"}, r"header must be None \(detect\), True or False; got 'no'"),
        ({"header": "false"}, r"header must be None .*; got 'false'"),
        ({"header": 1}, r"header must be None .*; got 1"),
        ({"sep": ""}, r"sep must be a non-empty string .*; got ''"),
        ({"sep": 44}, r"sep must be a non-empty string .*; got 44"),
        ({"sep": b","}, r"sep must be a non-empty string .*; got b','"),
        ({"sep": ",\n"}, r"sep must not contain a line break"),
        ({"columns": (0, 0, 2)}, r"columns must be 3 distinct fields .*\(0, 0, 2\)"),
        ({"columns": ("a", "b", "a")}, r"3 distinct fields"),
        ({"columns": "uir"}, r"columns must name 3 fields .*got 'uir'"),
        ({"columns": 3}, r"columns must name 3 fields .*got 3"),
        ({"columns": (True, 1, 2)}, r"0-based positions or header names; got True"),
        ({"columns": (0, 1, 2.0)}, r"0-based positions or header names; got 2\.0"),
        ({"columns": (0, 1, 2), "preset": ""}, r"preset must be one of .*; got ''"),
    ],
)
def test_arguments_are_checked_before_the_file_is_read(tmp_path, options, expected):
    # The file does not exist: the argument error comes first.
    with pytest.raises(ValueError, match=expected):
        read_ratings(tmp_path / "nothere.csv", **options)


def test_valid_argument_forms_are_accepted(tmp_path):
    path = _write(tmp_path, "h.csv", HEADER_CSV)

    for options in (
        {"header": np.True_},
        {"columns": [0, 1, 2]},
        {"columns": np.array([0, 1, 2])},
        {"columns": (np.int32(0), "movieId", 2)},
    ):
        _assert_same_rows(read_ratings(path, **options), [1, 2], [31, 10], [2.5, 4.0])


def test_a_name_and_a_position_for_the_same_field(tmp_path):
    path = _write(tmp_path, "h.csv", HEADER_CSV)

    with pytest.raises(ValueError, match=r"select the same field twice"):
        read_ratings(path, columns=(0, "userId", 2))


def test_separator_guess_and_override(tmp_path):
    semicolons = _write(tmp_path, "s.txt", "1;2;3\n4;5;1.5\n")
    colons = _write(tmp_path, "c.dat", "1::2::3::0\n4::5::1.5::0\n")

    with pytest.raises(RatingsFileError, match=r"line 1"):
        read_ratings(semicolons, sep=",")
    _assert_same_rows(read_ratings(semicolons, sep=";"), [1, 4], [2, 5], [3.0, 1.5])
    _assert_same_rows(read_ratings(colons), [1, 4], [2, 5], [3.0, 1.5])
    _assert_same_rows(read_ratings(colons, preset="ml-1m"), [1, 4], [2, 5], [3.0, 1.5])


@pytest.mark.parametrize(
    "text",
    [
        "1;2;3\n4;5;1.5\n",
        "user;item;rating\n1;2;3\n4;5;1.5\n",
        "1|2|3|x\n4|5|1.5|y\n",
        "1 | 2 | 3\n4 | 5 | 1.5\n",
    ],
    ids=["semicolon", "semicolon-header", "pipe", "spaced-pipe"],
)
def test_semicolon_and_pipe_separators_are_guessed(tmp_path, text):
    path = _write(tmp_path, "s.txt", text)

    _assert_same_rows(read_ratings(path), [1, 4], [2, 5], [3.0, 1.5])


@pytest.mark.parametrize(
    ("text", "options", "where", "hint"),
    [
        # A European CSV: decimal commas make ',' the guess.
        ("1;2;4,5\n3;4;2\n", {}, r"line 1, column 3: missing", ";"),
        ("1;2;3\n", {"sep": ","}, r"line 1, column 2: missing", ";"),
        ("1;2;3\n", {"sep": ",", "header": False}, r"line 1, column 1: expected", ";"),
        ("1|2|3\n", {"preset": "ml-100k"}, r"line 1, column 1: expected", "|"),
        ("1,2,3\n4:5:6\n", {}, r"line 2, column 1: expected", ":"),
        ("1::2::3\n", {"sep": ","}, r"line 1, column 2: missing", "::"),
        ("1\t2\t3\n", {"sep": ","}, r"line 1, column 2: missing", "\t"),
        ("1,2,3\n4 5,6,7\n", {}, r"line 2, column 1: expected", " "),
        ("1 2 3\n4,5,6\n", {}, r"line 2, column 1: expected", ","),
        (
            "userId;movieId;rating\n1;2;3\n",
            {"sep": ",", "header": True},
            r"line 2, column 1: expected",
            ";",
        ),
    ],
)
def test_unparsable_first_field_names_the_likely_separator(
    tmp_path, text, options, where, hint
):
    path = _write(tmp_path, "s.txt", text)

    with pytest.raises(RatingsFileError, match=where) as info:
        read_ratings(path, ids="int", **options)

    expected = (
        f" The fields may be separated by {hint!r}: pass sep={hint!r} (CLI: --sep)."
    )
    assert str(info.value).endswith(expected), str(info.value)


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("1,2,3\n4,5\n", {}),  # a short line
        ("1,2,3\n4, 5\n", {}),  # blanks after the separator are no separator
        ("1,2,3\n4,x;y,5\n", {}),  # the bad field is not the first
        ("user id,item id,rating\n1,2,3\n", {"header": False}),  # a header's blank
    ],
)
def test_no_separator_hint_without_reason(tmp_path, text, options):
    path = _write(tmp_path, "s.txt", text)

    with pytest.raises(RatingsFileError) as info:
        read_ratings(path, ids="int", **options)

    assert "sep=" not in str(info.value)


def test_presets(tmp_path):
    assert PRESETS["ml-latest"] == {"sep": ",", "header": True, "timestamps": 3}
    assert PRESETS["libmf"] == {"sep": " ", "header": False}
    with pytest.raises(ValueError, match=r"preset must be one of .*'ml-100k'.*'nope'"):
        read_ratings(_write(tmp_path, "x.csv", "1,2,3\n"), preset="nope")


# -- files without ratings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the file is empty"),
        (
            "userId,movieId,rating,timestamp\n",
            r"the file holds no ratings \(only a header",
        ),
        ("\n\nuser,item,rating\r\n\r\n", r"the file holds no ratings \(only a header"),
        ("\n  \n\r\n", r"the file holds no ratings\.$"),
    ],
    ids=["empty", "header-only", "header-and-blanks", "blank-lines"],
)
def test_files_without_ratings(tmp_path, text, reason):
    path = _write(tmp_path, "none.csv", text)

    with pytest.raises(RatingsFileError, match=rf"{re.escape(str(path))}: {reason}"):
        read_ratings(path)


def test_empty_compressed_file(tmp_path):
    path = _write(tmp_path, "none.gz", gzip.compress(b""))

    with pytest.raises(RatingsFileError, match=r"none\.gz: the file is empty"):
        read_ratings(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothere\.csv: no such ratings file"):
        read_ratings(tmp_path / "nothere.csv")


def test_directory_is_named_in_the_error(tmp_path):
    folder = tmp_path / "ratings"
    folder.mkdir()

    with pytest.raises(
        IsADirectoryError, match=rf"^{re.escape(str(folder))}: is a directory, not a"
    ):
        read_ratings(folder)


def _zip(text):
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("ratings.csv", text)
    return packed.getvalue()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("1,2,3\n4,5,6\n".encode("utf-16"), "is UTF-16 encoded; save it as UTF-8"),
        ("1,2,3\n".encode("utf-16-be"), r"does not look like a text file \(it "),
        (b"\xfe\xff" + "1,2,3\n".encode("utf-16-be"), "is UTF-16 encoded"),
        ("1,2,3\n".encode("utf-32"), "is UTF-32 encoded; save it as UTF-8"),
        (gzip.compress("1,2,3\n".encode("utf-16")), "is UTF-16 encoded"),
        (
            b"1,2,3\n4,5,6\n\x00\x01\x02",
            r"does not look like a text file \(it contains NUL bytes\)\.$",
        ),
        (bz2.compress(b"1,2,3\n\x00\n"), r"does not look like a text file"),
        (_zip("1,2,3\n"), r"is a zip archive; extract the ratings file first\.$"),
        (
            b"\x28\xb5\x2f\xfd\x20\x06\x31\x00\x00",
            r"is zstd-compressed, which is not supported; decompress it or use "
            r"gzip, bz2 or xz\.$",
        ),
    ],
    ids=[
        "utf16-le",
        "utf16-be-no-mark",
        "utf16-be",
        "utf32",
        "gzip-utf16",
        "binary",
        "bz2-binary",
        "zip",
        "zstd",
    ],
)
def test_non_text_files_are_named_as_such(tmp_path, content, reason):
    path = _write(tmp_path, "ratings.csv", content)

    with pytest.raises(RatingsFileError, match=rf"^{re.escape(str(path))}: ") as info:
        read_ratings(path)

    assert re.search(reason, str(info.value)), str(info.value)
    assert "header=True" not in str(info.value)
    assert info.value.path == str(path)


# -- malformed lines ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_line", "column", "expected"),
    [
        ("4,5,abc", 3, r"expected a number, got 'abc'"),
        ("4,5,", 3, r"expected a number, got ''"),
        ("4,5,1.2.3", 3, r"expected a number, got '1\.2\.3'"),
        ("4.5,5,3", 1, r"expected an integer id, got '4\.5'\. Pass ids='auto'"),
        ("4,5e1,3", 2, r"expected an integer id, got '5e1'"),
        ("4,bob,3", 2, r"expected an integer id, got 'bob'"),
        (
            "12345678901234567890,5,3",
            1,
            r"integer id within 64 bits, got '12345678901234567890'\. Pass ids='str'",
        ),
        ("4,5,nan", 3, r"non-finite value 'nan'; ratings must be finite"),
        ("4,5,inf", 3, r"non-finite value 'inf'; ratings must be finite"),
        ("4,5,-Infinity", 3, r"non-finite value '-Infinity'; ratings must be finite"),
    ],
)
def test_malformed_line_names_path_line_column_and_text(
    tmp_path, bad_line, column, expected
):
    path = _write(tmp_path, "bad.csv", f"1,2,3\n\n{bad_line}\n7,8,9\n")

    with pytest.raises(RatingsFileError) as info:
        read_ratings(path, ids="int")

    message = str(info.value)
    assert message.startswith(f"{path}, line 3, column {column}: "), message
    assert re.search(expected, message), message
    assert "header=True" not in message  # line 3 is no header
    assert (info.value.path, info.value.line, info.value.column) == (
        str(path),
        3,
        column,
    )


def test_missing_field_names_line_count_and_text(tmp_path):
    path = _write(tmp_path, "short.tsv", "1\t2\t3\n4\t5\n")

    with pytest.raises(RatingsFileError) as info:
        read_ratings(path)

    message = str(info.value)
    assert message.startswith(f"{path}, line 2, column 3: missing")
    assert "expected at least 3 fields, found 2" in message
    assert repr("4\t5") in message
    assert (info.value.line, info.value.column) == (2, 3)


def test_missing_selected_column_beyond_the_fields(tmp_path):
    path = _write(tmp_path, "few.csv", "1,2,3,4\n")

    with pytest.raises(
        RatingsFileError, match=r"line 1, column 6: missing; expected at least 6 fields"
    ):
        read_ratings(path, columns=(0, 1, 5))


def test_missing_selected_column_is_a_file_error(tmp_path):
    path = _write(tmp_path, "few.csv", "1,2,3,4\n")

    with pytest.raises(
        RatingsFileError, match=r"few\.csv, line 1, column 6: .*found 4: '1,2,3,4'"
    ):
        read_ratings(path, columns=(0, 1, 5))


@pytest.mark.parametrize("columns", [(0, 1, 9), (9, 0, 1)])
def test_selected_column_beyond_a_header_line_is_missing_on_line_1(tmp_path, columns):
    # The header's fields are not numbers, but the line is not taken for data
    # with a hint to declare a header: it lacks the selected column.
    path = _write(tmp_path, "h.csv", HEADER_CSV)

    with pytest.raises(RatingsFileError) as info:
        read_ratings(path, columns=columns)

    message = str(info.value)
    assert message.startswith(
        f"{path}, line 1, column 10: missing; expected at least 10 fields, found 4: "
        "'userId,movieId,rating,timestamp'."
    ), message
    assert "header=True" not in message
    assert (info.value.line, info.value.column) == (1, 10)


def test_error_in_a_compressed_file_names_its_line(tmp_path):
    path = _write(tmp_path, "bad.xz", lzma.compress(b"1,2,3\n4,5,6\n7,8,x\n"))

    with pytest.raises(
        RatingsFileError, match=r"bad\.xz, line 3, column 3.*'x'"
    ) as info:
        read_ratings(path)
    assert info.value.line == 3


def test_overflowing_rating_is_a_file_error_naming_its_line(tmp_path):
    path = _write(tmp_path, "huge.csv", "1,2,3\n4,5,1e400\n")

    with pytest.raises(RatingsFileError, match=r"huge\.csv, line 2, column 3.*1e400"):
        read_ratings(path)

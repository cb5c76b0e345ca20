"""read_ratings with text ids, huge integer ids, and IdMap.encode's fast paths."""

import string

import numpy as np
import pytest

from fastmf import MatrixFactorization
from fastmf.data import IdMap, _readers, read_ratings
from fastmf.exceptions import RatingsFileError
from fastmf.kernels import _ids


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _raw_rows(ratings):
    """(user, item, value) of every rating in raw ids, as plain Python values."""
    return list(
        zip(
            ratings.raw_users().tolist(),
            ratings.raw_items().tolist(),
            ratings.values.tolist(),
            strict=True,
        )
    )


# -- text ids ---------------------------------------------------------------------


def test_text_ids_give_sorted_string_maps_and_predict_by_name(tmp_path):
    path = _write(
        tmp_path, "names.csv", "user,item,rating\nbob,pear,4\nalice,fig,5\nbob,fig,2\n"
    )

    ratings = read_ratings(path)

    assert ratings.user_map.ids.tolist() == ["alice", "bob"]
    assert ratings.item_map.ids.tolist() == ["fig", "pear"]
    assert ratings.user_map.ids.dtype.kind == "U"
    assert ratings.users.dtype == np.int32 and ratings.items.dtype == np.int32
    assert _raw_rows(ratings) == [("bob", "pear", 4.0), ("alice", "fig", 5.0),
                                  ("bob", "fig", 2.0)]  # fmt: skip
    model = MatrixFactorization(n_factors=2, n_epochs=2, random_state=0).fit(ratings)
    assert np.isfinite(model.predict("alice", "pear"))
    assert ratings.user_map.lookup("alice") == 0


def test_quoted_text_ids_hold_separators_and_doubled_quotes(tmp_path):
    text = (
        '"Smith, J.","The Film, Part 2",4\n'
        '"say ""hi""",x,3\n'
        'bob,"x",2\n'  # a quoted and an unquoted "x" are one id
        '"bob",  " padded " ,1\n'  # blanks outside quotes go, inside stay
    )
    path = _write(tmp_path, "quoted.csv", text)

    ratings = read_ratings(path)

    assert _raw_rows(ratings) == [
        ("Smith, J.", "The Film, Part 2", 4.0),
        ('say "hi"', "x", 3.0),
        ("bob", "x", 2.0),
        ("bob", " padded ", 1.0),
    ]
    assert ratings.shape == (3, 3)


def test_non_ascii_utf8_ids_are_kept_exactly(tmp_path):
    names = ["José", "北京", "naïve café", "😀", "Zoë", "zoe"]
    lines = [f"{name}\t{i}\t{i % 5 + 1}" for i, name in enumerate(names)]
    path = _write(tmp_path, "utf8.tsv", "\n".join(lines) + "\n")

    ratings = read_ratings(path)

    assert ratings.raw_users().tolist() == names
    assert ratings.user_map.ids.tolist() == sorted(names)  # code-point order
    assert ratings.item_map.ids.dtype.kind == "i"  # items were integers


def test_latin1_ids_with_encoding_latin1(tmp_path):
    text = "Jos\xe9,Cr\xe8me br\xfbl\xe9e,5\nAnn,Cr\xe8me br\xfbl\xe9e,4\n"
    path = _write(tmp_path, "latin1.csv", text.encode("latin-1"))

    ratings = read_ratings(path, encoding="latin-1")

    assert ratings.raw_users().tolist() == ["José", "Ann"]
    assert ratings.item_map.ids.tolist() == ["Crème brûlée"]
    assert read_ratings(path, encoding="ISO-8859-1").raw_users().tolist() == [
        "José",
        "Ann",
    ]


def test_invalid_utf8_id_names_line_column_and_suggests_latin1(tmp_path):
    text = "Ann,x,1\n\nBob,y,2\nBob,Cr\xe8me,3\nJos\xe9,z,4\n"
    path = _write(tmp_path, "latin1.csv", text.encode("latin-1"))

    with pytest.raises(RatingsFileError) as info:
        read_ratings(path)

    message = str(info.value)
    # The earliest bad id in the file wins: line 4 (item), before line 5 (user).
    assert message.startswith(
        f"{path}, line 4, column 2: the item id 'Cr\\\\xe8me' "
    ), message
    assert "is not valid UTF-8 (byte 0xe8 at position 2)" in message
    assert message.endswith("pass encoding='latin-1'.")
    assert (info.value.line, info.value.column) == (4, 2)


def test_ids_are_decided_per_column(tmp_path):
    path = _write(
        tmp_path, "mixed.csv", "1,tt0111161,9\n2,tt0068646,8\n1,tt0068646,7\n"
    )

    ratings = read_ratings(path)

    assert ratings.user_map.ids.dtype == np.int64
    assert ratings.user_map.ids.tolist() == [1, 2]
    assert ratings.item_map.ids.tolist() == ["tt0068646", "tt0111161"]


def test_a_late_text_id_turns_its_column_to_text(tmp_path, monkeypatch):
    # Integers for thousands of lines, then one text id, parsed in several ranges:
    # the whole column is read again as text, "007" and "7" stay apart.
    monkeypatch.setattr(_readers, "_n_chunks", lambda n_bytes: 5)
    lines = [f"{u},{u % 97},{u % 5 + 1}" for u in range(3000)]
    lines += ["007,1,1", "x-ray,2,2"]
    path = _write(tmp_path, "late.csv", "\n".join(lines) + "\n")

    ratings = read_ratings(path)

    expected_users = [str(u) for u in range(3000)] + ["007", "x-ray"]
    assert ratings.raw_users().tolist() == expected_users
    assert ratings.item_map.ids.dtype == np.int64
    assert ratings.raw_items().tolist() == [u % 97 for u in range(3000)] + [1, 2]
    assert len(ratings.user_map) == 3002


def test_ids_str_and_int_override_auto(tmp_path):
    path = _write(tmp_path, "ids.csv", "007,1,1\n7,1,2\n")

    as_text = read_ratings(path, ids="str")
    as_int = read_ratings(path, ids="int")

    assert as_text.user_map.ids.tolist() == ["007", "7"]
    assert as_text.item_map.ids.tolist() == ["1"]
    assert as_int.user_map.ids.tolist() == [7]
    with pytest.raises(
        RatingsFileError,
        match=r"line 2, column 1: expected an integer id, got 'bob'\. Pass ids='auto'",
    ):
        read_ratings(_write(tmp_path, "t.csv", "1,1,1\nbob,1,1\n"), ids="int")
    with pytest.raises(
        ValueError, match=r"ids must be 'auto', 'int' or 'str'; got 'x'"
    ):
        read_ratings(path, ids="x")


def test_empty_text_id_is_an_error(tmp_path):
    path = _write(tmp_path, "empty.csv", 'a,b,1\n"",c,2\n')

    with pytest.raises(
        RatingsFileError, match=r"line 2, column 1: expected a user id, got an empty"
    ):
        read_ratings(path)


def test_many_distinct_text_ids_round_trip_exactly(tmp_path, rng):
    # Ids that differ only at the start, the end or by length, repeated in random
    # order; compared with an independent Python mapping.
    alphabet = np.array(list(string.ascii_letters + string.digits + "-_ é"))
    lengths = rng.integers(1, 12, 4000)
    pool = {"".join(rng.choice(alphabet, n)).strip() or "z" for n in lengths}
    pool |= {f"u{i}" for i in range(500)} | {f"{i}u" for i in range(500)}
    pool = sorted(pool)
    users = [pool[i] for i in rng.integers(0, len(pool), 20_000)]
    items = [pool[i] for i in rng.integers(0, len(pool), 20_000)]
    pairs = zip(users, items, strict=True)
    lines = [f'"{u}","{i}",{k % 9}' for k, (u, i) in enumerate(pairs)]
    path = _write(tmp_path, "many.csv", "\n".join(lines) + "\n")

    ratings = read_ratings(path)

    assert ratings.raw_users().tolist() == users
    assert ratings.raw_items().tolist() == items
    assert ratings.user_map.ids.tolist() == sorted(set(users))
    assert ratings.item_map.ids.tolist() == sorted(set(items))


@pytest.mark.parametrize("mask", [0, 1, 0xFF])
def test_hash_collisions_never_merge_ids(tmp_path, monkeypatch, rng, mask):
    # With all but a few bits of the hash masked off, nearly every pair of ids
    # collides; the byte comparison must still keep them apart.
    monkeypatch.setattr(_readers, "_HASH_MASK", np.uint64(mask))
    users = [f"user{i}" for i in rng.integers(0, 300, 2000)]
    items = [f'"it""em {i}"' for i in rng.integers(0, 50, 2000)]
    lines = [f"{u},{i},1" for u, i in zip(users, items, strict=True)]
    path = _write(tmp_path, "collide.csv", "\n".join(lines) + "\n")

    ratings = read_ratings(path)

    assert ratings.raw_users().tolist() == users
    assert ratings.raw_items().tolist() == [i[1:-1].replace('""', '"') for i in items]
    assert len(ratings.user_map) == len(set(users))


def test_span_codes_separate_colliding_texts_and_join_equal_ones():
    buf = np.frombuffer(b'ab "ab" ba "a""b" a"b ab', dtype=np.uint8)
    # Spans: ab, "ab", ba, "a""b", a"b (unquoted, so the quote is text), ab.
    spans = np.array([[0, 2], [3, 7], [8, 10], [11, 17], [18, 21], [22, 24]])

    for mask in (0, 2**64 - 1):
        first_rows, codes = _ids.span_codes(buf, spans, 6, np.uint64(mask))
        assert codes.tolist() == [0, 0, 1, 2, 2, 0]
        assert first_rows.tolist() == [0, 2, 3]


# -- integer ids --------------------------------------------------------------------

CASE_28_IDS = [0, 2147483648, 4294967296, 4294967297, 9007199254740993]


def test_case_28_huge_integer_ids_stay_exact_and_distinct(tmp_path):
    lines = [f"{u},{i},{k + 1}" for k, (u, i) in enumerate(
        zip(CASE_28_IDS, reversed(CASE_28_IDS), strict=True))]  # fmt: skip
    path = _write(tmp_path, "case28.csv", "\n".join(lines) + "\n")

    ratings = read_ratings(path)

    assert ratings.user_map.ids.dtype == np.int64
    assert ratings.raw_users().tolist() == CASE_28_IDS  # Python ints: exact
    assert ratings.raw_items().tolist() == CASE_28_IDS[::-1]
    assert len(ratings.user_map) == 5 and len(ratings.item_map) == 5
    assert ratings.user_map.lookup(9007199254740993) == 4
    assert ratings.user_map.lookup(9007199254740992) == -1  # 2**53: not an id


def test_a_late_id_beyond_int32_rereads_the_ids_as_int64(tmp_path, monkeypatch):
    monkeypatch.setattr(_readers, "_n_chunks", lambda n_bytes: 4)
    users = [*range(2000), 2**31, -(2**31) - 1, 2**31 - 1, -(2**31)]
    lines = [f"{u},{u % 7},1" for u in users]
    path = _write(tmp_path, "wide.csv", "\n".join(lines) + "\n")

    ratings = read_ratings(path)

    assert ratings.user_map.ids.dtype == np.int64
    assert ratings.raw_users().tolist() == users
    assert ratings.raw_items().tolist() == [u % 7 for u in users]


def test_int64_limits_and_longer_integers(tmp_path):
    low, high = -(2**63), 2**63 - 1
    path = _write(tmp_path, "limits.csv", f"{low},1,1\n{high},2,2\n+5,3,3\n")
    longer = _write(tmp_path, "longer.csv", f"{high + 1},1,1\n5,2,2\n")

    assert read_ratings(path).raw_users().tolist() == [low, high, 5]
    # Beyond 64 bits "auto" keeps the ids as text; "int" says how to read them.
    assert read_ratings(longer).raw_users().tolist() == [str(high + 1), "5"]
    with pytest.raises(RatingsFileError, match=r"integer id within 64 bits"):
        read_ratings(longer, ids="int")


def _unique(raw):
    ids, inverse = np.unique(raw, return_inverse=True)
    return ids, inverse.reshape(-1)


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng: rng.integers(1, 2_000, 50_000),  # dense: the table
        lambda rng: rng.integers(-1_000, 1_000, 3),  # dense, tiny
        lambda rng: rng.integers(0, 2**62, 50_000),  # sparse: hashed
        lambda rng: rng.integers(-(2**63), 2**63 - 1, 20_000, dtype=np.int64),
        lambda rng: rng.choice(rng.integers(0, 10**15, 300), 40_000),
        lambda rng: rng.integers(0, 2**64 - 1, 5_000, dtype=np.uint64),
        lambda rng: np.uint64(2**63) + rng.integers(0, 1000, 5_000).astype(np.uint64),
        lambda rng: rng.integers(-128, 127, 1_000).astype(np.int8),
        lambda rng: rng.integers(0, 2**32 - 1, 1_000).astype(np.uint32),
        lambda rng: rng.integers(-(2**31), 2**31 - 1, 9_000).astype(np.int32),
        lambda rng: np.full(100, 7, dtype=np.int16),
        lambda rng: np.array([], dtype=np.int64),
    ],
    ids=[
        "dense", "dense-tiny", "sparse", "full-int64", "few-sparse", "uint64",
        "uint64-high-dense", "int8", "uint32", "int32", "one-id", "empty",
    ],
)  # fmt: skip
def test_encode_equals_np_unique(rng, draw):
    raw = draw(rng)

    id_map, indices = IdMap.encode(raw, "users")

    ids, inverse = _unique(raw)
    assert id_map.ids.dtype == ids.dtype
    np.testing.assert_array_equal(id_map.ids, ids)
    np.testing.assert_array_equal(indices, inverse)
    assert indices.dtype == np.int32
    np.testing.assert_array_equal(id_map.ids[indices], raw)


def test_encode_of_strided_and_read_only_arrays(rng):
    raw = rng.integers(0, 10**12, 2_000)
    strided = raw[::2]
    frozen = raw.copy()
    frozen.flags.writeable = False

    for array in (strided, frozen):
        id_map, indices = IdMap.encode(array, "items")
        ids, inverse = _unique(array)
        np.testing.assert_array_equal(id_map.ids, ids)
        np.testing.assert_array_equal(indices, inverse)


def test_dense_table_memory_follows_the_range_not_the_largest_id():
    # Ids near 2**62 but within a small range take the table path; a table
    # indexed by the id itself would need exabytes.
    raw = np.array([2**62 + 5, 2**62, 2**62 + 5, 2**62 + 3], dtype=np.int64)

    codes = np.empty(raw.size, dtype=np.int32)
    ids = _ids.integer_codes(raw, codes)
    id_map, indices = IdMap.encode(raw, "users")

    assert ids.tolist() == [2**62, 2**62 + 3, 2**62 + 5]
    assert codes.tolist() == [2, 0, 2, 1]
    np.testing.assert_array_equal(id_map.ids, ids)
    np.testing.assert_array_equal(indices, codes)


def test_hash_codes_number_ids_by_first_appearance():
    raw = np.array([5, -1, 5, 2**62, -1, 0], dtype=np.int64)

    codes = np.empty(raw.size, dtype=np.int32)
    ids = _ids.hash_codes(raw, codes)

    assert ids.tolist() == [5, -1, 2**62, 0]
    assert codes.tolist() == [0, 1, 0, 2, 1, 3]

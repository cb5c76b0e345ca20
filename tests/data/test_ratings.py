"""The Ratings COO container, its constructors and the IdMap of raw ids."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastmf.data import IdMap, Ratings

INDEX_DTYPES = [
    np.int8,
    np.uint8,
    np.int16,
    np.uint16,
    np.int32,
    np.uint32,
    np.int64,
    np.uint64,
    np.dtype(">i8"),  # big-endian: must still come out native int32
]
VALUE_DTYPES = [
    np.float16,
    np.float32,
    np.float64,
    np.longdouble,
    np.int8,
    np.uint16,
    np.int64,
    np.dtype(">f8"),
]


def _triples(ratings):
    """The ratings as a sorted list of (raw user, raw item, value) tuples."""
    return sorted(
        zip(
            ratings.raw_users().tolist(),
            ratings.raw_items().tolist(),
            ratings.values.tolist(),
            strict=True,
        )
    )


# -- from_arrays --------------------------------------------------------------------


@pytest.mark.parametrize("index_dtype", INDEX_DTYPES, ids=str)
def test_from_arrays_accepts_every_integer_index_dtype(index_dtype):
    users = np.array([0, 2, 1, 2], dtype=index_dtype)
    items = np.array([3, 0, 1, 3], dtype=index_dtype)

    ratings = Ratings.from_arrays(users, items, [1.0, 2.0, 3.0, 4.0])

    assert ratings.users.dtype == np.int32 and ratings.users.dtype.isnative
    assert ratings.items.dtype == np.int32 and ratings.items.dtype.isnative
    assert ratings.users.flags.c_contiguous and ratings.items.flags.c_contiguous
    np.testing.assert_array_equal(ratings.users, [0, 2, 1, 2])
    np.testing.assert_array_equal(ratings.items, [3, 0, 1, 3])
    assert ratings.shape == (3, 4)


@pytest.mark.parametrize("value_dtype", VALUE_DTYPES, ids=str)
def test_from_arrays_accepts_every_real_value_dtype(value_dtype):
    values = np.array([1, 0, 5, 2], dtype=value_dtype)

    ratings = Ratings.from_arrays([0, 1, 2, 3], [0, 0, 1, 1], values)

    assert ratings.values.dtype == np.float64 and ratings.values.dtype.isnative
    np.testing.assert_array_equal(ratings.values, [1.0, 0.0, 5.0, 2.0])


def test_from_arrays_takes_strided_views():
    base = np.array([0, 9, 1, 9, 2, 9, 1, 9])
    ratings = Ratings.from_arrays(base[::2], base[::2][::-1], np.ones(4))

    np.testing.assert_array_equal(ratings.users, [0, 1, 2, 1])
    np.testing.assert_array_equal(ratings.items, [1, 2, 1, 0])
    assert ratings.users.flags.c_contiguous and ratings.items.flags.c_contiguous


def test_from_arrays_infers_shape_from_the_largest_index(rng):
    users = rng.integers(0, 37, 200)
    items = rng.integers(0, 53, 200)

    ratings = Ratings.from_arrays(users, items, rng.random(200))

    assert ratings.shape == (users.max() + 1, items.max() + 1)
    assert (ratings.n_users, ratings.n_items) == ratings.shape
    assert ratings.n_ratings == len(ratings) == 200


def test_from_arrays_keeps_an_explicit_larger_shape():
    ratings = Ratings.from_arrays([0, 1], [2, 0], [3.0, 4.0], shape=(10, np.int64(7)))

    assert ratings.shape == (10, 7)
    assert all(type(n) is int for n in ratings.shape)
    # Identity id maps span the whole shape, rated or not.
    np.testing.assert_array_equal(ratings.user_map.ids, np.arange(10))
    np.testing.assert_array_equal(ratings.item_map.ids, np.arange(7))


def test_from_arrays_keeps_zero_ratings():
    ratings = Ratings.from_arrays([0, 0, 1], [0, 1, 1], [0.0, 0, 3])

    assert ratings.n_ratings == 3
    np.testing.assert_array_equal(ratings.values, [0.0, 0.0, 3.0])


def test_from_arrays_empty_gives_an_empty_container():
    ratings = Ratings.from_arrays([], [], [])

    assert ratings.n_ratings == 0
    assert ratings.shape == (0, 0)


def test_from_arrays_mismatched_lengths_name_all_three():
    with pytest.raises(ValueError, match=r"users has 3, items has 2, values has 4"):
        Ratings.from_arrays([0, 1, 2], [0, 1], [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize(
    ("bad", "text"), [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")]
)
def test_from_arrays_non_finite_value_names_position_and_value(bad, text):
    values = [1.0, 2.0, 3.0, bad, 5.0]

    with pytest.raises(
        ValueError, match=rf"values must be finite; entry 3 is {text}\b"
    ):
        Ratings.from_arrays([0, 1, 2, 3, 4], [0, 0, 0, 0, 0], values)


def test_from_arrays_negative_index_names_array_entry_and_value():
    with pytest.raises(ValueError, match=r"items must be non-negative.*entry 2 is -4"):
        Ratings.from_arrays([0, 1, 2], [0, 1, -4], [1.0, 1.0, 1.0])


def test_from_arrays_index_beyond_shape_names_bound_entry_and_value():
    with pytest.raises(ValueError, match=r"users must be below 3 .*entry 1 is 5"):
        Ratings.from_arrays([0, 5, 1], [0, 1, 2], [1.0, 1.0, 1.0], shape=(3, 3))
    with pytest.raises(ValueError, match=r"items must be below 2 .*entry 2 is 2"):
        Ratings.from_arrays([0, 1, 1], [0, 1, 2], [1.0, 1.0, 1.0], shape=(3, 2))


@pytest.mark.parametrize("float_dtype", [np.float32, np.float64])
def test_from_arrays_float_indices_raise_type_error_naming_dtype(float_dtype):
    users = np.array([0.0, 1.0], dtype=float_dtype)

    with pytest.raises(
        TypeError, match=rf"users must hold integer.*{float_dtype.__name__}"
    ):
        Ratings.from_arrays(users, [0, 1], [1.0, 2.0])
    with pytest.raises(TypeError, match=r"items must hold integer.*from_raw_ids"):
        Ratings.from_arrays([0, 1], users, [1.0, 2.0])


def test_from_arrays_rejects_non_real_values_and_bad_shapes():
    with pytest.raises(TypeError, match=r"values must be real numbers.*complex"):
        Ratings.from_arrays([0], [0], [1 + 2j])
    with pytest.raises(ValueError, match=r"shape must be \(n_users, n_items\)"):
        Ratings.from_arrays([0], [0], [1.0], shape=(2.0, 2))
    with pytest.raises(ValueError, match=r"users must be one-dimensional.*\(1, 2\)"):
        Ratings.from_arrays([[0, 1]], [0, 1], [1.0, 1.0])


# -- from_raw_ids -------------------------------------------------------------------


def test_from_raw_ids_maps_arbitrary_integers_in_sorted_order():
    big = 2**40 + 7
    users = np.array([big, 0, -15, big, 3, 2**33], dtype=np.int64)
    items = np.array([10, 10, 99999999999, 10, -1, 0], dtype=np.int64)
    values = np.array([1.0, 0.0, 2.5, 4.0, 5.0, 3.0])

    ratings = Ratings.from_raw_ids(users, items, values)

    np.testing.assert_array_equal(ratings.user_map.ids, [-15, 0, 3, 2**33, big])
    np.testing.assert_array_equal(ratings.item_map.ids, [-1, 0, 10, 99999999999])
    np.testing.assert_array_equal(ratings.users, [4, 1, 0, 4, 2, 3])
    np.testing.assert_array_equal(ratings.items, [2, 2, 3, 2, 0, 1])
    assert ratings.users.dtype == ratings.items.dtype == np.int32
    assert ratings.shape == (5, 4)
    np.testing.assert_array_equal(ratings.values, values)


def test_from_raw_ids_round_trips_exactly(rng):
    # Non-contiguous ids spread over the full int64 range, 0 and negatives included.
    pool = np.concatenate(
        [
            [0, -1, 2**32, 2**32 + 1, 2**53 + 1, np.iinfo(np.int64).max],
            rng.integers(-(2**62), 2**62, 40),
        ]
    )
    users = rng.choice(pool, 500)
    items = rng.choice(pool[::-1], 500)
    values = rng.integers(0, 6, 500).astype(float)

    ratings = Ratings.from_raw_ids(users, items, values)

    np.testing.assert_array_equal(ratings.raw_users(), users)
    np.testing.assert_array_equal(ratings.raw_items(), items)
    assert ratings.raw_users().dtype == np.int64
    assert len(ratings.user_map) == len(set(users.tolist()))
    assert np.all(np.diff(ratings.user_map.ids) > 0)  # sorted and unique


def test_from_raw_ids_unsigned_ids_beyond_int64_round_trip():
    users = np.array([2**64 - 1, 2**63, 1], dtype=np.uint64)

    ratings = Ratings.from_raw_ids(users, [1, 2, 3], [1.0, 2.0, 3.0])

    np.testing.assert_array_equal(ratings.raw_users(), users)
    np.testing.assert_array_equal(ratings.users, [2, 1, 0])


def test_from_raw_ids_string_ids_round_trip():
    users = ["bob", "al", "christine", "bob", "al"]
    items = ["x", "longer item", "x", "y", "y"]
    values = [5.0, 0.0, 3.0, 1.0, 2.0]

    ratings = Ratings.from_raw_ids(users, items, values)

    assert ratings.user_map.ids.tolist() == ["al", "bob", "christine"]
    assert ratings.item_map.ids.tolist() == ["longer item", "x", "y"]
    assert ratings.raw_users().tolist() == users
    assert ratings.raw_items().tolist() == items
    assert ratings.values.tolist() == values


def test_from_raw_ids_object_arrays_of_strings_or_integers():
    strings = Ratings.from_raw_ids(np.array(["b", "a"], dtype=object), [1, 2], [1, 1])
    integers = Ratings.from_raw_ids(np.array([7, -3], dtype=object), [1, 2], [1, 1])

    assert strings.user_map.ids.tolist() == ["a", "b"]
    assert integers.user_map.ids.tolist() == [-3, 7]
    assert integers.user_map.ids.dtype.kind == "i"


def test_from_raw_ids_rejects_mixed_and_float_ids():
    with pytest.raises(TypeError, match=r"users mix ids of different types"):
        Ratings.from_raw_ids(np.array(["a", 1], dtype=object), [1, 2], [1.0, 1.0])
    with pytest.raises(TypeError, match=r"items are floating-point.*astype\(int\)"):
        Ratings.from_raw_ids([1, 2], [1.0, 2.0], [1.0, 1.0])


def test_from_raw_ids_validates_lengths_and_values():
    with pytest.raises(ValueError, match=r"users has 2, items has 3, values has 3"):
        Ratings.from_raw_ids(["a", "b"], ["x", "y", "z"], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"entry 1 is nan"):
        Ratings.from_raw_ids(["a", "b"], ["x", "y"], [1.0, np.nan])


def test_from_raw_ids_empty_lists_give_an_empty_container():
    ratings = Ratings.from_raw_ids([], [], [])

    assert ratings.n_ratings == 0 and ratings.shape == (0, 0)


# -- from_scipy ---------------------------------------------------------------------

# (row, col, value) with an explicit zero at (1, 0) and no duplicates.
_ENTRIES = [(0, 1, 3.0), (1, 0, 0.0), (2, 2, 5.0), (2, 3, 1.5), (0, 3, 2.0)]
_SHAPE = (4, 5)  # user 3 and item 4 have no rating


def _coo_parts():
    rows, cols, data = (np.array(column) for column in zip(*_ENTRIES, strict=True))
    return data, (rows, cols)


def _with_explicit_zero(kind):
    """A sparse matrix of kind ``kind`` holding _ENTRIES, the zero stored."""
    data, coords = _coo_parts()
    coo = sp.coo_matrix((data, coords), shape=_SHAPE)
    converted = {
        "coo_matrix": lambda: coo,
        "coo_array": lambda: sp.coo_array(coo),
        "csr_matrix": coo.tocsr,
        "csr_array": lambda: sp.csr_array(coo.tocsr()),
        "csc_matrix": coo.tocsc,
        "csc_array": lambda: sp.csc_array(coo.tocsc()),
    }[kind]()
    assert converted.nnz == len(_ENTRIES)  # scipy really stores the zero
    return converted


@pytest.mark.parametrize(
    "kind",
    ["coo_matrix", "coo_array", "csr_matrix", "csr_array", "csc_matrix", "csc_array"],
)
def test_from_scipy_keeps_stored_zeros_as_ratings(kind):
    matrix = _with_explicit_zero(kind)

    ratings = Ratings.from_scipy(matrix)

    assert ratings.shape == _SHAPE
    assert ratings.n_ratings == len(_ENTRIES)
    assert _triples(ratings) == sorted(_ENTRIES)


@pytest.mark.parametrize(
    "build", [sp.dok_matrix, sp.dok_array, sp.lil_matrix, sp.lil_array]
)
def test_from_scipy_dok_and_lil(build):
    matrix = build(_SHAPE)
    for row, col, value in _ENTRIES:
        if value != 0:  # assigning 0 to a DOK or LIL entry deletes it in scipy
            matrix[row, col] = value

    ratings = Ratings.from_scipy(matrix)

    assert ratings.shape == _SHAPE
    assert _triples(ratings) == sorted(e for e in _ENTRIES if e[2] != 0)


@pytest.mark.parametrize("build", [sp.coo_matrix, sp.coo_array])
def test_from_scipy_keeps_duplicate_coo_entries_unsummed(build):
    rows = np.array([0, 0, 1, 0])
    cols = np.array([1, 1, 2, 1])
    data = np.array([3.0, 4.0, 0.0, 1.0])
    matrix = build((data, (rows, cols)), shape=(2, 3))

    ratings = Ratings.from_scipy(matrix)

    assert ratings.n_ratings == 4
    assert _triples(ratings) == [(0, 1, 1.0), (0, 1, 3.0), (0, 1, 4.0), (1, 2, 0.0)]


def test_from_scipy_keeps_duplicates_of_a_non_canonical_csr():
    # Row 0 stores column 1 twice; scipy leaves it unsummed until asked.
    matrix = sp.csr_matrix(
        (np.array([2.0, 5.0, 1.0]), np.array([1, 1, 0]), np.array([0, 2, 3])),
        shape=(2, 2),
    )

    ratings = Ratings.from_scipy(matrix)

    assert _triples(ratings) == [(0, 1, 2.0), (0, 1, 5.0), (1, 0, 1.0)]


def test_from_scipy_integer_matrix_and_errors():
    ratings = Ratings.from_scipy(sp.csr_matrix(np.array([[0, 4], [2, 0]], np.int16)))
    assert _triples(ratings) == [(0, 1, 4.0), (1, 0, 2.0)]

    with pytest.raises(TypeError, match=r"scipy.sparse.*got ndarray"):
        Ratings.from_scipy(np.eye(2))
    with pytest.raises(ValueError, match=r"values must be finite; entry 1 is nan"):
        Ratings.from_scipy(sp.csr_matrix(np.array([[1.0, np.nan]])))


# -- from_dense ---------------------------------------------------------------------


def test_from_dense_default_missing_zero_drops_zeros():
    matrix = np.array([[0.0, 4.0, 0.0], [2.0, 0.0, 3.5]])

    ratings = Ratings.from_dense(matrix)

    assert ratings.shape == (2, 3)
    assert _triples(ratings) == [(0, 1, 4.0), (1, 0, 2.0), (1, 2, 3.5)]


def test_from_dense_missing_nan_keeps_zeros_as_ratings():
    matrix = np.array([[0.0, 4.0, np.nan], [np.nan, 0.0, 3.5]])

    ratings = Ratings.from_dense(matrix, missing=np.nan)

    assert ratings.shape == (2, 3)
    assert _triples(ratings) == [(0, 0, 0.0), (0, 1, 4.0), (1, 1, 0.0), (1, 2, 3.5)]


def test_from_dense_custom_marker_and_integer_matrix():
    matrix = np.array([[-1, 0, 5], [3, -1, -1]])

    ratings = Ratings.from_dense(matrix, missing=-1)

    assert _triples(ratings) == [(0, 1, 0.0), (0, 2, 5.0), (1, 0, 3.0)]
    # Without a NaN, missing=np.nan makes every entry of an integer matrix a rating.
    assert Ratings.from_dense(matrix, missing=np.nan).n_ratings == matrix.size


@pytest.mark.parametrize("missing", [0, np.nan])
def test_from_dense_inf_raises(missing):
    matrix = np.array([[1.0, 2.0], [np.inf, 3.0]])

    with pytest.raises(ValueError, match=r"must be finite; row 1, column 0 is inf"):
        Ratings.from_dense(matrix, missing=missing)


def test_from_dense_nan_is_not_missing_by_default():
    # With missing=0 a NaN is an entry, and entries must be finite.
    with pytest.raises(
        ValueError, match=r"finite; row 0, column 0 is nan.*pass missing=np.nan"
    ):
        Ratings.from_dense(np.array([[np.nan, 1.0]]))


def test_from_dense_needs_a_matrix():
    with pytest.raises(ValueError, match=r"2-D users × items matrix.*\(3,\)"):
        Ratings.from_dense(np.array([1.0, 2.0, 3.0]))


# -- take and compact ---------------------------------------------------------------


@pytest.fixture
def string_ratings():
    return Ratings.from_raw_ids(
        ["u3", "u1", "u2", "u1", "u3"],
        ["b", "a", "c", "c", "a"],
        [1.0, 2.0, 0.0, 4.0, 5.0],
    )


def test_take_by_positions_and_by_mask(string_ratings):
    by_position = string_ratings.take(np.array([4, 0]))
    by_mask = string_ratings.take(np.array([True, False, False, False, True]))

    assert by_position.raw_users().tolist() == ["u3", "u3"]
    assert by_position.raw_items().tolist() == ["a", "b"]
    assert by_position.values.tolist() == [5.0, 1.0]
    assert _triples(by_mask) == [("u3", "a", 5.0), ("u3", "b", 1.0)]
    for part in (by_position, by_mask):
        assert part.shape == string_ratings.shape
        assert part.user_map is string_ratings.user_map
        assert part.item_map is string_ratings.item_map


def test_compact_drops_unrated_users_and_items_and_keeps_raw_ids():
    # Users 1 and 4, item 0 have no rating; user 2's only rating is a 0.
    ratings = Ratings.from_arrays(
        [0, 2, 3, 3], [1, 3, 1, 2], [4.0, 0.0, 2.0, 1.0], shape=(5, 4)
    )

    compact = ratings.compact()

    assert compact.shape == (3, 3)
    np.testing.assert_array_equal(compact.user_map.ids, [0, 2, 3])
    np.testing.assert_array_equal(compact.item_map.ids, [1, 2, 3])
    np.testing.assert_array_equal(compact.users, [0, 1, 2, 2])
    np.testing.assert_array_equal(compact.items, [0, 2, 0, 1])
    assert compact.users.dtype == compact.items.dtype == np.int32
    np.testing.assert_array_equal(compact.raw_users(), ratings.raw_users())
    np.testing.assert_array_equal(compact.raw_items(), ratings.raw_items())
    np.testing.assert_array_equal(compact.values, ratings.values)


def test_compact_after_take_restricts_string_maps(string_ratings):
    part = string_ratings.take(np.array([1, 3]))  # only u1, on a and c

    compact = part.compact()

    assert compact.user_map.ids.tolist() == ["u1"]
    assert compact.item_map.ids.tolist() == ["a", "c"]
    assert _triples(compact) == [("u1", "a", 2.0), ("u1", "c", 4.0)]


def test_compact_returns_self_when_everything_is_rated(string_ratings):
    assert string_ratings.compact() is string_ratings


# -- IdMap --------------------------------------------------------------------------


def test_lookup_unknown_ids_give_minus_one_vectorised():
    ids = IdMap(np.array([-7, 0, 5, 2**40]))

    found = ids.lookup([5, 6, -7, 2**40, 2**41, -100, 0])

    assert found.dtype == np.int32
    np.testing.assert_array_equal(found, [2, -1, 0, 3, -1, -1, 1])


def test_lookup_scalar_and_empty_inputs():
    ids = IdMap(np.array(["a", "bb", "c"]))

    assert ids.lookup("bb") == 1 and np.ndim(ids.lookup("bb")) == 0
    assert ids.lookup("b") == -1  # a prefix of a known id is not that id
    assert ids.lookup(np.array([], dtype=str)).size == 0
    np.testing.assert_array_equal(
        IdMap(np.array([], np.int64)).lookup([1, 2]), [-1, -1]
    )


def test_lookup_string_ids_longer_than_any_known_id():
    ids = IdMap(np.array(["al", "bob"]))

    np.testing.assert_array_equal(
        ids.lookup(["christine", "bob", "al", "alberta"]), [-1, 1, 0, -1]
    )


def test_lookup_matches_a_python_dict(rng):
    known = np.unique(rng.integers(-1000, 1000, 300))
    ids = IdMap(known)
    queries = rng.integers(-1100, 1100, 2000)

    position = {int(raw): j for j, raw in enumerate(known)}
    expected = [position.get(int(q), -1) for q in queries]

    np.testing.assert_array_equal(ids.lookup(queries), expected)


def test_lookup_kind_mismatch_names_both_kinds():
    integer_ids = IdMap(np.array([1, 2, 3]))
    string_ids = IdMap(np.array(["a", "b"]))

    with pytest.raises(TypeError, match=r"users are strings.*trained on integer ids"):
        integer_ids.lookup(["1"], "users")
    with pytest.raises(TypeError, match=r"items are integers.*trained on string ids"):
        string_ids.lookup([1], "items")
    with pytest.raises(TypeError, match=r"floating-point numbers.*integers or strings"):
        integer_ids.lookup(np.array([1.0]))
    with pytest.raises(TypeError, match=r"items are bytes.*trained on string ids"):
        string_ids.lookup(np.array([b"a"]), "items")


def test_lookup_uint64_query_of_large_int64_ids():
    big = 2**53
    ids = IdMap(np.array([0, big, big + 1], dtype=np.int64))

    found = ids.lookup(np.array([big + 1, big], dtype=np.uint64))

    np.testing.assert_array_equal(found, [2, 1])


def test_idmap_equality_compares_kind_and_values():
    assert IdMap(np.array([1, 2])) == IdMap(np.array([1, 2], dtype=np.int32))
    assert IdMap(np.array([1, 2])) != IdMap(np.array([1, 3]))
    assert IdMap(np.array(["1", "2"])) != IdMap(np.array([1, 2]))
    assert len(IdMap.identity(4)) == 4


# -- memory and id-kind edge cases -----------------------------------------------------


def test_huge_indices_cost_memory_of_the_ratings_not_of_the_shape():
    # An identity map of 2**31 indices would need 16 GiB; none may be built.
    ratings = Ratings.from_arrays([0, 2**31 - 2], [0, 1], [5.0, 4.0])
    assert ratings.shape == (2**31 - 1, 2)
    compact = ratings.compact()
    assert compact.shape == (2, 2)
    np.testing.assert_array_equal(compact.raw_users(), [0, 2**31 - 2])
    assert ratings.user_map.lookup(2**31 - 2) == 2**31 - 2
    assert ratings.user_map.lookup(2**31 - 1) == -1


def test_mixed_id_types_in_a_list_are_refused_not_merged():
    with pytest.raises(TypeError, match=r"mix ids of different types \(int, str\)"):
        Ratings.from_raw_ids([1, "1"], [0, 0], [1.0, 2.0])


def test_ids_beyond_64_bits_ask_for_strings():
    with pytest.raises(ValueError, match=r"beyond 64 bits.*as strings"):
        Ratings.from_raw_ids([2**70, 1], [0, 0], [1.0, 2.0])
    ratings = Ratings.from_raw_ids([2**64 - 1, 2**63], [0, 0], [1.0, 2.0])
    assert ratings.user_map.ids.dtype == np.uint64
    np.testing.assert_array_equal(ratings.raw_users(), [2**64 - 1, 2**63])


def test_masked_entries_of_a_dense_matrix_are_holes():
    matrix = np.ma.masked_array([[0.0, 2.0], [3.0, 4.0]], mask=[[0, 1], [0, 0]])
    ratings = Ratings.from_dense(matrix, missing=np.nan)
    assert sorted(zip(ratings.users.tolist(), ratings.items.tolist(), strict=True)) == [
        (0, 0),
        (1, 0),
        (1, 1),
    ]
    assert 0.0 in ratings.values  # the unmasked zero is a rating


@pytest.mark.parametrize("bad", [3, (3,), (2, 2, 2), ("a", 2)])
def test_shape_must_be_a_pair_of_integers(bad):
    with pytest.raises(ValueError, match=r"shape must be \(n_users, n_items\)"):
        Ratings.from_arrays([0], [0], [1.0], shape=bad)

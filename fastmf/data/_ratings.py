"""The COO container every part of fastmf passes ratings in."""

import numpy as np

from .. import _validation as v


class IdMap:
    """Map between raw ids (any sortable NumPy dtype) and contiguous indices.

    Index ``j`` stands for raw id ``ids[j]``; ``ids`` is sorted and unique, so
    lookups are a vectorised binary search and memory grows with the number of
    distinct ids, never with the largest id. The identity map of ratings given as
    indices stores no array at all.

    Parameters
    ----------
    ids : array_like, shape (n,)
        Sorted, unique raw ids.
    """

    __slots__ = ("_ids", "_size")

    def __init__(self, ids):
        self._ids = np.asarray(ids)
        self._size = self._ids.size

    @classmethod
    def identity(cls, n):
        """The map of indices ``0 .. n-1`` onto themselves (no array is stored)."""
        id_map = cls.__new__(cls)
        id_map._ids = None
        id_map._size = int(n)
        return id_map

    @property
    def ids(self):
        """The raw id of every index, in index order."""
        if self._ids is None:
            return np.arange(self._size, dtype=np.int64)
        return self._ids

    @classmethod
    def encode(cls, raw, name):
        """Build the map of the distinct values of ``raw`` and encode ``raw``.

        Returns ``(id_map, indices)`` with ``indices`` int32, the same as
        ``np.unique(raw, return_inverse=True)``. Integer ids take an O(n) compiled
        path: a table over their range when it is at most about twice their
        number, else a hash table of the distinct ids, of which only those are
        sorted. Memory never grows with the largest id. Strings use ``np.unique``.
        """
        # A local import: the compiled kernels are loaded on first use.
        from ..kernels import _ids

        raw = _id_array(raw, name)
        if raw.dtype.kind not in "iu" or raw.size == 0:
            ids, indices = np.unique(raw, return_inverse=True)
            indices = indices.astype(np.int32).reshape(-1)
        else:
            # The kernel takes int64: uint64 ids with the top bit flipped sort in
            # the same order; narrower ids are widened.
            flip = np.uint64(2**63)
            if raw.dtype == np.uint64:
                keys = np.ascontiguousarray(raw ^ flip).view(np.int64)
            else:
                keys = np.ascontiguousarray(raw, dtype=np.int64)
            indices = np.empty(raw.size, dtype=np.int32)
            ids = _ids.integer_codes(keys, indices)
            if raw.dtype == np.uint64:
                ids = ids.view(np.uint64) ^ flip
            ids = ids.astype(raw.dtype, copy=False)
        if ids.size >= np.iinfo(np.int32).max:
            raise ValueError(f"{name} has {ids.size:,} distinct ids; at most 2**31-2.")
        return cls(ids), indices

    def __len__(self):
        return self._size

    def __eq__(self, other):
        if not isinstance(other, IdMap) or self._size != other._size:
            return False
        if self._ids is None or other._ids is None:
            return self._ids is None and other._ids is None
        return self._ids is other._ids or (
            self._ids.dtype.kind == other._ids.dtype.kind
            and np.array_equal(self._ids, other._ids)
        )

    __hash__ = None

    def take(self, positions):
        """The map restricted to the indices in ``positions`` (sorted)."""
        if self._ids is None:
            return IdMap(np.asarray(positions, dtype=np.int64))
        return IdMap(self._ids[positions])

    def raw(self, indices):
        """Raw ids of the given indices."""
        if self._ids is None:
            return np.asarray(indices, dtype=np.int64)
        return self._ids[indices]

    def lookup(self, raw, name="ids"):
        """Indices of the raw ids in ``raw`` (int32); -1 where an id is unknown.

        Raises TypeError when the ids are of another kind than the map's (a string
        where the map holds integers, or the reverse), which would otherwise look
        like an unknown id.
        """
        scalar = np.ndim(raw) == 0
        raw = _id_array(np.atleast_1d(raw) if scalar else raw, name)
        ids = self.ids if self._ids is not None else np.zeros(0, dtype=np.int64)
        self._check_kind(raw, name, ids)

        if self._ids is None:
            found = (raw >= 0) & (raw < self._size) if raw.dtype.kind in "iu" else False
            indices = np.where(found, raw, -1).astype(np.int32)
        else:
            raw, comparable = _comparable(raw, ids.dtype)
            position = np.searchsorted(ids, raw)
            position = np.minimum(position, max(ids.size - 1, 0))
            found = ids[position] == raw if ids.size else False
            indices = np.where(found & comparable, position, -1).astype(np.int32)
        return indices[0] if scalar else indices

    def _check_kind(self, raw, name, ids):
        if raw.size == 0 or self._size == 0:
            return
        stored = "integer" if self._ids is None else _id_kind(ids.dtype)
        given = _id_kind(raw.dtype)
        if stored != given:
            example = 0 if self._ids is None else ids[0]
            plural = {"integer": "integers", "string": "strings"}.get(given, given)
            raise TypeError(
                f"{name} are {plural} but the model was trained on {stored} ids "
                f"(for example {example!r}); pass {stored} ids."
            )


def _id_array(raw, name):
    """Ids as a 1-D array of integers or strings; anything else is an error."""
    if not isinstance(raw, np.ndarray):
        converted = np.asarray(raw)
        if converted.dtype.kind in "US":
            # A list like [1, "1"] would silently become two equal strings.
            converted = np.asarray(raw, dtype=object)
        raw = converted
    raw = v.as_1d(raw, name)
    if raw.dtype.kind == "O":
        raw = _object_ids_to_array(raw, name)
    if raw.size == 0:
        return raw.astype(np.int64)  # np.asarray([]) is float64
    if raw.dtype.kind == "b":
        raise TypeError(f"{name} are booleans; ids must be integers or strings.")
    if raw.dtype.kind == "f":
        raise TypeError(
            f"{name} are floating-point numbers ({raw.dtype}); ids must be integers "
            "or strings. Convert whole-number floats with .astype(int) first."
        )
    if raw.dtype.kind not in "iuUS":
        raise TypeError(f"{name} must be integers or strings; got dtype {raw.dtype}.")
    return raw


def _comparable(raw, dtype):
    """``raw`` converted to ``dtype`` exactly, and where that was possible.

    NumPy compares uint64 with int64 in float64, which merges ids above 2**53;
    converting first keeps every integer id exact.
    """
    if raw.dtype == dtype or dtype.kind not in "iu" or raw.dtype.kind not in "iu":
        return raw, True
    info = np.iinfo(dtype)
    if raw.dtype.kind == "u":
        fits = raw <= np.uint64(info.max)
    elif dtype.kind == "u":
        fits = raw >= 0
    else:
        fits = (raw >= info.min) & (raw <= info.max)
    return np.where(fits, raw, 0).astype(dtype), fits


def _id_kind(dtype):
    if dtype.kind in "iu":
        return "integer"
    if dtype.kind == "U":
        return "string"
    if dtype.kind == "S":
        return "bytes"
    if dtype.kind == "f":
        return "floating-point"
    return str(dtype)


def _object_ids_to_array(raw, name):
    """Turn an object array of ids into integers or strings (never both)."""
    if raw.size == 0:
        return np.zeros(0, dtype=np.int64)
    if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in raw):
        low, high = min(raw), max(raw)
        if low < -(2**63) or high >= 2**64 or (low < 0 and high >= 2**63):
            raise ValueError(
                f"{name} hold integers beyond 64 bits (from {low} to {high}); pass "
                "them as strings."
            )
        return raw.astype(np.uint64 if high >= 2**63 else np.int64)
    if all(isinstance(x, str) for x in raw):
        return raw.astype(str)
    if all(isinstance(x, bytes) for x in raw):
        return raw.astype(bytes)
    kinds = sorted({type(x).__name__ for x in raw})
    raise TypeError(
        f"{name} mix ids of different types ({', '.join(kinds)}); use all integers "
        "or all strings."
    )


class Ratings:
    """Explicit ratings in COO form: three parallel arrays plus the matrix shape.

    Build one with a constructor rather than directly: :meth:`from_arrays`
    (indices), :meth:`from_raw_ids` (arbitrary ids), :meth:`from_scipy`,
    :meth:`from_dense` or :func:`fastmf.data.read_ratings` (files). Every
    constructor validates its input; a rating of 0 is a rating.

    Attributes
    ----------
    users, items : ndarray of int32, shape (n,)
        Row and column index of each rating.
    values : ndarray of float64, shape (n,)
        The ratings.
    shape : tuple of int
        ``(n_users, n_items)``.
    user_map, item_map : IdMap
        Raw id of every index; the identity when the ratings were given as indices.
    timestamps : ndarray of int64, shape (n,), or None
        When each rating was made (seconds since the epoch), where the source has
        them; used by time-ordered splits.
    """

    __slots__ = (
        "item_map", "items", "shape", "timestamps", "user_map", "users", "values",
    )  # fmt: skip

    def __init__(
        self, users, items, values, shape, user_map=None, item_map=None, timestamps=None
    ):
        self.users = users
        self.items = items
        self.values = values
        self.shape = (int(shape[0]), int(shape[1]))
        self.user_map = user_map if user_map is not None else IdMap.identity(shape[0])
        self.item_map = item_map if item_map is not None else IdMap.identity(shape[1])
        self.timestamps = timestamps

    # -- constructors ---------------------------------------------------------------

    @classmethod
    def from_arrays(cls, users, items, values, shape=None):
        """Ratings from index arrays.

        Parameters
        ----------
        users, items : array_like of int, shape (n,)
            0-based row and column indices (any integer dtype).
        values : array_like of real, shape (n,)
            The ratings (any real dtype); must be finite.
        shape : (int, int), optional
            ``(n_users, n_items)``; by default one more than the largest index.
        """
        users = v.as_1d(users, "users")
        items = v.as_1d(items, "items")
        values = v.as_1d(values, "values")
        v.check_same_length(users=users, items=items, values=values)
        users = v.check_index_array(users, "users")
        items = v.check_index_array(items, "items")
        n_users, n_items = v.check_shape(shape, users, items)
        v.check_index_array(users, "users", n_users)
        v.check_index_array(items, "items", n_items)
        return cls(users, items, v.check_values(values), (n_users, n_items))

    @classmethod
    def from_raw_ids(cls, users, items, values):
        """Ratings from arbitrary user and item ids (integers or strings).

        Ids need not start at 0 or be contiguous; they are mapped to contiguous
        indices in sorted order and the map is kept, so models answer in raw ids.
        """
        users = _id_array(users, "users")
        items = _id_array(items, "items")
        values = v.as_1d(values, "values")
        v.check_same_length(users=users, items=items, values=values)
        values = v.check_values(values)
        user_map, user_index = IdMap.encode(users, "users")
        item_map, item_index = IdMap.encode(items, "items")
        shape = (len(user_map), len(item_map))
        return cls(user_index, item_index, values, shape, user_map, item_map)

    @classmethod
    def from_scipy(cls, matrix):
        """Ratings from any ``scipy.sparse`` matrix or array.

        Every *stored* entry is a rating, explicit zeros included; repeated
        entries of a COO matrix are kept as separate ratings, never summed.
        """
        # scipy.sparse is imported on first use: it costs about 0.1 s, a tenth of
        # a warm start, and training never needs it.
        import scipy.sparse as sp

        if not sp.issparse(matrix):
            raise TypeError(
                "from_scipy expects a scipy.sparse matrix; got "
                f"{type(matrix).__name__}."
            )
        coo = matrix.tocoo()
        return cls.from_arrays(coo.row, coo.col, coo.data, shape=matrix.shape)

    @classmethod
    def from_dense(cls, matrix, missing=0):
        """Ratings from a dense users × items matrix with a missing-value marker.

        Parameters
        ----------
        matrix : array_like, shape (n_users, n_items)
        missing : float, default 0
            Entries equal to this value are not ratings. The default follows the
            textbook convention that 0 means "not rated"; pass ``np.nan`` to keep
            zeros as ratings and mark holes with NaN. Masked entries of a
            ``numpy.ma`` array are holes too.
        """
        mask = np.ma.getmaskarray(matrix) if np.ma.isMaskedArray(matrix) else None
        matrix = np.asarray(np.ma.getdata(matrix))
        if matrix.ndim != 2:
            raise ValueError(
                f"from_dense expects a 2-D users × items matrix; got shape "
                f"{matrix.shape}."
            )
        if matrix.dtype.kind not in "iufb":
            raise TypeError(
                f"from_dense expects real numbers; got dtype {matrix.dtype}."
            )
        missing_is_nan = missing is None or (
            isinstance(missing, float | np.floating) and np.isnan(missing)
        )
        if not missing_is_nan:
            v.check_real(missing, "missing")
        observed = ~np.isnan(matrix) if missing_is_nan else matrix != missing
        if mask is not None:
            observed &= ~mask  # masked entries are holes too

        bad = observed & ~np.isfinite(matrix)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            hint = ""
            if np.isnan(matrix[row, col]):
                hint = " If NaN marks the holes, pass missing=np.nan."
            raise ValueError(
                f"ratings must be finite; row {row}, column {col} is "
                f"{matrix[row, col]}.{hint}"
            )
        users, items = np.nonzero(observed)
        return cls.from_arrays(users, items, matrix[observed], shape=matrix.shape)

    # -- views ----------------------------------------------------------------------

    @property
    def n_ratings(self):
        return self.values.size

    @property
    def n_users(self):
        return self.shape[0]

    @property
    def n_items(self):
        return self.shape[1]

    def __len__(self):
        return self.values.size

    def __repr__(self):
        return (
            f"Ratings(n_ratings={self.n_ratings:,}, n_users={self.n_users:,}, "
            f"n_items={self.n_items:,})"
        )

    def take(self, index):
        """The ratings at ``index`` (positions or a boolean mask), same id maps."""
        return Ratings(
            self.users[index],
            self.items[index],
            self.values[index],
            self.shape,
            self.user_map,
            self.item_map,
            None if self.timestamps is None else self.timestamps[index],
        )

    def compact(self):
        """These ratings without the users and items that have no rating.

        Indices are renumbered and the id maps restricted to the ids that occur;
        returns ``self`` when every user and item has a rating. Memory stays
        proportional to the ratings even when the shape is far larger.
        """
        users = _rated_indices(self.users, self.n_users)
        items = _rated_indices(self.items, self.n_items)
        if users is None and items is None:
            return self
        user_map, user_index = self.user_map, self.users
        item_map, item_index = self.item_map, self.items
        if users is not None:
            user_map, user_index = self.user_map.take(users[0]), users[1]
        if items is not None:
            item_map, item_index = self.item_map.take(items[0]), items[1]
        shape = (len(user_map), len(item_map))
        return Ratings(
            user_index, item_index, self.values, shape, user_map, item_map,
            self.timestamps,
        )  # fmt: skip

    def raw_users(self):
        """Raw user id of every rating."""
        return self.user_map.raw(self.users)

    def raw_items(self):
        """Raw item id of every rating."""
        return self.item_map.raw(self.items)

    def to_scipy(self):
        """The ratings as a ``scipy.sparse.coo_array``.

        Stored zeros and repeated pairs are kept as they are; converting the result
        to CSR would sum repeated pairs.
        """
        import scipy.sparse as sp

        return sp.coo_array((self.values, (self.users, self.items)), shape=self.shape)


def _rated_indices(indices, n):
    """``(kept, renumbered)`` for the indices that occur, or None when all do."""
    if n <= 4 * indices.size + 1024:
        if indices.dtype == np.int32 and indices.flags.c_contiguous:
            # A local import: the compiled kernels are loaded on first use.
            from ..kernels import _layout

            # Unlike np.bincount, no int64 copy of the indices.
            rated = _layout.count_rows(indices, n) > 0
        else:
            rated = np.bincount(indices, minlength=n) > 0
        if rated.all():
            return None
        # int32 from the start: the gather below then makes no int64 temporary.
        new_index = np.cumsum(rated, dtype=np.int32)
        new_index -= 1
        return np.flatnonzero(rated), new_index[indices]
    # Far more rows than ratings: work from the ratings, not from the shape.
    kept = np.unique(indices)
    return kept, np.searchsorted(kept, indices).astype(np.int32)

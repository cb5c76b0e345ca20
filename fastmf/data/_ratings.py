"""The COO container every part of fastmf passes ratings in."""

import numpy as np
import scipy.sparse as sp

from .. import _validation as v


class IdMap:
    """Map between raw ids (any sortable NumPy dtype) and contiguous indices.

    Index ``j`` stands for raw id ``ids[j]``; ``ids`` is sorted and unique, so
    lookups are a vectorised binary search and memory grows with the number of
    distinct ids, never with the largest id.

    Parameters
    ----------
    ids : array_like, shape (n,)
        Sorted, unique raw ids.
    """

    __slots__ = ("ids",)

    def __init__(self, ids):
        self.ids = np.asarray(ids)

    @classmethod
    def identity(cls, n):
        """The map of indices ``0 .. n-1`` onto themselves."""
        return cls(np.arange(n, dtype=np.int64))

    @classmethod
    def encode(cls, raw, name):
        """Build the map of the distinct values of ``raw`` and encode ``raw``.

        Returns ``(id_map, indices)`` with ``indices`` int32.
        """
        raw = v.as_1d(raw, name)
        if raw.dtype.kind == "O":
            raw = _object_ids_to_array(raw, name)
        if raw.size == 0:
            raw = raw.astype(np.int64)  # np.asarray([]) is float64
        if raw.dtype.kind == "b":
            raise TypeError(f"{name} are booleans; ids must be integers or strings.")
        if raw.dtype.kind == "f":
            raise TypeError(
                f"{name} are floating-point numbers ({raw.dtype}); ids must be "
                "integers or strings. Convert whole-number floats with "
                ".astype(int) first."
            )
        ids, indices = np.unique(raw, return_inverse=True)
        if ids.size >= np.iinfo(np.int32).max:
            raise ValueError(f"{name} has {ids.size:,} distinct ids; at most 2**31-2.")
        return cls(ids), indices.astype(np.int32).reshape(-1)

    def __len__(self):
        return self.ids.size

    def __eq__(self, other):
        return isinstance(other, IdMap) and (
            self.ids is other.ids
            or (
                self.ids.dtype.kind == other.ids.dtype.kind
                and np.array_equal(self.ids, other.ids)
            )
        )

    __hash__ = None

    def lookup(self, raw, name="ids"):
        """Indices of the raw ids in ``raw`` (int32); -1 where an id is unknown.

        Raises TypeError when the ids are of another kind than the map's (a string
        where the map holds integers, or the reverse), which would otherwise look
        like an unknown id.
        """
        raw = np.asarray(raw)
        scalar = raw.ndim == 0
        raw = raw.reshape(-1)
        if raw.dtype.kind == "O":
            raw = _object_ids_to_array(raw, name)
        self._check_kind(raw, name)
        raw, comparable = _comparable(raw, self.ids.dtype)

        position = np.searchsorted(self.ids, raw)
        position = np.minimum(position, max(self.ids.size - 1, 0))
        found = self.ids.size > 0
        if found:
            found = self.ids[position] == raw
        indices = np.where(found & comparable, position, -1).astype(np.int32)
        return indices[0] if scalar else indices

    def _check_kind(self, raw, name):
        if raw.size == 0 or self.ids.size == 0:
            return
        stored, given = _id_kind(self.ids.dtype), _id_kind(raw.dtype)
        if stored != given:
            raise TypeError(
                f"{name} are {given}s but the model was trained on {stored} ids "
                f"(for example {self.ids[0]!r}); pass {stored} ids."
            )


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
    if dtype.kind in "US":
        return "string"
    if dtype.kind == "f":
        return "floating-point"
    return str(dtype)


def _object_ids_to_array(raw, name):
    """Turn an object array of ids into integers or strings (never both)."""
    if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in raw):
        return raw.astype(np.int64)
    if all(isinstance(x, str) for x in raw):
        return raw.astype(str)
    raise TypeError(
        f"{name} mix ids of different types; use all integers or all strings."
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
    """

    __slots__ = ("item_map", "items", "shape", "user_map", "users", "values")

    def __init__(self, users, items, values, shape, user_map=None, item_map=None):
        self.users = users
        self.items = items
        self.values = values
        self.shape = (int(shape[0]), int(shape[1]))
        self.user_map = user_map if user_map is not None else IdMap.identity(shape[0])
        self.item_map = item_map if item_map is not None else IdMap.identity(shape[1])

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
        users = v.as_1d(users, "users")
        items = v.as_1d(items, "items")
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
            zeros as ratings and mark holes with NaN.
        """
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(
                f"from_dense expects a 2-D users × items matrix; got shape "
                f"{matrix.shape}."
            )
        if missing is None or np.isnan(missing):
            observed = ~np.isnan(matrix)
        else:
            observed = matrix != missing
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
        )

    def compact(self):
        """These ratings without the users and items that have no rating.

        Indices are renumbered and the id maps restricted to the ids that occur;
        returns ``self`` when every user and item has a rating.
        """
        user_rated = np.bincount(self.users, minlength=self.n_users) > 0
        item_rated = np.bincount(self.items, minlength=self.n_items) > 0
        if user_rated.all() and item_rated.all():
            return self
        users = _renumber(self.users, user_rated)
        items = _renumber(self.items, item_rated)
        return Ratings(
            users,
            items,
            self.values,
            (int(user_rated.sum()), int(item_rated.sum())),
            IdMap(self.user_map.ids[user_rated]),
            IdMap(self.item_map.ids[item_rated]),
        )

    def raw_users(self):
        """Raw user id of every rating."""
        return self.user_map.ids[self.users]

    def raw_items(self):
        """Raw item id of every rating."""
        return self.item_map.ids[self.items]

    def to_scipy(self):
        """The ratings as a ``scipy.sparse.coo_array``.

        Stored zeros and repeated pairs are kept as they are; converting the result
        to CSR would sum repeated pairs.
        """
        return sp.coo_array((self.values, (self.users, self.items)), shape=self.shape)


def _renumber(indices, kept):
    """New indices after dropping the indices where ``kept`` is False."""
    new_index = np.cumsum(kept, dtype=np.int64) - 1
    return new_index[indices].astype(np.int32)

"""Every input check of fastmf and its message, in one place.

A message names what is wrong, what was expected, what was received and, where
there is one, the way out. Checks run before any state changes.
"""

import numbers

import numpy as np

from .exceptions import NotFittedError


def _describe(value):
    """Short description of a value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_same_length(**arrays):
    """Raise ValueError naming every length when the arrays differ in length."""
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n:,}" for name, n in lengths.items())
        raise ValueError(
            f"{', '.join(lengths)} must have the same length (one entry per "
            f"rating); got {listed}."
        )


def as_1d(array, name):
    """View ``array`` as a 1-D NumPy array without copying when possible."""
    result = np.asarray(array)
    if result.ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional; got an array of shape {result.shape}."
        )
    return result


def check_nonempty(n_ratings, what="the data"):
    if n_ratings == 0:
        raise ValueError(
            f"There are no ratings to train on: {what} is empty. Check the file, the "
            "column selection or any filter applied before fitting."
        )


def check_index_array(array, name, bound=None):
    """Validate user or item indices: integers in ``[0, bound)``.

    Returns the indices as a C-contiguous int32 array (a copy only when the input
    is not already one).
    """
    if array.dtype.kind not in "iu" and not (
        array.size == 0 and array.dtype.kind == "f"
    ):
        raise TypeError(
            f"{name} must hold integer indices; got dtype {array.dtype}. To use "
            "arbitrary ids (strings, sparse integers), call "
            "Ratings.from_raw_ids(users, items, values)."
        )
    if array.size == 0:
        return np.zeros(0, dtype=np.int32)

    lowest = array.min()
    if lowest < 0:
        position = int(np.argmax(array < 0))
        raise ValueError(
            f"{name} must be non-negative indices; entry {position} is {lowest}. "
            "For arbitrary ids use Ratings.from_raw_ids(users, items, values)."
        )
    highest = int(array.max())
    if bound is not None and highest >= bound:
        position = int(np.argmax(array >= bound))
        raise ValueError(
            f"{name} must be below {bound:,} (the matrix shape); entry {position} is "
            f"{array[position]}."
        )
    if highest >= np.iinfo(np.int32).max:
        raise ValueError(
            f"{name} holds index {highest:,}, beyond the int32 range fastmf uses for "
            "indices. Map sparse ids with Ratings.from_raw_ids(users, items, values)."
        )
    return np.ascontiguousarray(array, dtype=np.int32)


def check_values(array, name="values", remedy="Drop or impute missing ratings."):
    """Validate ratings: real, finite numbers. Returns a float64 array."""
    if array.dtype.kind not in "iufb":
        raise TypeError(f"{name} must be real numbers; got dtype {array.dtype}.")
    result = np.asarray(array, dtype=np.float64)
    finite = np.isfinite(result)
    if not finite.all():
        position = int(np.argmin(finite))
        raise ValueError(
            f"{name} must be finite; entry {position} is {result[position]}. {remedy}"
        )
    return result


def check_shape(shape, users, items):
    """Validate a (n_users, n_items) shape against the largest indices."""
    if shape is None:
        return (
            int(users.max()) + 1 if users.size else 0,
            int(items.max()) + 1 if items.size else 0,
        )
    if (
        not isinstance(shape, tuple | list)
        or len(shape) != 2
        or not all(isinstance(n, numbers.Integral) for n in shape)
    ):
        raise ValueError(f"shape must be (n_users, n_items); got {_describe(shape)}.")
    n_users, n_items = int(shape[0]), int(shape[1])
    if n_users < 0 or n_items < 0:
        raise ValueError(f"shape must be non-negative; got {shape}.")
    return n_users, n_items


# -- model parameters ---------------------------------------------------------------


def check_int(value, name, low, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {_describe(value)}.")
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be {bounds}; got {value}.")
    return int(value)


def check_real(value, name, low=None, strictly_positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {_describe(value)}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    if strictly_positive and value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}.")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}; got {value}.")
    return value


def check_bool(value, name):
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; got {_describe(value)}.")
    return bool(value)


def check_choice(value, name, choices):
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}; got {_describe(value)}.")
    return value


def check_dtype(value):
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(
            f"dtype must be 'float32' or 'float64'; got {_describe(value)}."
        )
    return dtype


def check_n_threads(value):
    """None or -1 mean every thread Numba may use; otherwise 1..NUMBA_NUM_THREADS."""
    import numba

    most = numba.config.NUMBA_NUM_THREADS
    if value is None or (isinstance(value, numbers.Integral) and value == -1):
        return most
    if isinstance(value, numbers.Integral) and not 1 <= value <= most:
        raise ValueError(
            f"n_threads must be between 1 and {most} (NUMBA_NUM_THREADS), or -1 for "
            f"all of them; got {value}."
        )
    return check_int(value, "n_threads", 1, most)


def check_random_state(value):
    """Seed for ``np.random.default_rng``: None, an int >= 0 or a Generator."""
    if value is None or isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(
            "random_state must be None, a non-negative integer or a "
            f"numpy.random.Generator; got {_describe(value)}."
        )
    return int(value)


def check_fitted(model, attribute="user_factors_"):
    if not hasattr(model, attribute):
        raise NotFittedError(
            f"This {type(model).__name__} is not fitted yet; call fit(ratings) first."
        )

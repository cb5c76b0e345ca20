"""Error metrics over rating predictions, computed over all rows at once."""

import numpy as np

from . import _validation as v
from .kernels import error_sum


def _checked_pair(y_true, y_pred):
    y_true = v.as_1d(y_true, "y_true")
    y_pred = v.as_1d(y_pred, "y_pred")
    v.check_same_length(y_true=y_true, y_pred=y_pred)
    if y_true.size == 0:
        raise ValueError(
            "y_true and y_pred are empty; an error needs at least one row."
        )
    y_true = v.check_values(y_true, "y_true", remedy="")
    y_pred = v.check_values(
        y_pred, "y_pred", remedy="A model that predicts NaN has diverged."
    )
    return np.ascontiguousarray(y_true), np.ascontiguousarray(y_pred)


def rmse(y_true, y_pred):
    """Root-mean-square error: ``sqrt(mean((y_true - y_pred) ** 2))`` over all rows.

    The square root is taken once, of the mean over every row, never per batch or
    per user, and the result does not depend on the number of threads.

    Raises
    ------
    ValueError
        On empty input, different lengths, or a non-finite value (a NaN
        prediction is an error, never a silently dropped row).

    Examples
    --------
    >>> rmse([1, 2, 3, 4], [2, 2, 3, 6])
    1.118033988749895
    """
    y_true, y_pred = _checked_pair(y_true, y_pred)
    return float(np.sqrt(error_sum(y_true, y_pred, True) / y_true.size))


def mae(y_true, y_pred):
    """Mean absolute error over all rows; same checks as :func:`rmse`.

    Examples
    --------
    >>> mae([1, 2, 3, 4], [2, 2, 3, 6])
    0.75
    """
    y_true, y_pred = _checked_pair(y_true, y_pred)
    return float(error_sum(y_true, y_pred, False) / y_true.size)

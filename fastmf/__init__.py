"""fastmf: Numba-compiled SGD matrix factorization for explicit ratings.

>>> from fastmf import MatrixFactorization, read_ratings
"""

from .data import (
    Ratings,
    kfold,
    per_user_split,
    read_ratings,
    split_report,
    synthetic_ratings,
    time_split,
    train_test_split,
)
from .exceptions import DivergenceError, NotFittedError, RatingsFileError
from .metrics import mae, rmse
from .model import MatrixFactorization

__version__ = "0.1.0"

__all__ = [
    "DivergenceError",
    "MatrixFactorization",
    "NotFittedError",
    "Ratings",
    "RatingsFileError",
    "kfold",
    "mae",
    "per_user_split",
    "read_ratings",
    "rmse",
    "split_report",
    "synthetic_ratings",
    "time_split",
    "train_test_split",
]

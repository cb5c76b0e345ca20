"""fastmf: Numba-compiled SGD matrix factorization for explicit ratings.

>>> from fastmf import MatrixFactorization, read_ratings
"""

from .data import Ratings, read_ratings, synthetic_ratings, train_test_split
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
    "mae",
    "read_ratings",
    "rmse",
    "synthetic_ratings",
    "train_test_split",
]

"""Turning what users have (files, sparse matrices, arrays) into ``Ratings``."""

from ._duplicates import resolve_duplicates
from ._ratings import IdMap, Ratings
from ._readers import PRESETS, read_ratings
from ._split import train_test_split
from ._synthetic import synthetic_ratings

__all__ = [
    "PRESETS",
    "IdMap",
    "Ratings",
    "read_ratings",
    "resolve_duplicates",
    "synthetic_ratings",
    "train_test_split",
]

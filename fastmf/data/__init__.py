"""Turning what users have (files, sparse matrices, arrays) into ``Ratings``."""

from ._datasets import dataset_path, list_datasets, load_movielens
from ._duplicates import resolve_duplicates
from ._frames import from_arrow, from_pandas, from_polars, read_parquet
from ._libmf import write_libmf
from ._ratings import IdMap, Ratings
from ._readers import PRESETS, read_ratings
from ._split import kfold, per_user_split, split_report, time_split, train_test_split
from ._synthetic import synthetic_ratings

__all__ = [
    "PRESETS",
    "IdMap",
    "Ratings",
    "dataset_path",
    "from_arrow",
    "from_pandas",
    "from_polars",
    "kfold",
    "list_datasets",
    "load_movielens",
    "per_user_split",
    "read_parquet",
    "read_ratings",
    "resolve_duplicates",
    "split_report",
    "synthetic_ratings",
    "time_split",
    "train_test_split",
    "write_libmf",
]

"""MovieLens rating sets by name: ``fastmf.datasets.load_movielens("ml-100k")``.

The implementation lives in :mod:`fastmf.data._datasets`; this module gives it
the short public name. See docs/datasets.md.
"""

from .data._datasets import (
    MOVIELENS,
    DownloadError,
    MovieLensArchive,
    dataset_path,
    list_datasets,
    load_movielens,
)

__all__ = [
    "MOVIELENS",
    "DownloadError",
    "MovieLensArchive",
    "dataset_path",
    "list_datasets",
    "load_movielens",
]

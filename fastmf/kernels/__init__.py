"""Compiled kernels: arrays and scalars in, arrays or scalars out.

This is fastmf's embeddable surface. Each kernel documents the shapes, dtypes and
contiguity it expects and which arguments it updates in place. Kernels are compiled
for explicit signatures when this package is first imported (and cached on disk),
so a call with the wrong dtype fails loudly instead of silently compiling a slower
variant.
"""

from ._parse import parse_delimited
from ._predict import error_sum, predict_pairs, squared_error_sum
from ._prefetch import prefetch_row
from ._random import random_below, shuffle_inplace, shuffle_ratings, splitmix64_next
from ._sgd import sgd_epoch, sgd_epoch_hogwild, sgd_update

__all__ = [
    "error_sum",
    "parse_delimited",
    "predict_pairs",
    "prefetch_row",
    "random_below",
    "sgd_epoch",
    "sgd_epoch_hogwild",
    "sgd_update",
    "shuffle_inplace",
    "shuffle_ratings",
    "splitmix64_next",
    "squared_error_sum",
]

"""Compiled kernels: arrays and scalars in, arrays or scalars out.

This is fastmf's embeddable surface. Each kernel documents the shapes, dtypes and
contiguity it expects and which arguments it updates in place. Kernels are compiled
for explicit signatures when this package is first imported (and cached on disk),
so a call with the wrong dtype fails loudly instead of silently compiling a slower
variant.
"""

import time as _time

_started = _time.perf_counter()

from ._blocked import (  # noqa: E402
    move_rows,
    order_blocks_by_user,
    renumber,
    sgd_epoch_blocked,
    sgd_epoch_blocked_adagrad,
    window_order,
)
from ._layout import (  # noqa: E402, F401
    count_repeated_pairs,
    count_rows,
    group_by_row,
    order_by_block,
    order_by_block_and_user,
)
from ._parse import parse_delimited  # noqa: E402
from ._predict import all_finite, error_sum, predict_pairs, squared_error_sum  # noqa: E402
from ._prefetch import prefetch_row  # noqa: E402
from ._probe import gather_rows  # noqa: E402
from ._random import (  # noqa: E402
    random_below,
    shuffle_inplace,
    shuffle_ratings,
    shuffle_ratings_chunks,
    splitmix64_next,
)
from ._sgd import (  # noqa: E402
    FREEZE_ITEMS,
    FREEZE_NONE,
    FREEZE_USERS,
    adagrad_update,
    sgd_epoch,
    sgd_epoch_adagrad,
    sgd_epoch_hogwild,
    sgd_epoch_hogwild_adagrad,
    sgd_update,
)
from ._topn import recommend_top_n, similar_top_n  # noqa: E402

#: Seconds it took to compile (or load from the on-disk cache) every kernel.
LOAD_SECONDS = _time.perf_counter() - _started

__all__ = [
    "FREEZE_ITEMS",
    "FREEZE_NONE",
    "FREEZE_USERS",
    "adagrad_update",
    "all_finite",
    "error_sum",
    "gather_rows",
    "move_rows",
    "order_blocks_by_user",
    "parse_delimited",
    "predict_pairs",
    "prefetch_row",
    "random_below",
    "recommend_top_n",
    "renumber",
    "sgd_epoch",
    "sgd_epoch_adagrad",
    "sgd_epoch_blocked",
    "sgd_epoch_blocked_adagrad",
    "sgd_epoch_hogwild",
    "sgd_epoch_hogwild_adagrad",
    "sgd_update",
    "shuffle_inplace",
    "shuffle_ratings",
    "shuffle_ratings_chunks",
    "similar_top_n",
    "splitmix64_next",
    "squared_error_sum",
    "window_order",
]

"""Compiled kernels: arrays and scalars in, arrays or scalars out.

This is fastmf's embeddable surface. Each kernel documents the shapes, dtypes and
contiguity it expects and which arguments it updates in place. Kernels are compiled
for explicit signatures when this package is first imported (and cached on disk),
so a call with the wrong dtype fails loudly instead of silently compiling a slower
variant.
"""

import contextlib as _contextlib
import logging as _logging
import threading as _threading
import time as _time

from .._config import CACHE as _CACHE

#: Seconds the import may take before it says that it is compiling: loading
#: every kernel from the cache takes well under one.
_COMPILE_NOTICE_SECONDS = 3.0


@_contextlib.contextmanager
def _notice_if_slow(seconds, message):
    """Log ``message`` (a warning of the "fastmf" logger) if the block is still
    running after ``seconds``: the first import compiles for about a minute,
    and a command that prints nothing meanwhile looks hung."""
    timer = _threading.Timer(seconds, _logging.getLogger("fastmf").warning, [message])
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


_started = _time.perf_counter()

with _notice_if_slow(
    _COMPILE_NOTICE_SECONDS,
    "fastmf: compiling its kernels for this machine (about a minute; "
    + (
        "once: later imports load them from Numba's on-disk cache)"
        if _CACHE
        else "at every import, as there is no writable cache folder)"
    ),
):
    from ._blocked import (
        move_rows,
        order_blocks_by_user,
        renumber,
        sgd_epoch_blocked,
        sgd_epoch_blocked_adagrad,
        window_order,
    )
    from ._layout import (  # noqa: F401
        count_repeated_pairs,
        count_rows,
        group_by_row,
        order_by_block,
        order_by_block_and_user,
    )
    from ._parse import parse_delimited
    from ._predict import all_finite, error_sum, predict_pairs, squared_error_sum
    from ._prefetch import prefetch_row
    from ._probe import gather_rows
    from ._random import (
        random_below,
        shuffle_inplace,
        shuffle_ratings,
        shuffle_ratings_chunks,
        splitmix64_next,
    )
    from ._sgd import (
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
    from ._topn import recommend_top_n, similar_top_n

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

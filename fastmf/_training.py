"""The epoch loop behind ``MatrixFactorization.fit``, ``partial_fit`` and ``fold_in``.

The estimator validates and keeps the public attributes; this module owns the
training state (factors, biases, shuffle generator, history), grows it for new
users and items, and runs epochs: shuffle, one kernel pass, the RMSE passes,
callbacks, early stopping and a clean stop on Ctrl-C.
"""

import logging
import math
import signal
import threading
import time
import warnings

import numpy as np

from . import _validation as v
from . import kernels
from ._config import PREFETCH_MIN_BYTES
from ._threads import parallel_section
from .data import IdMap
from .exceptions import DivergenceError

logger = logging.getLogger("fastmf")

HISTORY_KEYS = ("epoch", "train_rmse", "seconds", "sgd_seconds", "ratings_per_second")


def initial_state(random_state, n_users, n_items, n_factors, init_std, dtype):
    """Initial factors and shuffle state, all drawn from one seeded generator.

    Returns ``(P, Q, shuffle_state)``; the same arguments give the same arrays, so
    benchmarks and tests can start the reference from exactly where ``fit`` starts.
    """
    rng = np.random.default_rng(random_state)
    P = normal_rows(rng, init_std, n_users, n_factors, dtype)
    Q = normal_rows(rng, init_std, n_items, n_factors, dtype)
    shuffle_state = np.array([rng.integers(0, 2**63)], dtype=np.uint64)
    return P, Q, shuffle_state


def normal_rows(rng, std, n_rows, n_columns, dtype, block=1 << 20):
    """N(0, std²) draws in ``dtype``, made in float64 blocks of rows.

    The same stream as one float64 draw of the whole matrix cast to ``dtype``
    (so float32 and float64 models start from the same factors), without a
    full-size float64 temporary.
    """
    out = np.empty((n_rows, n_columns), dtype=dtype)
    rows = max(1, block // max(n_columns, 1))
    for start in range(0, n_rows, rows):
        stop = min(start + rows, n_rows)
        out[start:stop] = rng.normal(0.0, std, (stop - start, n_columns))
    return out


def use_prefetch(P, Q, method):
    """Whether the SGD kernels should prefetch factor rows (see ``fastmf.kernels``).

    Hogwild always does: the threads evict each other's rows even on small data.
    """
    return method == "hogwild" or P.nbytes + Q.nbytes > PREFETCH_MIN_BYTES


class TrainingState:
    """Everything training needs to continue where it stopped.

    Attributes
    ----------
    P, Q, bu, bi : ndarray
        Factors and biases, in the model dtype.
    mu : float
        Global mean (0 for an unbiased model); fixed after the first fit.
    user_ids, item_ids : ndarray
        Raw id of every row of ``P`` and ``Q`` (sorted, unique).
    shuffle_state, first_shuffle_state : uint64 arrays of shape (1,)
        The shuffle generator now, and as it was before the first epoch.
    history : dict of lists
        One entry per epoch run so far.
    Gu, Gi : ndarray or None
        AdaGrad's per-row sums of mean squared gradients (None until a fit with
        ``adagrad=True``).
    """

    def __init__(self, P, Q, bu, bi, mu, user_ids, item_ids, shuffle_state, history):
        self.P, self.Q, self.bu, self.bi = P, Q, bu, bi
        self.mu = mu
        self.user_ids, self.item_ids = user_ids, item_ids
        self.shuffle_state = shuffle_state
        self.first_shuffle_state = shuffle_state.copy()
        self.history = history
        self.best_epoch = None
        self.Gu = self.Gi = None

    @classmethod
    def fresh(cls, train, params):
        """A new state for ``train`` (compacted ratings) from ``random_state``."""
        dtype = params["dtype"]
        P, Q, shuffle_state = initial_state(
            params["random_state"], train.n_users, train.n_items,
            params["n_factors"], params["init_std"], dtype,
        )  # fmt: skip
        mu = float(train.values.mean()) if params["biased"] else 0.0
        return cls(
            P, Q, np.zeros(train.n_users, dtype), np.zeros(train.n_items, dtype), mu,
            train.user_map.ids, train.item_map.ids, shuffle_state,
            {key: [] for key in HISTORY_KEYS},
        )  # fmt: skip

    @property
    def epochs_done(self):
        return len(self.history["epoch"])

    def grow(self, user_ids, item_ids, init_std):
        """Add rows for the raw ids not seen yet; returns the old-to-new row maps.

        New rows get N(0, init_std²) factors from a generator seeded by the
        shuffle state and zero biases; existing rows keep their values.
        """
        rng = np.random.default_rng(int(self.shuffle_state[0]))
        self.user_ids, self.P, self.bu, user_rows = _grown(
            self.user_ids, user_ids, self.P, self.bu, rng, init_std
        )
        self.item_ids, self.Q, self.bi, item_rows = _grown(
            self.item_ids, item_ids, self.Q, self.bi, rng, init_std
        )
        if self.Gu is not None:  # new rows start their AdaGrad sums at 1
            self.Gu = _grown_sums(self.Gu, user_rows, self.P.shape[0])
            self.Gi = _grown_sums(self.Gi, item_rows, self.Q.shape[0])
        return user_rows, item_rows

    def start_adagrad(self):
        """AdaGrad sums of 1 for every row, unless training already keeps them."""
        if self.Gu is None:
            self.Gu = np.ones(self.P.shape[0], dtype=self.P.dtype)
            self.Gi = np.ones(self.Q.shape[0], dtype=self.Q.dtype)


def _grown_sums(sums, old_rows, n_rows):
    grown = np.ones(n_rows, dtype=sums.dtype)
    grown[old_rows] = sums
    return grown


def _grown(ids, wanted, factors, bias, rng, init_std):
    """``ids`` with ``wanted`` added, the factor rows and biases to match."""
    IdMap(ids).lookup(wanted[:1], "ids")  # a mismatch of id kinds raises here
    union = np.union1d(ids, wanted)
    old_rows = np.searchsorted(union, ids)
    if union.size == ids.size:
        return ids, factors, bias, old_rows
    grown = normal_rows(rng, init_std, union.size, factors.shape[1], factors.dtype)
    grown[old_rows] = factors
    grown_bias = np.zeros(union.size, dtype=bias.dtype)
    grown_bias[old_rows] = bias
    return union, grown, grown_bias, old_rows


def run_epochs(state, arrays, valid, params, n_epochs, *, callbacks=(), progress=None,
               frozen=kernels.FREEZE_NONE, replay=False):  # fmt: skip
    """Train ``n_epochs`` more epochs in place on ``state``.

    Parameters
    ----------
    state : TrainingState
    arrays : (users, items, values)
        The ratings as row indices of ``state`` and values in the model dtype;
        private to this call (they are shuffled in place).
    valid : (users, items, values) or None
        Validation ratings as row indices (-1 when unknown).
    params : dict
        Validated model parameters.
    callbacks : sequence of callables
        ``callback(row)`` after every epoch; returning True stops training.
    frozen : int
        ``kernels.FREEZE_*``: the side that must not move (fold-in).
    replay : bool
        Replay the shuffles of the epochs already done first, so that continuing
        on the same ratings visits them in the order one longer fit would have.

    Returns
    -------
    str
        Why training stopped: "done", "callback" or "early stopping".

    Raises
    ------
    DivergenceError
        When an epoch produces a non-finite value.
    KeyboardInterrupt
        After recording the epochs that completed; ``state`` holds the last one.
    """
    if params["adagrad"]:
        state.start_adagrad()
    with _InterruptAtEpochEnd() as interrupt:
        renumbering = None
        if params["method"] == "blocked":
            renumbering = _Renumbering(state)
            valid = renumbering.apply(state, arrays, valid)
            params = _blocked_layout(state, arrays, params)
            params["epoch_seed"] = np.zeros(1, dtype=np.uint64)
        try:
            return _epochs(state, arrays, valid, params, n_epochs, callbacks,
                           progress, frozen, replay, interrupt)  # fmt: skip
        finally:
            if renumbering is not None:
                renumbering.undo(state)


class _InterruptAtEpochEnd:
    """Turn Ctrl-C during training into a stop after the current epoch.

    A SIGINT that arrives while a compiled pass runs would otherwise raise
    KeyboardInterrupt at whatever Python line comes next: after the pass but
    before its epoch is recorded, or while the blocked method's rows are being
    moved back. While training runs in the main thread, SIGINT only sets
    ``requested``; the epoch loop raises KeyboardInterrupt once the epoch is
    recorded and reported, and the previous handler comes back afterwards.
    Elsewhere (a fit in a worker thread, where Python delivers no signals, or a
    process that ignores SIGINT) nothing changes.
    """

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            handler = signal.getsignal(signal.SIGINT)
            if handler is signal.default_int_handler:
                self.previous = handler
                signal.signal(signal.SIGINT, self._request)
        return self

    def _request(self, signum, frame):
        self.requested = True

    def __exit__(self, *exc_info):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


def _epochs(state, arrays, valid, params, n_epochs, callbacks, progress, frozen,
            replay, interrupt):  # fmt: skip
    users, items, values = arrays
    real = params["dtype"].type
    scalars = (real(params["lr"]), real(params["reg"]))
    flags = (params["biased"], use_prefetch(state.P, state.Q, params["method"]), frozen)
    if valid is not None and "validation_rmse" not in state.history:
        state.history["validation_rmse"] = [math.nan] * state.epochs_done
    if replay and params["shuffle"]:
        replayed = state.first_shuffle_state.copy()
        for epoch in range(1, state.epochs_done + 1):
            _shuffle(users, items, values, replayed, epoch, params)
    stopper = _EarlyStopping(params["patience"], state) if valid is not None else None

    threads = 1 if params["method"] == "serial" else params["n_threads"]
    first = state.epochs_done + 1
    with parallel_section(threads):
        for epoch in range(first, first + n_epochs):
            passed = None
            try:
                start = time.perf_counter()
                if params["shuffle"]:
                    _shuffle(users, items, values, state.shuffle_state, epoch, params)
                sgd_start = time.perf_counter()
                sse = _sgd_pass(state, users, items, values, scalars, flags, params)
                passed = (start, sgd_start, time.perf_counter(), sse)
                row = _record(state, epoch, arrays, valid, passed, params)
            except KeyboardInterrupt:
                if passed is not None:  # the pass finished: keep and record it
                    _record(state, epoch, arrays, valid, passed, params)
                _interrupted(stopper, state)
                raise
            if progress is not None:
                progress(row)
            if interrupt.requested:  # Ctrl-C during this epoch: it is complete
                _interrupted(stopper, state)
                raise KeyboardInterrupt
            if any(callback(row) is True for callback in callbacks):
                _restore_best(stopper, state)
                return "callback"
            if stopper is not None and stopper.should_stop(row, state):
                _restore_best(stopper, state)
                return "early stopping"
    _restore_best(stopper, state)
    return "done"


class _Renumbering:
    """Rows renumbered so that every group of the blocked method is contiguous.

    The blocked method deals users and items into ``B`` groups each by a seeded
    random permutation, so popular ids spread over the groups. Training on rows
    renumbered by that permutation makes each group a contiguous range of rows:
    two threads then never write to the same cache line (a block's biases and
    factor rows would otherwise share lines with another group's), and a block
    walks its users' rows in memory order. ``undo`` puts every row back.
    """

    def __init__(self, state):
        rng = np.random.default_rng(int(state.first_shuffle_state[0]))
        self.user_new = rng.permutation(state.P.shape[0]).astype(np.int32)
        self.item_new = rng.permutation(state.Q.shape[0]).astype(np.int32)

    def apply(self, state, arrays, valid):
        """Renumber the state's rows and the (private) rating arrays in place;
        returns the validation arrays renumbered (new arrays)."""
        users, items, _ = arrays
        kernels.renumber(users, self.user_new)
        kernels.renumber(items, self.item_new)
        self._move(state, _moved)
        if valid is None:
            return None
        u, i, r = valid[0].copy(), valid[1].copy(), valid[2]
        kernels.renumber(u, self.user_new)
        kernels.renumber(i, self.item_new)
        return u, i, r

    def undo(self, state):
        self._move(state, _returned)

    def _move(self, state, how):
        state.P = how(state.P, self.user_new)
        state.bu = how(state.bu, self.user_new)
        state.Q = how(state.Q, self.item_new)
        state.bi = how(state.bi, self.item_new)
        if state.Gu is not None:
            state.Gu = how(state.Gu, self.user_new)
            state.Gi = how(state.Gi, self.item_new)


def _moved(rows, new):
    """``rows`` with row ``r`` moved to ``new[r]``, in place (no copy of the
    factors: fit's peak memory counts)."""
    kernels.move_rows(rows.reshape(rows.shape[0], -1), new)
    return rows


def _returned(rows, new):
    """The inverse move of ``_moved``, in place."""
    back = np.empty_like(new)
    back[new] = np.arange(new.size, dtype=new.dtype)
    kernels.move_rows(rows.reshape(rows.shape[0], -1), back)
    return rows


#: The epoch kernel of each method, plain and with AdaGrad rates.
_KERNELS = {
    ("serial", False): kernels.sgd_epoch,
    ("serial", True): kernels.sgd_epoch_adagrad,
    ("hogwild", False): kernels.sgd_epoch_hogwild,
    ("hogwild", True): kernels.sgd_epoch_hogwild_adagrad,
    ("blocked", False): kernels.sgd_epoch_blocked,
    ("blocked", True): kernels.sgd_epoch_blocked_adagrad,
}


def _sgd_pass(state, users, items, values, scalars, flags, params):
    model = (params["dtype"].type(state.mu), state.P, state.Q, state.bu, state.bi)
    if params["adagrad"]:
        model += (state.Gu, state.Gi)
    kernel = _KERNELS[params["method"], params["adagrad"]]
    if params["method"] == "serial":
        return kernel(users, items, values, *model, *scalars, *flags)
    if params["method"] == "hogwild":
        return kernel(
            users, items, values, *model, *scalars, *flags, params["n_threads"]
        )
    block_ptr, n_blocks = params["layout"]
    # The diagonals' order and the window orders change every epoch with the
    # shuffle generator (and stay put without shuffling); they depend on the
    # seed alone.
    diagonals = np.arange(n_blocks, dtype=np.int64)
    kernels.shuffle_inplace(diagonals, state.shuffle_state ^ _DIAGONAL_STREAM)
    window = 0 if params["shuffle"] else -1  # see fastmf.kernels.sgd_epoch_blocked
    seed = np.uint64(params["epoch_seed"][0])
    return kernel(
        users, items, values, block_ptr, n_blocks, diagonals, window, seed, *model,
        *scalars, *flags,
    )  # fmt: skip


#: Mixed into the shuffle state to draw each epoch's order of diagonals, so that
#: it is not the next draw of the shuffle generator itself.
_DIAGONAL_STREAM = np.uint64(0xD1A6_0A15)

#: Largest number of ratings whose blocked layout is built through a copy (at
#: most 16 bytes per rating more, 4 MiB) instead of in place.
SMALL_LAYOUT_RATINGS = 1 << 18

#: Factor bytes of one block's users and items that should fit in a core's cache.
BLOCK_BYTES = 1 << 20
MAX_BLOCKS = 128


def n_blocks_for(n_users, n_items, n_factors, itemsize):
    """The default ``B``: blocks whose factor rows fit in about 1 MiB of cache.

    At least ``2 * NUMBA_NUM_THREADS`` (so every thread has a block in each
    diagonal) and at most 128. It depends on the data and the machine's thread
    limit, never on the ``n_threads`` of a fit, so a model trains the same with
    any thread count.
    """
    import numba

    factor_bytes = (n_users + n_items) * n_factors * itemsize
    wanted = -(-factor_bytes // BLOCK_BYTES)
    return int(min(MAX_BLOCKS, max(2 * numba.config.NUMBA_NUM_THREADS, wanted)))


def _blocked_layout(state, arrays, params):
    """Store the ratings block by block and every block user by user, in place;
    returns the params with the layout.

    A block visited user by user reads its users' factor rows in memory order
    and each of them once for all of that user's ratings in the block (about
    1.4 times the ratings per second of a shuffled block at k = 32 on 10M
    ratings). Each epoch the kernel then starts every block at a random point
    and runs through it, wrapping around (``window=0`` of
    ``fastmf.kernels.sgd_epoch_blocked``), with the diagonals in a new random
    order: the visiting order changes every epoch while all of that locality
    stays and no rating moves. Shuffling the ratings within short windows
    instead (or visiting them in random order within windows) cost about 20 %
    of the epoch's speed at k = 32 for 0.0007 of test RMSE after 20 epochs on
    10M ratings. Users are visited in row order, which after the renumbering is
    a random order of their ids drawn from the model's seed (so a warm start
    rebuilds it).

    Up to ``SMALL_LAYOUT_RATINGS`` ratings the order comes from two counting
    sorts through a copy (``kernels.order_by_block_and_user``); above, from a
    stable sort by block done in place, without a permutation array or copies
    (``kernels.order_by_block``: no memory per rating in the usual case, at most
    4 bytes, instead of 20), followed by a counting sort of each block
    (``kernels.order_blocks_by_user``). Both give the same order.
    """
    users, items, values = arrays
    n_blocks = params["n_blocks"] or n_blocks_for(
        state.P.shape[0], state.Q.shape[0], state.P.shape[1], state.P.itemsize
    )
    # Groups are contiguous ranges of rows: the rows were renumbered by a seeded
    # random permutation first (``_Renumbering``), so popular ids spread over the
    # groups and a warm start rebuilds the same layout.
    n_users, n_items = state.P.shape[0], state.Q.shape[0]
    user_group = np.arange(n_users, dtype=np.int64) * n_blocks // n_users
    item_group = np.arange(n_items, dtype=np.int64) * n_blocks // n_items
    block_ptr = np.empty(n_blocks * n_blocks + 1, dtype=np.int64)
    ordering = (users, items, values, user_group, item_group, n_blocks, block_ptr)
    if users.size <= SMALL_LAYOUT_RATINGS:
        kernels.order_by_block_and_user(*ordering)
    else:
        kernels.order_by_block(*ordering)
        # After the renumbering, a block's users are a contiguous range of rows,
        # read front to back.
        user_rank = np.arange(n_users, dtype=np.int64)
        kernels.order_blocks_by_user(users, items, values, block_ptr, user_rank)
    return dict(params, layout=(block_ptr, n_blocks))


def _record(state, epoch, arrays, valid, passed, params):
    """Check an epoch for divergence and append its row to the history."""
    start, sgd_start, end, sse = passed
    users, items, values = arrays
    n = values.size
    model = (state.mu, state.P, state.Q, state.bu, state.bi)
    if params["train_rmse"] == "exact":
        train_sse = kernels.squared_error_sum(users, items, values, *model)
        finite = math.isfinite(train_sse)
    else:  # "online": the errors the pass saw, each before its own update
        train_sse = sse
        finite = all(kernels.all_finite(a.reshape(-1)) for a in model[1:])
    if not (math.isfinite(sse) and finite):
        raise _divergence(epoch, params["lr"], values)
    seconds = end - start
    row = {
        "epoch": epoch,
        "train_rmse": math.sqrt(train_sse / n),
        "seconds": seconds,
        "sgd_seconds": end - sgd_start,
        "ratings_per_second": n / seconds if seconds > 0 else math.inf,
    }
    if valid is not None:
        u, i, r = valid
        row["validation_rmse"] = math.sqrt(
            kernels.squared_error_sum(u, i, r, *model) / r.size
        )
    for key, column in state.history.items():
        column.append(row.get(key, math.nan))
    return row


class _EarlyStopping:
    """Stop when the validation RMSE has not improved for ``patience`` epochs and
    remember the parameters of the best epoch."""

    def __init__(self, patience, state):
        self.patience = patience
        self.best_rmse = math.inf
        self.best_epoch = None
        self.best = None
        self.waited = 0

    def should_stop(self, row, state):
        if self.patience is None:
            return False
        if row["validation_rmse"] < self.best_rmse:
            self.best_rmse = row["validation_rmse"]
            self.best_epoch = row["epoch"]
            self.best = tuple(
                None if a is None else a.copy()
                for a in (state.P, state.Q, state.bu, state.bi, state.Gu, state.Gi)
            )
            self.waited = 0
            return False
        self.waited += 1
        return self.waited >= self.patience


def _interrupted(stopper, state):
    _restore_best(stopper, state)
    if state.epochs_done:
        logger.warning(
            "training interrupted: the model holds epoch %d and can be used and saved.",
            state.epochs_done,
        )
    else:
        logger.warning("training interrupted before its first epoch ended.")


def _restore_best(stopper, state):
    if stopper is None or stopper.best is None:
        return
    if stopper.best_epoch != state.epochs_done:
        state.P, state.Q, state.bu, state.bi, state.Gu, state.Gi = stopper.best
        logger.info("early stopping restored epoch %d.", stopper.best_epoch)
    state.best_epoch = stopper.best_epoch


def _shuffle(users, items, values, state, epoch, params):
    """New visiting order for an epoch, in place.

    Serial: a full shuffle every epoch. Hogwild: a full shuffle in the first epoch,
    then each thread's chunk is reshuffled within itself, in parallel; a full
    shuffle of 10M ratings costs about half a Hogwild epoch at k = 32 and cannot be
    spread over threads. Blocked: no rating moves; the epoch draws the seed from
    which the kernel visits every window of a block in a new order (see
    ``_blocked_layout``).
    """
    if params["method"] == "blocked":  # nothing moves: the epoch gets a new seed
        params["epoch_seed"][0] = kernels.splitmix64_next(state)
    elif params["method"] == "serial" or epoch == 1:
        kernels.shuffle_ratings(users, items, values, state)
    else:
        kernels.shuffle_ratings_chunks(users, items, values, state, params["n_threads"])


#: Ratings checked at a time by ``ratings_in_dtype`` (bounds its temporaries).
CAST_CHUNK = 1 << 18


def ratings_in_dtype(values, dtype):
    """The ratings cast to the factor dtype; refuse or warn when that loses them.

    Apart from the result, memory stays within a few chunks of ``CAST_CHUNK``
    ratings.
    """
    with np.errstate(over="ignore"):
        cast = values.astype(dtype)
    finite, change = True, 0.0
    for start in range(0, values.size, CAST_CHUNK):
        part = cast[start : start + CAST_CHUNK]
        finite = bool(np.isfinite(part).all())
        if not finite:
            break
        lost = np.subtract(part, values[start : start + CAST_CHUNK])
        change = max(change, float(np.abs(lost, out=lost).max()))
    if not finite:
        raise ValueError(
            f"ratings up to {np.abs(values).max():g} overflow {dtype.name}; use "
            "dtype='float64' or rescale the ratings."
        )
    # The spread matters only when the cast changed a rating (any change above 0
    # is compared with it); ratings that are exact in ``dtype`` skip the pass.
    spread = float(values.std()) if change > 0 else 0.0
    if change > 1e-4 * max(spread, np.finfo(dtype).tiny):
        warnings.warn(
            f"casting the ratings to {dtype.name} changes them by up to {change:g} "
            f"(their standard deviation is {spread:g}); use dtype='float64' or "
            "centre and scale the ratings.",
            RuntimeWarning,
            stacklevel=5,
        )
    return cast


def rows_of(state, ratings):
    """Row indices of ``ratings`` in the state's id maps (-1 when unknown)."""
    users = IdMap(state.user_ids).lookup(ratings.raw_users(), "users")
    items = IdMap(state.item_ids).lookup(ratings.raw_items(), "items")
    return users, items


def validation_arrays(state, valid, dtype):
    """Validation ratings as rows of the state (-1 when unknown)."""
    v.check_nonempty(valid.n_ratings, "the validation set")
    users, items = rows_of(state, valid)
    return users, items, ratings_in_dtype(valid.values, dtype)


def _divergence(epoch, lr, values):
    low, high = float(values.min()), float(values.max())
    return DivergenceError(
        f"Training diverged in epoch {epoch}: a factor or bias became non-finite "
        f"(NaN or infinity). The learning rate {lr:g} is too large for ratings "
        f"between {low:g} and {high:g}: use a smaller learning_rate (CLI: "
        f"--learning-rate), 10 to 100 times smaller (for example {lr / 10:g} or "
        f"{lr / 100:g}), or rescale the ratings. The model was left unfitted.",
        epoch,
    )


def merge_seen(indptr, items, user_rows, item_rows, n_users, new_users, new_items):
    """Rated-item lists of every user: the old ones (rows remapped) plus new pairs.

    Returns ``(indptr, items)`` in CSR layout, each pair once.
    """
    old_users = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    users = np.concatenate([user_rows[old_users], new_users]).astype(np.int64)
    all_items = np.concatenate([item_rows[items], new_items]).astype(np.int64)
    n_items = int(all_items.max()) + 1 if all_items.size else 1
    keys = np.unique(users * n_items + all_items)
    counts = np.bincount(keys // n_items, minlength=n_users)
    out_indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(counts, out=out_indptr[1:])
    return out_indptr, (keys % n_items).astype(np.int32)

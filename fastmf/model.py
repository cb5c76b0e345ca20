"""The estimator: biased matrix factorization trained by SGD.

Thin on purpose: it validates, owns the epoch loop, the history and the id maps,
and hands every pass over the ratings to a compiled kernel.
"""

import contextlib
import inspect
import json
import logging
import math
import os
import time
import warnings
import zipfile
import zlib
from importlib.metadata import PackageNotFoundError, version

import numba
import numpy as np

from . import _validation as v
from . import kernels
from ._config import PREFETCH_MIN_BYTES
from ._io import atomic_write
from .data import IdMap, Ratings
from .data._duplicates import check_policy, resolve_duplicates
from .exceptions import DivergenceError

logger = logging.getLogger("fastmf")

METHODS = ("serial", "hogwild")
MODEL_FORMAT = "fastmf-npz"
MODEL_FORMAT_VERSION = 1

#: Largest matrix :meth:`MatrixFactorization.full_matrix` builds by default.
FULL_MATRIX_LIMIT = 20_000_000


class MatrixFactorization:
    """Biased matrix factorization of explicit ratings, trained by SGD.

    The model predicts the rating of user ``u`` for item ``i`` as

    .. math:: \\hat r_{ui} = \\mu + b_u + b_i + p_u \\cdot q_i

    with ``mu`` the mean of the training ratings, ``b_u``, ``b_i`` biases and
    ``p_u``, ``q_i`` vectors of ``n_factors`` latent factors. It minimises the
    regularised squared error over the observed ratings only,

    .. math:: \\sum_{(u,i)} (r_{ui} - \\hat r_{ui})^2
              + reg\\,(b_u^2 + b_i^2 + \\|p_u\\|^2 + \\|q_i\\|^2),

    by stochastic gradient descent. Each epoch visits every rating once and, with
    ``e = r_ui - r̂_ui``, applies

    .. math::

        b_u &\\leftarrow b_u + lr\\,(e - reg\\,b_u) \\qquad
        b_i \\leftarrow b_i + lr\\,(e - reg\\,b_i) \\\\
        p_u &\\leftarrow p_u + lr\\,(e\\,q_i - reg\\,p_u) \\qquad
        q_i \\leftarrow q_i + lr\\,(e\\,p_u - reg\\,q_i)

    (``p_u`` and ``q_i`` both from their values before the step), as in Funk's
    Netflix Prize method and Koren, Bell and Volinsky (2009).

    Parameters
    ----------
    n_factors : int, default 100
        Number of latent factors ``k``.
    n_epochs : int, default 20
        Passes over the training ratings.
    learning_rate : float, default 0.015
        SGD step size ``lr`` for factors and biases.
    regularization : float, default 0.08
        L2 penalty ``reg`` on factors and biases.
    init_std : float, default 0.05
        Standard deviation of the normal draw that initialises the factors (the
        biases start at 0). Must be > 0: equal starting factors would receive
        identical updates and collapse the model to rank 1.
    biased : bool, default True
        When False the model is ``p_u . q_i`` alone (no mean, no biases).
    method : {"serial", "hogwild"}, default "serial"
        ``"serial"`` visits the ratings one after another and is reproducible bit
        for bit for a given ``random_state``. ``"hogwild"`` splits each epoch into
        one contiguous chunk per thread and updates shared factors without locks:
        faster on large data, but its result depends on thread timing. After a
        full shuffle in the first epoch, each chunk is reshuffled within itself.
    n_threads : int, optional
        Threads of the Hogwild method (its SGD and RMSE passes); by default all
        Numba threads. The serial method runs on the calling thread alone.
    dtype : {"float32", "float64"}, default "float32"
        Precision of factors, biases and the ratings during training.
    shuffle : bool, default True
        Visit the ratings in a new random order every epoch (else in the order
        given).
    random_state : int, numpy.random.Generator or None, default None
        Seed of the initial factors and of the shuffles. None draws fresh entropy.
    verbose : bool, default False
        Log one line per epoch on the ``fastmf`` logger (shown on stderr when
        logging is not configured).
    duplicates : {"error", "last", "mean", "keep"}, default "error"
        What to do with a (user, item) pair rated more than once: refuse, listing
        the pairs; keep the last rating; keep their mean; or train on every row.
        Never summed. The count and the policy applied are logged.

    Attributes
    ----------
    user_factors_ : ndarray, shape (n_users, n_factors)
    item_factors_ : ndarray, shape (n_items, n_factors)
    user_bias_ : ndarray, shape (n_users,)
    item_bias_ : ndarray, shape (n_items,)
    global_mean_ : float
        ``mu``; 0 for an unbiased model.
    rating_scale_ : tuple of float
        Lowest and highest training rating; ``predict`` clips to it by default.
    user_ids_, item_ids_ : ndarray
        Raw id of each row of the factor matrices (sorted).
    seen_indptr_, seen_items_ : ndarray (int64, int32)
        The items each user rated in training, in CSR layout (user ``u`` rated
        ``seen_items_[seen_indptr_[u]:seen_indptr_[u + 1]]``); ``recommend`` leaves
        them out. They take 4 bytes per training rating.
    history_ : dict of ndarray
        One entry per epoch: ``epoch``, ``train_rmse`` (over all training ratings
        after the epoch), ``validation_rmse`` (when a validation set was given),
        ``seconds`` (the epoch's shuffle and SGD pass, without the RMSE passes),
        ``sgd_seconds`` (the SGD pass alone) and ``ratings_per_second`` (training
        ratings per ``seconds``).
    n_ratings_ : int
        Number of training ratings, after the duplicates policy.
    n_duplicates_ : int
        Rows the duplicates policy merged or dropped (0 when no pair repeats).

    Notes
    -----
    Unknown users or items at prediction time get a fallback: ``mu`` plus the
    bias of whichever of the two is known (the dot product needs both).
    ``predict(..., return_unknown=True)`` reports which pairs fell back.

    If training produces a non-finite value, :meth:`fit` raises
    :class:`~fastmf.exceptions.DivergenceError` naming the epoch, and the model is
    left unfitted.

    References
    ----------
    Koren, Bell and Volinsky, "Matrix factorization techniques for recommender
    systems", IEEE Computer 42(8), 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmf import MatrixFactorization
    >>> users = np.array([10, 10, 20, 20, 30])
    >>> items = np.array([1, 2, 1, 3, 2])
    >>> values = np.array([5.0, 3.0, 4.0, 1.0, 2.0])
    >>> model = MatrixFactorization(n_factors=2, n_epochs=5, random_state=0)
    >>> model = model.fit((users, items, values))
    >>> model.predict([10, 99], [3, 3], return_unknown=True)[1]
    array([False,  True])
    """

    def __init__(
        self,
        n_factors=100,
        n_epochs=20,
        learning_rate=0.015,
        regularization=0.08,
        init_std=0.05,
        biased=True,
        method="serial",
        n_threads=None,
        dtype="float32",
        shuffle=True,
        random_state=None,
        verbose=False,
        duplicates="error",
    ):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.init_std = init_std
        self.biased = biased
        self.method = method
        self.n_threads = n_threads
        self.dtype = dtype
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.duplicates = duplicates

    # -- scikit-learn conventions ---------------------------------------------------

    @classmethod
    def _param_names(cls):
        signature = inspect.signature(cls.__init__)
        return [name for name in signature.parameters if name != "self"]

    def get_params(self, deep=True):
        """Parameters of this estimator, as given to ``__init__``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set parameters; unknown names raise ValueError."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"{name!r} is not a parameter of {type(self).__name__}; valid "
                    f"parameters are {', '.join(valid)}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = inspect.signature(type(self).__init__).parameters
        changed = [
            f"{name}={getattr(self, name)!r}"
            for name in self._param_names()
            if getattr(self, name) is not defaults[name].default
            and getattr(self, name) != defaults[name].default
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _validated_params(self):
        return {
            "n_factors": v.check_int(self.n_factors, "n_factors", 1),
            "n_epochs": v.check_int(self.n_epochs, "n_epochs", 1),
            "lr": v.check_real(
                self.learning_rate, "learning_rate", strictly_positive=True
            ),
            "reg": v.check_real(self.regularization, "regularization", low=0.0),
            "init_std": v.check_real(self.init_std, "init_std", strictly_positive=True),
            "biased": v.check_bool(self.biased, "biased"),
            "method": v.check_choice(self.method, "method", METHODS),
            "n_threads": v.check_n_threads(self.n_threads),
            "dtype": v.check_dtype(self.dtype),
            "shuffle": v.check_bool(self.shuffle, "shuffle"),
            "verbose": v.check_bool(self.verbose, "verbose"),
            "random_state": v.check_random_state(self.random_state),
            "duplicates": check_policy(self.duplicates),
        }

    # -- training -------------------------------------------------------------------

    def fit(self, ratings, validation=None):
        """Train on ``ratings``; return ``self``.

        Parameters
        ----------
        ratings : Ratings or tuple of 3 array_like
            A :class:`~fastmf.data.Ratings` container, or ``(users, items, values)``
            arrays in raw ids (integers or strings).
        validation : Ratings or tuple of 3 array_like, optional
            Ratings in the same raw ids, scored after every epoch
            (``history_["validation_rmse"]``); never trained on.

        Raises
        ------
        ValueError, TypeError
            For invalid parameters or ratings (empty, mismatched lengths,
            non-finite values, negative indices); the message says which.
        DivergenceError
            When training produces a non-finite value.

        Notes
        -----
        ``fit`` either succeeds or leaves the model unfitted: a model that was
        fitted before loses its old fit when a new one starts.
        """
        self._clear_fit()
        params = self._validated_params()
        train = as_ratings(ratings, "ratings")
        v.check_nonempty(train.n_ratings, "the training set")
        n_given = train.n_ratings
        train = resolve_duplicates(train, params["duplicates"])
        # Ids without a training rating (say, users only in a test split that
        # shares the id maps) get no factors: they are unknown to the model and
        # predicted by the documented fallback, never from untrained factors.
        compact = train.compact()
        owned = compact is not train  # compact() built fresh index arrays
        train = compact
        valid = None if validation is None else as_ratings(validation, "validation")

        with _progress_logging(params["verbose"]):
            state = _train(train, valid, params, self._progress, owned)
        self._set_fit(train, state)
        self.n_duplicates_ = n_given - train.n_ratings
        return self

    def _progress(self, row):
        level = logging.INFO if self.verbose else logging.DEBUG
        text = (
            f"epoch {row['epoch']:>3}  train RMSE {row['train_rmse']:.4f}"
            + (
                f"  validation RMSE {row['validation_rmse']:.4f}"
                if "validation_rmse" in row
                else ""
            )
            + f"  {row['seconds']:.3f} s"
            + f"  {row['ratings_per_second'] / 1e6:.1f} M ratings/s"
        )
        logger.log(level, text)

    def _clear_fit(self):
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("__"):
                delattr(self, name)

    def _set_fit(self, train, state):
        self.user_factors_ = state["P"]
        self.item_factors_ = state["Q"]
        self.user_bias_ = state["bu"]
        self.item_bias_ = state["bi"]
        self.global_mean_ = state["mu"]
        self.user_ids_ = train.user_map.ids
        self.item_ids_ = train.item_map.ids
        self.seen_indptr_, self.seen_items_ = _items_by_user(train)
        self.n_ratings_ = train.n_ratings
        self.rating_scale_ = (float(train.values.min()), float(train.values.max()))
        self.history_ = state["history"]

    # -- prediction -----------------------------------------------------------------

    def predict(self, users, items, return_unknown=False, clip=True):
        """Predicted ratings of raw (user, item) pairs.

        Parameters
        ----------
        users, items : array_like or scalar
            Raw ids, as in training.
        return_unknown : bool, default False
            Also return a boolean array, True where the user or the item was not
            seen in training and the fallback ``mu`` + known bias was used.
        clip : bool, default True
            Clip predictions to the rating scale seen in training
            (``rating_scale_``). ``clip=False`` gives the raw model scores
            ``mu + b_u + b_i + p_u . q_i``, which rankings use.

        Returns
        -------
        predictions : ndarray of float64 (a float for scalar input)
        unknown : ndarray of bool
            Only with ``return_unknown=True``.
        """
        v.check_fitted(self)
        clip = v.check_bool(clip, "clip")
        scalar = np.ndim(users) == 0 and np.ndim(items) == 0
        users = v.as_1d(np.atleast_1d(users), "users")
        items = v.as_1d(np.atleast_1d(items), "items")
        v.check_same_length(users=users, items=items)
        u = IdMap(self.user_ids_).lookup(users, "users")
        i = IdMap(self.item_ids_).lookup(items, "items")

        out = np.empty(u.size)
        kernels.predict_pairs(u, i, out, *self._parameters())
        if clip:
            np.clip(out, *self.rating_scale_, out=out)
        unknown = (u < 0) | (i < 0)
        if scalar:
            out, unknown = out[0], unknown[0]
        return (out, unknown) if return_unknown else out

    def _parameters(self):
        return (
            float(self.global_mean_),
            self.user_factors_,
            self.item_factors_,
            self.user_bias_,
            self.item_bias_,
        )

    def recommend(self, users, n=10, exclude_seen=True, items=None, exclude=None):
        """Top-``n`` items for one or many users, best first.

        Scores are computed and ranked by a compiled parallel kernel that keeps the
        ``n`` best items per user in a small heap: no full sort and no users ×
        items score matrix.

        Parameters
        ----------
        users : scalar or array_like
            Raw user id(s). An unknown user gets the items with the highest
            fallback score ``mu + b_i``.
        n : int, default 10
            Items per user; fewer are returned when fewer qualify, none for 0.
        exclude_seen : bool, default True
            Leave out the items each user rated in training.
        items : array_like, optional
            Only rank these raw item ids (unknown ids are ignored).
        exclude : array_like, optional
            Raw item ids never to recommend.

        Returns
        -------
        (items, scores) for one user, or a list of them for many: raw item ids and
        their raw (unclipped) scores, best first; ties go to the item trained
        first in id order.
        """
        v.check_fitted(self)
        n = v.check_int(n, "n", 0)
        exclude_seen = v.check_bool(exclude_seen, "exclude_seen")
        scalar = np.ndim(users) == 0
        rows = IdMap(self.user_ids_).lookup(np.atleast_1d(users), "users")
        candidates, excluded = self._candidates(items, exclude)

        mu, P, Q, bu, bi = self._parameters()
        out_items, out_scores, counts = _top_n_buffers(rows.size, n)
        kernels.recommend_top_n(
            rows, mu, P, Q, bu, bi, candidates, excluded, self.seen_indptr_,
            self.seen_items_, exclude_seen, out_items, out_scores, counts,
        )  # fmt: skip
        return _top_n_results(self.item_ids_, out_items, out_scores, counts, scalar)

    def similar_items(self, items, n=10):
        """The ``n`` items whose factors have the highest cosine with each item's.

        Returns ``(items, similarities)`` for one item or a list of them for many,
        best first; an item is never its own neighbour. Unknown ids raise.
        """
        return self._similar(items, n, self.item_ids_, self.item_factors_, "items")

    def similar_users(self, users, n=10):
        """The ``n`` users whose factors have the highest cosine with each user's."""
        return self._similar(users, n, self.user_ids_, self.user_factors_, "users")

    def _similar(self, queries, n, ids, factors, name):
        v.check_fitted(self)
        n = v.check_int(n, "n", 0)
        scalar = np.ndim(queries) == 0
        rows = IdMap(ids).lookup(np.atleast_1d(queries), name)
        if (rows < 0).any():
            unknown = np.atleast_1d(queries)[np.flatnonzero(rows < 0)[0]]
            raise KeyError(f"{name[:-1]} {unknown!r} was not seen in training.")
        everything = np.arange(ids.size, dtype=np.int32)
        out_rows, out_scores, counts = _top_n_buffers(rows.size, n)
        kernels.similar_top_n(
            rows, factors, everything, np.zeros(ids.size, dtype=bool), out_rows,
            out_scores, counts,
        )  # fmt: skip
        return _top_n_results(ids, out_rows, out_scores, counts, scalar)

    def _candidates(self, items, exclude):
        """Candidate item rows and the excluded-item mask of a recommendation."""
        item_map = IdMap(self.item_ids_)
        if items is None:
            candidates = np.arange(self.item_ids_.size, dtype=np.int32)
        else:
            rows = item_map.lookup(np.atleast_1d(items), "items")
            candidates = np.unique(rows[rows >= 0]).astype(np.int32)
        excluded = np.zeros(self.item_ids_.size, dtype=bool)
        if exclude is not None:
            rows = item_map.lookup(np.atleast_1d(exclude), "exclude")
            excluded[rows[rows >= 0]] = True
        return candidates, excluded

    def full_matrix(self, max_entries=FULL_MATRIX_LIMIT):
        """The completed users × items matrix of predictions, for small problems.

        Rows follow ``user_ids_`` and columns ``item_ids_``. Refuses to build more
        than ``max_entries`` entries (float64) instead of exhausting memory.
        """
        v.check_fitted(self)
        max_entries = v.check_int(max_entries, "max_entries", 0)
        mu, P, Q, bu, bi = self._parameters()
        size = P.shape[0] * Q.shape[0]
        if size > max_entries:
            raise MemoryError(
                f"full_matrix would build {P.shape[0]:,} × {Q.shape[0]:,} = "
                f"{size:,} entries ({size * 8 / 2**30:.1f} GiB), more than "
                f"max_entries={max_entries:,}. Use predict or recommend for large "
                "problems, or raise max_entries."
            )
        P64, Q64 = P.astype(np.float64), Q.astype(np.float64)
        return mu + bu.astype(np.float64)[:, None] + bi.astype(np.float64) + P64 @ Q64.T

    # -- persistence ----------------------------------------------------------------

    def save(self, path):
        """Write the fitted model to ``path`` as ``.npz`` (no pickle), atomically.

        The file is written under a temporary name in the same folder and renamed
        into place, so a crash never leaves a half-written file under ``path``.
        """
        v.check_fitted(self)
        metadata = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "fastmf_version": _package_version(),
            "params": _json_params(self.get_params()),
            "n_ratings": int(self.n_ratings_),
            "n_duplicates": int(self.n_duplicates_),
        }
        arrays = {
            "metadata": np.array(json.dumps(metadata)),
            "user_factors": self.user_factors_,
            "item_factors": self.item_factors_,
            "user_bias": self.user_bias_,
            "item_bias": self.item_bias_,
            "global_mean": np.array(self.global_mean_),
            "rating_scale": np.array(self.rating_scale_),
            "user_ids": self.user_ids_,
            "item_ids": self.item_ids_,
            "seen_indptr": self.seen_indptr_,
            "seen_items": self.seen_items_,
        }
        arrays.update({f"history_{k}": col for k, col in self.history_.items()})
        atomic_write(path, lambda handle: np.savez(handle, **arrays))

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`.

        Everything is checked before a model is returned: the format and its
        version, the parameters, the shapes and dtypes of all arrays, finite
        factors and biases, sorted unique ids and consistent rated-item lists.
        Nothing in the file is executed (no pickle).

        Raises
        ------
        FileNotFoundError
            When there is no file at ``path``.
        ValueError
            For anything that is not a complete, consistent fastmf model file.
        """
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such model file.")
        try:
            data = np.load(path, allow_pickle=False)
            if isinstance(data, np.ndarray):
                raise ValueError(f"{path} is a single NumPy array, not a model.")
            with data:
                arrays = {name: data[name] for name in data.files}
        except (
            ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile, zlib.error,
        ) as error:  # fmt: skip
            if str(error).startswith(path):
                raise
            raise ValueError(
                f"{path} is not a readable fastmf model ({error})."
            ) from None
        try:
            return _model_from_arrays(cls, arrays, path)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            if isinstance(error, ValueError) and str(error).startswith(path):
                raise
            raise ValueError(f"{path}: not a valid fastmf model ({error}).") from None


def as_ratings(data, name):
    """``Ratings`` as given, or built from a ``(users, items, values)`` tuple."""
    if isinstance(data, Ratings):
        return data
    if isinstance(data, tuple) and len(data) == 3:
        return Ratings.from_raw_ids(*data)
    raise TypeError(
        f"{name} must be a fastmf.data.Ratings or a (users, items, values) tuple of "
        f"arrays; got {type(data).__name__}."
    )


def initial_state(random_state, n_users, n_items, n_factors, init_std, dtype):
    """Initial factors and shuffle state, all drawn from one seeded generator.

    Returns ``(P, Q, shuffle_state)``; the same arguments give the same arrays, so
    benchmarks and tests can start the reference from exactly where ``fit`` starts.
    """
    rng = np.random.default_rng(random_state)
    P = _normal_rows(rng, init_std, n_users, n_factors, dtype)
    Q = _normal_rows(rng, init_std, n_items, n_factors, dtype)
    shuffle_state = np.array([rng.integers(0, 2**63)], dtype=np.uint64)
    return P, Q, shuffle_state


def _normal_rows(rng, std, n_rows, n_columns, dtype, block=1 << 20):
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


def _train(train, valid, params, progress, owned=False):
    """The epoch loop. Returns the learned arrays and the history.

    ``owned`` says the index arrays of ``train`` are private to this fit and may
    be shuffled in place; otherwise they are copied first.
    """
    dtype = params["dtype"]
    real = dtype.type
    n = train.n_ratings
    n_users, n_items = train.shape

    # The one copy of the ratings: in the factor dtype, shuffled in place.
    users = train.users if owned else train.users.copy()
    items = train.items if owned else train.items.copy()
    values = _ratings_in_dtype(train.values, dtype)
    mu = float(train.values.mean()) if params["biased"] else 0.0

    P, Q, shuffle_state = initial_state(
        params["random_state"], n_users, n_items, params["n_factors"],
        params["init_std"], dtype,
    )  # fmt: skip
    bu = np.zeros(n_users, dtype=dtype)
    bi = np.zeros(n_items, dtype=dtype)
    valid_arrays = None if valid is None else _validation_arrays(train, valid, dtype)

    args = (real(mu), P, Q, bu, bi, real(params["lr"]), real(params["reg"]))
    flags = (
        params["biased"],
        use_prefetch(P, Q, params["method"]),
        kernels.FREEZE_NONE,
    )
    history = {
        "epoch": [], "train_rmse": [], "seconds": [], "sgd_seconds": [],
        "ratings_per_second": [],
    }  # fmt: skip
    if valid is not None:
        history["validation_rmse"] = []

    # The serial method runs on the calling thread only, RMSE passes included:
    # spreading those over cores would pull the factors into another core's cache
    # and slow the next SGD pass down more than the parallel pass saves (measured
    # 2.5 vs 3.2 ms per epoch on MovieLens 100K).
    threads = 1 if params["method"] == "serial" else params["n_threads"]
    with _numba_threads(threads):
        for epoch in range(1, params["n_epochs"] + 1):
            start = time.perf_counter()
            if params["shuffle"]:
                _shuffle(users, items, values, shuffle_state, epoch, params)
            sgd_start = time.perf_counter()
            if params["method"] == "serial":
                sse = kernels.sgd_epoch(users, items, values, *args, *flags)
            else:
                sse = kernels.sgd_epoch_hogwild(
                    users, items, values, *args, *flags, params["n_threads"]
                )
            end = time.perf_counter()
            seconds = end - start

            train_sse = kernels.squared_error_sum(
                users, items, values, mu, P, Q, bu, bi
            )
            if not (math.isfinite(sse) and math.isfinite(train_sse)):
                raise _divergence(epoch, params["lr"], train.values)

            row = {
                "epoch": epoch,
                "train_rmse": math.sqrt(train_sse / n),
                "seconds": seconds,
                "sgd_seconds": end - sgd_start,
                "ratings_per_second": n / seconds if seconds > 0 else math.inf,
            }
            if valid_arrays is not None:
                u, i, r = valid_arrays
                valid_sse = kernels.squared_error_sum(u, i, r, mu, P, Q, bu, bi)
                row["validation_rmse"] = math.sqrt(valid_sse / r.size)
            for key in history:
                history[key].append(row[key])
            progress(row)

    history = {
        key: np.asarray(column, dtype=np.int64 if key == "epoch" else np.float64)
        for key, column in history.items()
    }
    return {"P": P, "Q": Q, "bu": bu, "bi": bi, "mu": mu, "history": history}


def _shuffle(users, items, values, state, epoch, params):
    """New visiting order for an epoch, in place.

    Serial: a full shuffle every epoch. Hogwild: a full shuffle in the first epoch,
    then each thread's chunk is reshuffled within itself, in parallel; a full
    shuffle of 10M ratings costs about half a Hogwild epoch at k = 32 and cannot be
    spread over threads.
    """
    if params["method"] == "serial" or epoch == 1:
        kernels.shuffle_ratings(users, items, values, state)
    else:
        kernels.shuffle_ratings_chunks(users, items, values, state, params["n_threads"])


def _ratings_in_dtype(values, dtype):
    """The ratings cast to the factor dtype; refuse or warn when that loses them."""
    with np.errstate(over="ignore"):
        cast = values.astype(dtype)
    if not np.isfinite(cast).all():
        raise ValueError(
            f"ratings up to {np.abs(values).max():g} overflow {dtype.name}; use "
            "dtype='float64' or rescale the ratings."
        )
    change = float(np.abs(cast - values).max()) if values.size else 0.0
    spread = float(values.std()) if values.size else 0.0
    if change > 1e-4 * max(spread, np.finfo(dtype).tiny):
        warnings.warn(
            f"casting the ratings to {dtype.name} changes them by up to {change:g} "
            f"(their standard deviation is {spread:g}); use dtype='float64' or "
            "centre and scale the ratings.",
            RuntimeWarning,
            stacklevel=4,
        )
    return cast


def _validation_arrays(train, valid, dtype):
    """Validation ratings as indices into the training maps (-1 when unknown)."""
    v.check_nonempty(valid.n_ratings, "the validation set")
    if valid.user_map == train.user_map and valid.item_map == train.item_map:
        u, i = valid.users, valid.items
    else:
        u = train.user_map.lookup(valid.raw_users(), "validation users")
        i = train.item_map.lookup(valid.raw_items(), "validation items")
    return u, i, _ratings_in_dtype(valid.values, dtype)


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


@contextlib.contextmanager
def _numba_threads(n):
    """Run with ``n`` Numba threads; restore the previous count after, even on error."""
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _top_n_buffers(n_queries, n):
    return (
        np.empty((n_queries, n), dtype=np.int32),
        np.empty((n_queries, n), dtype=np.float64),
        np.empty(n_queries, dtype=np.int64),
    )


def _top_n_results(ids, rows, scores, counts, scalar):
    """Raw ids and scores per query, trimmed to what each query got."""
    results = [
        (ids[rows[q, :count]], scores[q, :count].copy())
        for q, count in enumerate(counts.tolist())
    ]
    return results[0] if scalar else results


def _items_by_user(ratings):
    """CSR layout of the rated items of each user: (indptr, items)."""
    order = np.argsort(ratings.users, kind="stable")
    counts = np.bincount(ratings.users, minlength=ratings.n_users)
    indptr = np.zeros(ratings.n_users + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, ratings.items[order]


@contextlib.contextmanager
def _progress_logging(verbose):
    """Make the per-epoch INFO lines visible for the duration of a verbose fit.

    When the application has configured no logging, a temporary stderr handler is
    attached; when its levels would hide INFO, the ``fastmf`` logger is lowered to
    INFO. Both are undone afterwards, so a fit never changes logging for good.
    """
    if not verbose:
        yield
        return
    handler = None
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(level)
        if handler is not None:
            logger.removeHandler(handler)


def _package_version():
    try:
        return version("fastmf")
    except PackageNotFoundError:
        return "unknown"


def _json_params(params):
    result = {}
    for name, value in params.items():
        if isinstance(value, np.random.Generator):
            value = None
        elif isinstance(value, np.dtype):
            value = value.name
        elif value is not None and not isinstance(value, (bool, int, float, str)):
            value = str(value)
        result[name] = value
    return result


_REQUIRED = (
    "metadata", "user_factors", "item_factors", "user_bias", "item_bias",
    "global_mean", "rating_scale", "user_ids", "item_ids", "seen_indptr",
    "seen_items",
)  # fmt: skip


def _model_from_arrays(cls, arrays, path):
    def fail(reason):
        raise ValueError(f"{path}: {reason}")

    missing = [name for name in _REQUIRED if name not in arrays]
    if missing:
        fail(f"not a fastmf model: missing {', '.join(missing)}.")
    try:
        metadata = json.loads(str(arrays["metadata"]))
    except json.JSONDecodeError:
        fail("not a fastmf model: unreadable metadata.")
    if not isinstance(metadata, dict) or metadata.get("format") != MODEL_FORMAT:
        fail("not a fastmf model file.")
    if metadata.get("format_version") != MODEL_FORMAT_VERSION:
        fail(
            f"model format version {metadata.get('format_version')}; this fastmf "
            f"reads version {MODEL_FORMAT_VERSION}."
        )

    params = metadata.get("params")
    if not isinstance(params, dict) or set(params) - set(cls._param_names()):
        fail("the stored parameters are not those of this model.")
    model = cls(**params)
    checked = model._validated_params()

    P, Q = arrays["user_factors"], arrays["item_factors"]
    bu, bi = arrays["user_bias"], arrays["item_bias"]
    mu, indptr, seen = (
        arrays["global_mean"],
        arrays["seen_indptr"],
        arrays["seen_items"],
    )
    user_ids, item_ids = arrays["user_ids"], arrays["item_ids"]
    dtype = checked["dtype"]
    shapes_ok = (
        P.ndim == 2
        and Q.ndim == 2
        and P.shape[1] == Q.shape[1] == checked["n_factors"]
        and P.dtype == Q.dtype == bu.dtype == bi.dtype == dtype
        and bu.shape == (P.shape[0],)
        and bi.shape == (Q.shape[0],)
        and mu.shape == ()
        and user_ids.shape == (P.shape[0],)
        and item_ids.shape == (Q.shape[0],)
        and indptr.shape == (P.shape[0] + 1,)
        and indptr.dtype.kind == "i"
        and seen.ndim == 1
        and seen.dtype.kind == "i"
    )
    if not shapes_ok:
        fail("the model's arrays have inconsistent shapes or dtypes.")
    scale = arrays["rating_scale"]
    if scale.shape != (2,) or not scale[0] <= scale[1]:
        fail("rating_scale must be (lowest, highest).")
    for name in (
        "user_factors", "item_factors", "user_bias", "item_bias", "global_mean",
        "rating_scale",
    ):  # fmt: skip
        if not np.all(np.isfinite(arrays[name])):
            fail(f"{name} holds non-finite values.")
    for name, ids in (("user_ids", user_ids), ("item_ids", item_ids)):
        if ids.dtype.kind not in "iuUS" or (
            ids.size > 1 and not np.all(ids[1:] > ids[:-1])
        ):
            fail(f"{name} must be sorted, unique integers or strings.")
    if (
        indptr[0] != 0
        or indptr[-1] != seen.size
        or np.any(np.diff(indptr) < 0)
        or (seen.size and (seen.min() < 0 or seen.max() >= Q.shape[0]))
    ):
        fail("the lists of rated items are inconsistent.")

    model.user_factors_ = np.ascontiguousarray(P)
    model.item_factors_ = np.ascontiguousarray(Q)
    model.user_bias_ = bu
    model.item_bias_ = bi
    model.global_mean_ = float(mu)
    model.rating_scale_ = (float(scale[0]), float(scale[1]))
    model.user_ids_ = user_ids
    model.item_ids_ = item_ids
    model.seen_indptr_ = indptr
    model.seen_items_ = seen
    model.n_ratings_ = int(metadata.get("n_ratings", seen.size))
    model.n_duplicates_ = int(metadata.get("n_duplicates", 0))
    model.history_ = {
        name[len("history_") :]: arrays[name]
        for name in arrays
        if name.startswith("history_")
    }
    return model

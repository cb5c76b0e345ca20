"""The estimator: biased matrix factorization trained by SGD.

Thin on purpose: it validates, owns the epoch loop, the history and the id maps,
and hands every pass over the ratings to a compiled kernel.
"""

import contextlib
import inspect
import json
import logging
import os
import zipfile
import zlib
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from . import _training, kernels
from . import _validation as v
from ._io import atomic_write
from ._libmf_model import read_libmf_model, write_libmf_model
from ._threads import parallel_section
from ._training import initial_state, use_prefetch  # noqa: F401  (public helpers)
from .data import IdMap, Ratings
from .data._duplicates import check_policy, resolve_duplicates

logger = logging.getLogger("fastmf")

METHODS = ("serial", "hogwild", "blocked")
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
    method : {"serial", "hogwild", "blocked"}, default "serial"
        ``"serial"`` visits the ratings one after another and is reproducible bit
        for bit for a given ``random_state``. ``"hogwild"`` splits each epoch into
        one contiguous chunk per thread and updates shared factors without locks:
        faster on large data, but its result depends on thread timing. After a
        full shuffle in the first epoch, each chunk is reshuffled within itself.
        ``"blocked"`` cuts users and items into ``n_blocks`` groups each and
        trains, in parallel, blocks that share no user and no item: parallel and
        reproducible, bit for bit the same with any number of threads.
    n_blocks : int, optional
        ``B`` for the blocked method (1 to 255). By default chosen from the data
        so that one block's factor rows fit in about 1 MiB of cache, and at
        least twice ``NUMBA_NUM_THREADS``; results depend on ``B``, not on the
        thread count.
    n_threads : int, optional
        Threads of the Hogwild method (its SGD and RMSE passes) and of predict,
        recommend and similar_*; None or -1 for every Numba thread
        (``NUMBA_NUM_THREADS``). The serial method trains on the calling thread
        alone. The count is set in the calling thread and restored afterwards,
        so it holds inside worker threads too; a value beyond
        ``NUMBA_NUM_THREADS`` is a ValueError.
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
    patience : int, optional
        Early stopping: when ``fit`` gets a validation set, stop once the
        validation RMSE has not improved for this many epochs, and restore the
        factors of the best epoch (``best_epoch_``). None trains all epochs.
    warm_start : bool, default False
        When True, ``fit`` on a fitted model continues from its factors (see
        :meth:`partial_fit`) instead of starting again.
    adagrad : bool, default False
        Per-row adaptive learning rates in the style of LIBMF: every user and
        item row keeps a sum ``G`` that starts at 1, steps by
        ``learning_rate / sqrt(G)``, and adds the mean square of its factor
        gradient to ``G`` after each step (``user_grad_sums_``,
        ``item_grad_sums_``). Steps shrink fastest for the rows that move most,
        so a larger ``learning_rate`` (about 0.05 to 0.1) suits it.
    train_rmse : {"exact", "online"}, default "exact"
        What ``history_["train_rmse"]`` records after each epoch: ``"exact"``
        scores every training rating with the epoch's final factors (an extra
        pass, as the reference does; on small data it costs almost as much as
        the epoch itself); ``"online"`` takes the errors the SGD pass saw, each
        before its own update, at no cost (what LIBMF and most SGD trainers
        report; it runs a little above the exact value). Divergence is caught
        either way.

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
    stopped_because_ : str
        Why the last training call ended: "done", "callback", "early stopping" or
        "interrupted" (Ctrl-C).
    best_epoch_ : int or None
        The epoch early stopping restored (None without early stopping).
    shuffle_state_, first_shuffle_state_ : ndarray of uint64, shape (1,)
        The shuffle generator now and before the first epoch, so that training
        can continue exactly where it stopped (also after save and load).
    user_grad_sums_, item_grad_sums_ : ndarray or None
        AdaGrad's sum ``G`` of every user and item row (None without AdaGrad).

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
        patience=None,
        warm_start=False,
        n_blocks=None,
        adagrad=False,
        train_rmse="exact",
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
        self.patience = patience
        self.warm_start = warm_start
        self.n_blocks = n_blocks
        self.adagrad = adagrad
        self.train_rmse = train_rmse

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

    def __sklearn_is_fitted__(self):
        """Whether ``fit`` succeeded (scikit-learn's ``check_is_fitted`` asks)."""
        return hasattr(self, "user_factors_")

    def __sklearn_tags__(self):
        """Tags for scikit-learn's utilities; only scikit-learn calls this."""
        from sklearn.utils import Tags, TargetTags

        return Tags(
            estimator_type=None, target_tags=TargetTags(required=False),
            transformer_tags=None, classifier_tags=None, regressor_tags=None,
        )  # fmt: skip

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
            "patience": None
            if self.patience is None
            else v.check_int(self.patience, "patience", 1),
            "warm_start": v.check_bool(self.warm_start, "warm_start"),
            "n_blocks": None
            if self.n_blocks is None
            else v.check_int(self.n_blocks, "n_blocks", 1, 255),
            "adagrad": v.check_bool(self.adagrad, "adagrad"),
            "train_rmse": v.check_choice(
                self.train_rmse, "train_rmse", ("exact", "online")
            ),
        }

    # -- training -------------------------------------------------------------------

    def fit(self, ratings, validation=None, callbacks=None):
        """Train on ``ratings``; return ``self``.

        Parameters
        ----------
        ratings : Ratings or tuple of 3 array_like
            A :class:`~fastmf.data.Ratings` container, or ``(users, items, values)``
            arrays in raw ids (integers or strings).
        validation : Ratings or tuple of 3 array_like, optional
            Ratings in the same raw ids, scored after every epoch
            (``history_["validation_rmse"]``); never trained on.
        callbacks : sequence of callables, optional
            Each is called after every epoch with a dict (``epoch``,
            ``train_rmse``, ``validation_rmse`` when there is a validation set,
            ``seconds``, ``sgd_seconds``, ``ratings_per_second``); returning True
            stops training after that epoch.

        Raises
        ------
        ValueError, TypeError
            For invalid parameters or ratings (empty, mismatched lengths,
            non-finite values, negative indices); the message says which.
        DivergenceError
            When training produces a non-finite value.
        KeyboardInterrupt
            Re-raised after Ctrl-C, once the model holds its last completed epoch
            (usable and saveable).

        Notes
        -----
        ``fit`` either succeeds or leaves the model unfitted: a model that was
        fitted before loses its old fit when a new one starts (unless
        ``warm_start=True``). Ctrl-C is the exception: the epochs completed before
        it are kept.
        """
        params = self._validated_params()
        if params["warm_start"] and hasattr(self, "user_factors_"):
            return self._continue(ratings, validation, params, None, callbacks)
        self._clear_fit()
        train, n_duplicates = self._training_ratings(ratings, params)
        # Ids without a training rating (say, users only in a test split that
        # shares the id maps) get no factors: they are unknown to the model and
        # predicted by the documented fallback, never from untrained factors.
        compact = train.compact()
        # The training arrays are shuffled in place: copy every one that is still
        # the caller's (compact() renumbers only the side that has holes).
        arrays = (
            _private(compact.users, train.users),
            _private(compact.items, train.items),
            _training.ratings_in_dtype(compact.values, params["dtype"]),
        )
        train = compact
        state = _training.TrainingState.fresh(train, params)
        seen = _items_by_user(train)
        self._train(
            state, arrays, validation, params, params["n_epochs"], callbacks,
            seen=seen, n_duplicates=n_duplicates, values=train.values,
        )  # fmt: skip
        return self

    def partial_fit(self, ratings, validation=None, n_epochs=None, callbacks=None):
        """Continue training from the current factors; fit first when unfitted.

        Runs ``n_epochs`` more epochs (default ``self.n_epochs``) on ``ratings``,
        the same ratings as before or new ones. Users and items not seen yet get
        fresh factors; the global mean stays what the first fit set. On the same
        ratings, 10 epochs and then 10 more give exactly what 20 epochs give (the
        shuffles of the first 10 are replayed to restore the visiting order).
        """
        params = self._validated_params()
        if not hasattr(self, "user_factors_"):
            if n_epochs is not None:
                params["n_epochs"] = v.check_int(n_epochs, "n_epochs", 1)
            self._clear_fit()
            saved = self.n_epochs
            self.n_epochs = params["n_epochs"]
            try:
                return self.fit(ratings, validation, callbacks)
            finally:
                self.n_epochs = saved
        return self._continue(ratings, validation, params, n_epochs, callbacks)

    def fold_in(self, ratings, side="users", n_epochs=None):
        """Add new users (or items) from their ratings, the other side fixed.

        The way production systems take in a new user between full retrains:
        only the factors and biases of the users in ``ratings`` are trained
        (``n_epochs`` epochs, default ``self.n_epochs``); item factors, item
        biases and the global mean stay exactly as they are. Ratings of items the
        model does not know are left out (their count is logged). With
        ``side="items"`` the roles swap.
        """
        v.check_fitted(self)
        v.check_choice(side, "side", ("users", "items"))
        params = self._validated_params()
        n_epochs = params["n_epochs"] if n_epochs is None else n_epochs
        n_epochs = v.check_int(n_epochs, "n_epochs", 1)
        train, _ = self._training_ratings(ratings, params)
        state = self._state()

        fixed_ids = state.item_ids if side == "users" else state.user_ids
        fixed_raw = train.raw_items() if side == "users" else train.raw_users()
        known = IdMap(fixed_ids).lookup(fixed_raw, side) >= 0
        if not known.all():
            logger.info(
                "fold_in: %d of %d ratings name %s the model does not know; left out.",
                int((~known).sum()), train.n_ratings,
                "items" if side == "users" else "users",
            )  # fmt: skip
            train = train.take(known)
        v.check_nonempty(train.n_ratings, "the ratings to fold in")

        frozen = kernels.FREEZE_ITEMS if side == "users" else kernels.FREEZE_USERS
        self._grow_and_train(state, train, None, params, n_epochs, (), frozen,
                             record=False)  # fmt: skip
        return self

    # -- training internals -----------------------------------------------------------

    def _training_ratings(self, ratings, params):
        train = as_ratings(ratings, "ratings")
        v.check_nonempty(train.n_ratings, "the training set")
        n_given = train.n_ratings
        train = resolve_duplicates(train, params["duplicates"])
        return train, n_given - train.n_ratings

    def _continue(self, ratings, validation, params, n_epochs, callbacks):
        n_epochs = params["n_epochs"] if n_epochs is None else n_epochs
        n_epochs = v.check_int(n_epochs, "n_epochs", 1)
        train, n_duplicates = self._training_ratings(ratings, params)
        self.n_duplicates_ = n_duplicates
        self._grow_and_train(self._state(), train, validation, params, n_epochs,
                             callbacks, kernels.FREEZE_NONE)  # fmt: skip
        return self

    def _grow_and_train(self, state, train, validation, params, n_epochs, callbacks,
                        frozen, record=True):  # fmt: skip
        """Extend the state to the ratings' ids, then train on them."""
        old_users, old_items = state.user_ids.size, state.item_ids.size
        user_rows, item_rows = state.grow(
            np.unique(train.raw_users()), np.unique(train.raw_items()),
            params["init_std"],
        )  # fmt: skip
        users, items = _training.rows_of(state, train)
        same_ratings = (
            record
            and state.user_ids.size == old_users
            and state.item_ids.size == old_items
            and train.n_ratings == self.n_ratings_
        )
        arrays = (
            users,
            items,
            _training.ratings_in_dtype(train.values, params["dtype"]),
        )
        seen = _training.merge_seen(
            self.seen_indptr_, self.seen_items_, user_rows, item_rows,
            state.user_ids.size, users, items,
        )  # fmt: skip
        history = state.history
        if not record:  # fold-in leaves the training history as it is
            state.history = {key: [] for key in history}
        try:
            self._train(state, arrays, validation, params, n_epochs, callbacks,
                        seen=seen, replay=same_ratings, frozen=frozen,
                        values=train.values)  # fmt: skip
        finally:
            if not record and hasattr(self, "user_factors_"):
                self.history_ = {key: np.asarray(c) for key, c in history.items()}

    def _train(
        self, state, arrays, validation, params, n_epochs, callbacks, *, seen,
        values, n_duplicates=None, replay=False, frozen=kernels.FREEZE_NONE,
    ):  # fmt: skip
        """Run the epochs and publish the result, whatever way training ends."""
        valid = None
        if validation is not None:
            valid_ratings = as_ratings(validation, "validation")
            valid = _training.validation_arrays(state, valid_ratings, params["dtype"])
        previous_scale = getattr(self, "rating_scale_", None)
        try:
            with _progress_logging(params["verbose"]):
                stopped = _training.run_epochs(
                    state, arrays, valid, params, n_epochs,
                    callbacks=tuple(callbacks or ()), progress=self._progress,
                    frozen=frozen, replay=replay,
                )  # fmt: skip
        except KeyboardInterrupt:
            if state.epochs_done or previous_scale is not None:
                self._publish(state, seen, values, previous_scale, n_duplicates)
                self.stopped_because_ = "interrupted"
            raise
        except BaseException:
            # A first fit that fails leaves the model unfitted; continued training
            # (partial_fit, warm_start, fold_in) worked on copies and leaves the
            # model as it was.
            if previous_scale is None:
                self._clear_fit()
            raise
        self._publish(state, seen, values, previous_scale, n_duplicates)
        self.stopped_because_ = stopped

    def _publish(self, state, seen, values, previous_scale, n_duplicates):
        """Make the training state the model's fitted attributes."""
        self.user_factors_ = state.P
        self.item_factors_ = state.Q
        self.user_bias_ = state.bu
        self.item_bias_ = state.bi
        self.global_mean_ = state.mu
        self.user_ids_ = state.user_ids
        self.item_ids_ = state.item_ids
        self.seen_indptr_, self.seen_items_ = seen
        self.n_ratings_ = int(values.size)
        low, high = float(values.min()), float(values.max())
        if previous_scale is not None:
            low, high = min(low, previous_scale[0]), max(high, previous_scale[1])
        self.rating_scale_ = (low, high)
        self.history_ = {
            key: np.asarray(column, dtype=np.int64 if key == "epoch" else np.float64)
            for key, column in state.history.items()
        }
        self.best_epoch_ = state.best_epoch
        self.shuffle_state_ = state.shuffle_state
        self.first_shuffle_state_ = state.first_shuffle_state
        self.user_grad_sums_ = state.Gu
        self.item_grad_sums_ = state.Gi
        if n_duplicates is not None:
            self.n_duplicates_ = n_duplicates

    def _state(self):
        """The fitted attributes as a training state to continue from.

        The arrays are copies: training works on them in place (and the blocked
        method moves their rows), while the model's own attributes keep
        answering ``predict`` from other threads until the new state is
        published, and stay as they were when continued training fails.
        """
        history = {key: list(column) for key, column in self.history_.items()}
        state = _training.TrainingState(
            self.user_factors_.copy(), self.item_factors_.copy(),
            self.user_bias_.copy(), self.item_bias_.copy(), self.global_mean_,
            self.user_ids_, self.item_ids_, self.shuffle_state_.copy(), history,
        )  # fmt: skip
        state.first_shuffle_state = self.first_shuffle_state_.copy()
        for side in ("user", "item"):
            sums = getattr(self, f"{side}_grad_sums_", None)
            setattr(state, "Gu" if side == "user" else "Gi",
                    None if sums is None else sums.copy())  # fmt: skip
        return state

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
        with parallel_section(self._threads()):
            kernels.predict_pairs(u, i, out, *self._parameters())
        if clip:
            np.clip(out, *self.rating_scale_, out=out)
        unknown = (u < 0) | (i < 0)
        if scalar:
            out, unknown = out[0], unknown[0]
        return (out, unknown) if return_unknown else out

    def _threads(self):
        """Threads for prediction: the model's ``n_threads`` (all by default)."""
        return v.check_n_threads(self.n_threads)

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
        with parallel_section(self._threads()):
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
        with parallel_section(self._threads()):
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
            "best_epoch": self.best_epoch_,
            "stopped_because": self.stopped_because_,
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
            "shuffle_state": self.shuffle_state_,
            "first_shuffle_state": self.first_shuffle_state_,
        }
        if self.user_grad_sums_ is not None:
            arrays["user_grad_sums"] = self.user_grad_sums_
            arrays["item_grad_sums"] = self.item_grad_sums_
        arrays.update({f"history_{k}": col for k, col in self.history_.items()})
        atomic_write(path, lambda handle: np.savez(handle, **arrays))

    def export_libmf(self, path):
        """Write the model in LIBMF's model text format.

        Row ``j`` of LIBMF's P is ``user_ids_[j]`` and row ``j`` of Q is
        ``item_ids_[j]`` (LIBMF knows indices, not ids). LIBMF has no biases, so a
        biased model gets two extra factor columns that reproduce
        ``mu + b_u + b_i + p_u . q_i`` exactly (see ``fastmf._libmf_model``).
        Values are float32 with 9 significant digits, which round-trip exactly.
        """
        v.check_fitted(self)
        write_libmf_model(
            os.fspath(path), float(self.global_mean_), self.user_factors_,
            self.item_factors_, self.user_bias_, self.item_bias_,
            bool(self.biased),
        )  # fmt: skip

    @classmethod
    def from_libmf(cls, path):
        """A model from a LIBMF model file (squared-error loss), ready to predict.

        Users and items are LIBMF's row indices (integers); rows LIBMF marked as
        having no rating are unknown. Predictions equal LIBMF's ``p_u . q_i``
        for known pairs (to float32 precision) and LIBMF's mean ``b`` otherwise,
        which fastmf represents with ``mu = b`` and one extra factor column.
        There is no training history and no rated-item list.
        """
        b, P, Q, valid_p, valid_q = read_libmf_model(os.fspath(path))
        b = float(np.float32(b))
        P = np.hstack([P, np.ones((P.shape[0], 1), dtype=np.float32)])[valid_p]
        Q = np.hstack([Q, np.full((Q.shape[0], 1), -b, dtype=np.float32)])[valid_q]
        model = cls(n_factors=P.shape[1], dtype="float32")
        model.user_factors_ = np.ascontiguousarray(P)
        model.item_factors_ = np.ascontiguousarray(Q)
        model.user_bias_ = np.zeros(P.shape[0], dtype=np.float32)
        model.item_bias_ = np.zeros(Q.shape[0], dtype=np.float32)
        model.global_mean_ = b
        model.user_ids_ = np.flatnonzero(valid_p).astype(np.int64)
        model.item_ids_ = np.flatnonzero(valid_q).astype(np.int64)
        model.seen_indptr_ = np.zeros(P.shape[0] + 1, dtype=np.int64)
        model.seen_items_ = np.zeros(0, dtype=np.int32)
        model.n_ratings_ = 0
        model.n_duplicates_ = 0
        finite = np.finfo(np.float64)
        model.rating_scale_ = (float(finite.min), float(finite.max))  # no clipping
        model.history_ = {key: np.zeros(0) for key in _training.HISTORY_KEYS}
        model.best_epoch_ = None
        model.stopped_because_ = "imported"
        model.shuffle_state_ = np.zeros(1, dtype=np.uint64)
        model.first_shuffle_state_ = np.zeros(1, dtype=np.uint64)
        model.user_grad_sums_ = model.item_grad_sums_ = None
        return model

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


def _private(array, callers):
    """``array``, copied when it is (a view of) the caller's ``callers`` array."""
    return array.copy() if np.may_share_memory(array, callers) else array


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
    """CSR layout of the rated items of each user: (indptr, items).

    A counting sort: each user's items in the order of the ratings, as
    ``items[argsort(users, kind="stable")]`` gives them, written straight into
    the result (no int64 permutation or copy of the users, no gather).
    """
    users = np.ascontiguousarray(ratings.users, dtype=np.int32)
    indptr = np.zeros(ratings.n_users + 1, dtype=np.int64)
    np.cumsum(kernels.count_rows(users, ratings.n_users), out=indptr[1:])
    items = np.empty(users.size, dtype=np.int32)
    kernels.group_by_row(
        users, np.ascontiguousarray(ratings.items, dtype=np.int32), indptr, items
    )
    return indptr, items


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
    "seen_items", "shuffle_state", "first_shuffle_state",
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
    model.best_epoch_ = metadata.get("best_epoch")
    model.stopped_because_ = metadata.get("stopped_because", "done")
    for name in ("shuffle_state", "first_shuffle_state"):
        if arrays[name].shape != (1,) or arrays[name].dtype != np.uint64:
            fail(f"{name} must be one uint64.")
    model.shuffle_state_ = arrays["shuffle_state"].copy()
    model.first_shuffle_state_ = arrays["first_shuffle_state"].copy()
    model.user_grad_sums_ = model.item_grad_sums_ = None
    if "user_grad_sums" in arrays or "item_grad_sums" in arrays:
        sums = []
        for name, rows in (
            ("user_grad_sums", P.shape[0]),
            ("item_grad_sums", Q.shape[0]),
        ):
            G = arrays.get(name)
            if G is None or G.shape != (rows,) or G.dtype != dtype:
                fail(f"{name} must hold one {dtype} per factor row.")
            if not np.all(np.isfinite(G)) or np.any(G < 1):
                fail(f"{name} must be finite and at least 1.")
            sums.append(G)
        model.user_grad_sums_, model.item_grad_sums_ = sums
    model.history_ = {
        name[len("history_") :]: arrays[name]
        for name in arrays
        if name.startswith("history_")
    }
    return model

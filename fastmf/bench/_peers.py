"""The peer race of ``fastmf bench --peers``: fastmf, Surprise's SVD and LIBMF.

Every contestant trains on the same training split with the same number of factors,
epochs and regularization, and is scored on the same test split by one rule (see
:class:`_TestSet`). The runs alternate round by round, so that whatever else the
machine is doing hits every side alike, and each figure is the median over the
rounds.

LIBMF runs as its own command-line programs, ``mf-train`` and ``mf-predict``, on
text files written to a temporary folder. Its time per epoch is the difference
between a run of many epochs and a run of one, divided by the difference in epochs,
so that starting the program, reading the files and writing the model cancel out.
"""

import contextlib
import math
import os
import signal
import statistics
import subprocess
import tempfile
import time
import warnings

import numpy as np

from .._validation import check_n_threads
from ..data import Ratings, write_libmf
from ..exceptions import DivergenceError
from ..metrics import rmse
from ..model import MatrixFactorization

#: LIBMF's own default learning rate; its rate is adapted per row (AdaGrad-like).
LIBMF_LEARNING_RATE = 0.1

#: Rounds of the race; every figure is the median over them.
PEER_REPEATS = 3

#: Epochs of LIBMF's short run; its long run has the bench's epochs.
LIBMF_SHORT_EPOCHS = 1

#: Fewest epochs the long LIBMF run may have (the difference needs a few).
LIBMF_MIN_EPOCHS = 3

SURPRISE_EXTRA = "fastmf[surprise]"

#: Test pairs scored per block when computing Surprise's predictions.
_BLOCK = 1 << 16


class PeerError(RuntimeError):
    """A peer library could not be run, or its output could not be read."""


def adagrad_available():
    """True when this fastmf's ``MatrixFactorization`` has an ``adagrad`` parameter."""
    return "adagrad" in MatrixFactorization().get_params()


def find_libmf(path):
    """Check LIBMF's ``mf-train`` at ``path`` and ``mf-predict`` beside it.

    Returns ``(mf_train, mf_predict, quiet)``: absolute paths of both programs and
    whether ``mf-train`` accepts ``--quiet`` (read from its usage text).

    Raises
    ------
    PeerError
        When either program is missing or not executable.
    """
    train = os.path.abspath(os.fspath(path))
    predict = os.path.join(os.path.dirname(train), "mf-predict")
    for program, what in ((train, "LIBMF's mf-train"), (predict, "LIBMF's mf-predict")):
        if not os.path.isfile(program):
            raise PeerError(
                f"{what} not found at {program}; build LIBMF yourself and give "
                "the path of its mf-train (mf-predict must sit beside it)."
            )
        if not os.access(program, os.X_OK):
            raise PeerError(f"{what} at {program} is not executable.")
    try:
        usage = subprocess.run(
            [train], capture_output=True, stdin=subprocess.DEVNULL, timeout=30,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PeerError(f"LIBMF's mf-train at {train} could not run: {error}") from None
    text = (usage.stdout + usage.stderr).decode(errors="replace")
    return train, predict, "--quiet" in text


def check_peer_settings(n_epochs, repeats, libmf_learning_rate, libmf, adagrad):
    """Refuse settings the peer race cannot run with, before anything runs."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"--peer-repeats must be an integer >= 1; got {repeats!r}.")
    rate = float(libmf_learning_rate)
    if not (math.isfinite(rate) and rate > 0.0):
        raise ValueError(f"--libmf-lr must be a finite number > 0; got {rate}.")
    if libmf is not None and n_epochs < LIBMF_MIN_EPOCHS:
        raise ValueError(
            f"the LIBMF race needs --epochs >= {LIBMF_MIN_EPOCHS} (its time per "
            f"epoch is the difference between {LIBMF_SHORT_EPOCHS} and --epochs "
            f"epochs); got {n_epochs}."
        )
    if adagrad and not adagrad_available():
        raise ValueError(
            "--adagrad needs a MatrixFactorization with an adagrad parameter; this "
            "fastmf has none."
        )


def run_peers(
    train,
    test,
    *,
    n_factors=100,
    n_epochs=20,
    learning_rate=0.015,
    regularization=0.08,
    n_threads=None,
    seed=0,
    repeats=PEER_REPEATS,
    surprise=True,
    libmf=None,
    libmf_learning_rate=LIBMF_LEARNING_RATE,
    adagrad=False,
    methods=("serial", "blocked"),
    model_params=None,
    progress=None,
):
    """Race fastmf against Surprise's SVD and LIBMF; return the ``peers`` section.

    Parameters
    ----------
    train, test : Ratings
        Training and test ratings sharing id maps.
    n_factors, n_epochs, learning_rate, regularization
        Settings of every contestant (LIBMF gets ``libmf_learning_rate``).
    n_threads : int, optional
        The second thread count (default: all Numba threads); fastmf's blocked
        method and LIBMF run on 1 thread and on this many.
    seed : int
        Seed of fastmf's and Surprise's initial factors and shuffles.
    repeats : int
        Rounds; every figure is the median over them.
    surprise : bool
        Race Surprise's SVD (skipped, with the reason, when it is not installed).
    libmf : str, optional
        Path of LIBMF's ``mf-train``; ``mf-predict`` must sit beside it.
    libmf_learning_rate : float
        LIBMF's ``-r`` (its rate is adapted per row; 0.1 is its own default).
    adagrad : bool
        Also race fastmf's blocked method with ``adagrad=True`` and
        ``learning_rate=libmf_learning_rate``.
    methods : sequence of str
        fastmf methods in the race (serial runs on one thread only).
    model_params : dict, optional
        Further ``MatrixFactorization`` parameters for every fastmf row.
    progress : callable, optional
        Called with a short text before each run.
    """
    say = progress or (lambda text: None)
    check_peer_settings(n_epochs, repeats, libmf_learning_rate, libmf, adagrad)
    extra = dict(model_params or {})
    init_std = extra.get("init_std", MatrixFactorization().init_std)
    n_threads = check_n_threads(n_threads)  # None and -1: every Numba thread
    thread_counts = sorted({1, n_threads})
    train = train.compact()
    tests = _TestSet(train, test)
    settings = {
        "n_factors": n_factors, "n_epochs": n_epochs,
        "learning_rate": learning_rate, "regularization": regularization,
        "seed": seed, "init_std": init_std,
    }  # fmt: skip
    fastmf_rows = _fastmf_contestants(
        train, tests, settings, thread_counts, methods, adagrad,
        libmf_learning_rate, extra,
    )  # fmt: skip
    section = {
        "settings": {
            "repeats": repeats,
            "threads": thread_counts,
            "dtype": "float32",
            "init_std": init_std,
            "libmf_learning_rate": float(libmf_learning_rate) if libmf else None,
            "libmf_epochs": [LIBMF_SHORT_EPOCHS, n_epochs] if libmf else None,
            "model_params": {key: _jsonable(value) for key, value in extra.items()},
        },
        "libmf": None,
        "skipped": [],
        "rows": [],
        "comparisons": [],
    }

    with contextlib.ExitStack() as stack:
        surprise_run = None
        if surprise:
            surprise_run, reason = _surprise_contestant(train, tests, settings)
            if reason:
                section["skipped"].append({"library": "surprise", "reason": reason})
        libmf_runs = {}
        if libmf is not None:
            programs = find_libmf(libmf)
            section["libmf"] = {"mf_train": programs[0], "mf_predict": programs[1]}
            folder = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="fastmf-libmf-")
            )
            say("writing LIBMF's training and test files")
            files = _LibmfFiles(folder, train, tests)
            for threads in thread_counts:
                libmf_runs[threads] = _LibmfContestant(
                    programs, files, threads, settings, libmf_learning_rate, train
                )

        # One round: fastmf on 1 thread, LIBMF on 1 thread, Surprise, fastmf on
        # n threads, LIBMF on n threads, ... so load hits every side alike.
        schedule = []
        for threads in thread_counts:
            schedule += [run for run in fastmf_rows if run.threads == threads]
            if threads in libmf_runs:
                schedule.append(libmf_runs[threads])
            if threads == 1 and surprise_run is not None:
                schedule.append(surprise_run)
        for round_number in range(1, repeats + 1):
            for contestant in schedule:
                say(f"peer race round {round_number}/{repeats}: {contestant.label}")
                contestant.measure()
        for contestant in schedule:
            say(f"scoring {contestant.label}")
            section["rows"].append(contestant.row())

    section["comparisons"] = comparisons(section["rows"])
    return section


def comparisons(rows):
    """Every fastmf row against Surprise and against LIBMF on as many threads.

    Speed ratios are fastmf's rate over the peer's (above 1: fastmf is faster);
    the RMSE difference is fastmf's test RMSE minus the peer's.
    """
    result = []
    peers = [row for row in rows if row["library"] != "fastmf"]
    for row in rows:
        if row["library"] != "fastmf":
            continue
        for peer in peers:
            if peer["library"] == "libmf" and peer["threads"] != row["threads"]:
                continue
            fit_ratio = None
            if peer["library"] == "surprise":
                fit_ratio = _ratio(peer["fit_seconds"], row["fit_seconds"])
            result.append(
                {
                    "fastmf": row["name"],
                    "threads": row["threads"],
                    "peer": peer["name"],
                    "peer_threads": peer["threads"],
                    "epoch_speed_ratio": _ratio(
                        row["ratings_per_second"], peer["ratings_per_second"]
                    ),
                    "sgd_speed_ratio": _ratio(
                        row["sgd_ratings_per_second"], peer["ratings_per_second"]
                    ),
                    "fit_speed_ratio": fit_ratio,
                    "test_rmse_difference": _difference(
                        row["test_rmse"], peer["test_rmse"]
                    ),
                }
            )
    return result


def _ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _difference(a, b):
    return None if a is None or b is None else a - b


def _median(values):
    return float(statistics.median(values)) if values else None


def _jsonable(value):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return repr(value)


class _TestSet:
    """The test ratings and the one rule every contestant is scored by.

    A pair whose user and item both have training ratings gets the contestant's
    prediction. Any other pair gets the fallback: the training mean plus the bias
    of whichever of the two is known for a model with biases (fastmf's and
    Surprise's rule), the training mean for a model without (LIBMF's rule for ids
    it has not seen). Every prediction is then clipped to the lowest and highest
    training rating, as fastmf's ``predict`` clips.
    """

    def __init__(self, train, test):
        self.raw_users = test.raw_users()
        self.raw_items = test.raw_items()
        self.users = train.user_map.lookup(self.raw_users, "users")
        self.items = train.item_map.lookup(self.raw_items, "items")
        self.known = (self.users >= 0) & (self.items >= 0)
        self.values = np.asarray(test.values, dtype=np.float64)
        self.scale = (float(train.values.min()), float(train.values.max()))
        self.mean = float(np.mean(train.values, dtype=np.float64))

    def rmse(self, predictions):
        return rmse(self.values, np.clip(predictions, *self.scale))


# -- fastmf --------------------------------------------------------------------------


def _fastmf_contestants(
    train, tests, settings, thread_counts, methods, adagrad, adagrad_rate, extra
):
    variants = []  # (name, method, threads, parameters)
    for threads in thread_counts:
        for method in methods:
            if method == "serial" and threads != 1:
                continue
            for biased in (True, False):
                suffix = "" if biased else " no-bias"
                variants.append(
                    (f"fastmf {method}{suffix}", method, threads, {"biased": biased})
                )
        if adagrad:
            for biased in (True, False):
                suffix = "" if biased else " no-bias"
                parameters = {
                    "biased": biased, "adagrad": True, "learning_rate": adagrad_rate,
                }  # fmt: skip
                variants.append(
                    (f"fastmf blocked adagrad{suffix}", "blocked", threads, parameters)
                )
    runs = []
    for name, method, threads, parameters in variants:
        params = {
            "n_factors": settings["n_factors"],
            "n_epochs": settings["n_epochs"],
            "learning_rate": settings["learning_rate"],
            "regularization": settings["regularization"],
            "random_state": settings["seed"],
            # Neither peer scores the training set after each epoch (LIBMF runs
            # with --quiet): fastmf reports the errors its pass saw, at no cost.
            "train_rmse": "online",
            **extra,
            "method": method,
            "n_threads": threads,
            "dtype": "float32",
            **parameters,
        }
        MatrixFactorization(**params)._validated_params()
        runs.append(_FastmfContestant(name, threads, params, train, tests))
    return runs


class _FastmfContestant:
    library = "fastmf"

    def __init__(self, name, threads, params, train, tests):
        self.name, self.threads, self.params = name, threads, params
        self.train, self.tests = train, tests
        self.label = f"{name} on {threads} thread(s)"
        self.fit_seconds, self.epoch_seconds, self.sgd_seconds = [], [], []
        self.model = None
        self.failure = None

    def measure(self):
        if self.failure is not None:
            return
        model = MatrixFactorization(**self.params)
        start = time.perf_counter()
        try:
            model.fit(self.train)
        except DivergenceError as error:
            self.failure = f"diverged: {error}"
            return
        self.fit_seconds.append(time.perf_counter() - start)
        self.epoch_seconds.append(float(np.mean(model.history_["seconds"])))
        self.sgd_seconds.append(float(np.mean(model.history_["sgd_seconds"])))
        self.model = model

    def row(self):
        n = self.train.n_ratings
        per_epoch = _median(self.epoch_seconds)
        per_pass = _median(self.sgd_seconds)
        row = {
            "library": "fastmf",
            "name": self.name,
            "method": self.params["method"],
            "threads": self.threads,
            "biased": bool(self.params["biased"]),
            "adagrad": bool(self.params.get("adagrad", False)),
            "learning_rate": float(self.params["learning_rate"]),
            "fit_seconds": _median(self.fit_seconds),
            "seconds_per_epoch": per_epoch,
            "ratings_per_second": n / per_epoch if per_epoch else None,
            "sgd_ratings_per_second": n / per_pass if per_pass else None,
            "test_rmse": self._test_rmse() if self.failure is None else None,
            "rounds": {
                "fit_seconds": self.fit_seconds,
                "seconds_per_epoch": self.epoch_seconds,
                "sgd_seconds_per_epoch": self.sgd_seconds,
            },
            "train_rmse": self.params["train_rmse"],
            "note": self.failure or self._note(),
        }
        return row

    def _note(self):
        if self.params["train_rmse"] == "online":
            return (
                "epoch = shuffle + SGD pass (history_); fit adds the one-off setup "
                "(train_rmse='online': like the peers, no pass over the training set)"
            )
        return (
            "epoch = shuffle + SGD pass (history_); fit adds the one-off setup and "
            "a training-RMSE pass after every epoch (train_rmse='exact')"
        )

    def _test_rmse(self):
        tests = self.tests
        predictions, unknown = self.model.predict(
            tests.raw_users, tests.raw_items, return_unknown=True, clip=False
        )
        if not self.params["biased"]:
            predictions[unknown] = tests.mean  # the model's own fallback is 0
        return tests.rmse(predictions)


# -- Surprise ------------------------------------------------------------------------


def _surprise_contestant(train, tests, settings):
    """``(contestant, None)``, or ``(None, reason)`` when Surprise cannot run."""
    try:
        import surprise
    except ImportError:
        return None, (
            f"Surprise's SVD skipped: scikit-surprise is not installed (pip install "
            f"'{SURPRISE_EXTRA}')"
        )
    try:
        import pandas
    except ImportError:
        return None, (
            "Surprise's SVD skipped: loading the ratings into Surprise needs pandas "
            "(pip install 'fastmf[pandas]')"
        )
    return _SurpriseContestant(surprise, pandas, train, tests, settings), None


class _SurpriseContestant:
    library = "surprise"
    name = "Surprise SVD"
    threads = 1
    label = "Surprise's SVD on 1 thread"

    def __init__(self, surprise, pandas, train, tests, settings):
        self.surprise, self.train, self.tests = surprise, train, tests
        self.settings = settings
        # Surprise's raw ids are fastmf's training indices; Surprise renumbers
        # them in the order they first occur.
        frame = pandas.DataFrame(
            {"user": train.users, "item": train.items, "rating": train.values}
        )
        reader = surprise.Reader(rating_scale=tests.scale)
        data = surprise.Dataset.load_from_df(frame, reader)
        self.trainset = data.build_full_trainset()
        self.fit_seconds = []
        self.algo = None

    def measure(self):
        s = self.settings
        algo = self.surprise.SVD(
            n_factors=s["n_factors"], n_epochs=s["n_epochs"], lr_all=s["learning_rate"],
            reg_all=s["regularization"], init_std_dev=s["init_std"], biased=True,
            random_state=s["seed"],
        )  # fmt: skip
        start = time.perf_counter()
        algo.fit(self.trainset)
        self.fit_seconds.append(time.perf_counter() - start)
        self.algo = algo

    def row(self):
        fit = _median(self.fit_seconds)
        per_epoch = fit / self.settings["n_epochs"]
        return {
            "library": "surprise",
            "name": self.name,
            "version": self.surprise.__version__,
            "threads": 1,
            "biased": True,
            "adagrad": False,
            "learning_rate": float(self.settings["learning_rate"]),
            "fit_seconds": fit,
            "seconds_per_epoch": per_epoch,
            "ratings_per_second": self.train.n_ratings / per_epoch,
            "sgd_ratings_per_second": None,
            "test_rmse": self.tests.rmse(surprise_predictions(self.algo, self.tests)),
            "rounds": {"fit_seconds": self.fit_seconds},
            "note": "per epoch = fit time / epochs",
        }


def surprise_predictions(algo, tests):
    """Unclipped predictions of a fitted ``surprise.SVD`` for the test pairs.

    Surprise's own rule: ``mu + b_u + b_i + q_i . p_u``, with the terms of an
    unknown user or item left out. Computed from its arrays, a block at a time.
    """
    trainset = algo.trainset
    users = _inner_ids(tests.users, trainset.n_users, trainset.to_inner_uid)
    items = _inner_ids(tests.items, trainset.n_items, trainset.to_inner_iid)
    out = np.full(users.size, trainset.global_mean, dtype=np.float64)
    for lo in range(0, users.size, _BLOCK):
        u, i = users[lo : lo + _BLOCK], items[lo : lo + _BLOCK]
        block = out[lo : lo + _BLOCK]
        known_u, known_i = u >= 0, i >= 0
        block[known_u] += algo.bu[u[known_u]]
        block[known_i] += algo.bi[i[known_i]]
        both = known_u & known_i
        block[both] += np.einsum(
            "ij,ij->i", algo.pu[u[both]], algo.qi[i[both]], dtype=np.float64
        )
    return out


def _inner_ids(indices, n, to_inner):
    """Surprise's inner id of each training index (-1 stays -1)."""
    inner_of = np.array([to_inner(index) for index in range(n)], dtype=np.int64)
    return np.where(indices >= 0, inner_of[np.maximum(indices, 0)], -1)


# -- LIBMF ---------------------------------------------------------------------------


class _LibmfFiles:
    """LIBMF's text files of the training ratings and of the known test pairs."""

    def __init__(self, folder, train, tests):
        self.folder, self.tests = folder, tests
        self.train = os.path.join(folder, "train.txt")
        self.test = os.path.join(folder, "test.txt")
        known = tests.known
        self.n_test = int(known.sum())
        test = Ratings.from_arrays(
            tests.users[known], tests.items[known], tests.values[known],
            shape=train.shape,
        )  # fmt: skip
        with warnings.catch_warnings():
            # LIBMF reads float32 values; rounding to them is expected here.
            warnings.filterwarnings("ignore", "write_libmf", UserWarning)
            write_libmf(train, self.train)
            write_libmf(test, self.test)

    def path(self, name):
        return os.path.join(self.folder, name)


class _LibmfContestant:
    library = "libmf"
    name = "LIBMF"

    def __init__(self, programs, files, threads, settings, learning_rate, train):
        self.mf_train, self.mf_predict, self.quiet = programs
        self.files, self.threads, self.settings = files, threads, settings
        self.learning_rate = float(learning_rate)
        self.n_ratings = train.n_ratings
        self.label = f"LIBMF on {threads} thread(s)"
        self.short_seconds, self.long_seconds = [], []
        self.model = files.path(f"model-{threads}-long.txt")

    def command(self, n_epochs, model):
        s = self.settings
        return [
            self.mf_train,
            "-f", "0",
            "-k", str(s["n_factors"]),
            "-t", str(n_epochs),
            "-l2", repr(float(s["regularization"])),
            "-r", repr(self.learning_rate),
            "-s", str(self.threads),
            *(["--quiet"] if self.quiet else []),
            self.files.train,
            model,
        ]  # fmt: skip

    def measure(self):
        short = self.files.path(f"model-{self.threads}-short.txt")
        self.short_seconds.append(self._train(LIBMF_SHORT_EPOCHS, short))
        self.long_seconds.append(self._train(self.settings["n_epochs"], self.model))

    def _train(self, n_epochs, model):
        with contextlib.suppress(FileNotFoundError):
            os.remove(model)
        command = self.command(n_epochs, model)
        start = time.perf_counter()
        _run(command)
        seconds = time.perf_counter() - start
        if not os.path.isfile(model):
            raise PeerError(
                f"LIBMF's {self.mf_train} exited normally but wrote no model file "
                f"(command: {' '.join(command)})."
            )
        return seconds

    def row(self):
        long_epochs = self.settings["n_epochs"]
        short, long = _median(self.short_seconds), _median(self.long_seconds)
        per_epoch = (long - short) / (long_epochs - LIBMF_SHORT_EPOCHS)
        note = (
            f"per epoch = (median run of {long_epochs} epochs − median run of "
            f"{LIBMF_SHORT_EPOCHS}) / {long_epochs - LIBMF_SHORT_EPOCHS}"
        )
        if per_epoch <= 0.0:
            per_epoch = None
            note = (
                f"the {long_epochs}-epoch runs were not slower than the "
                f"{LIBMF_SHORT_EPOCHS}-epoch runs: per-epoch time not resolved "
                "(raise --epochs)"
            )
        command = self.command(long_epochs, "model.txt")
        command[0] = os.path.basename(command[0])
        command[-2] = os.path.basename(command[-2])
        return {
            "library": "libmf",
            "name": self.name,
            "threads": self.threads,
            "biased": False,
            "adagrad": True,
            "learning_rate": self.learning_rate,
            "fit_seconds": long,
            "seconds_per_epoch": per_epoch,
            "ratings_per_second": self.n_ratings / per_epoch if per_epoch else None,
            "sgd_ratings_per_second": None,
            "test_rmse": self._test_rmse(),
            "command": command,
            "rounds": {
                "short_seconds": self.short_seconds,
                "long_seconds": self.long_seconds,
            },
            "note": note,
        }

    def _test_rmse(self):
        tests = self.files.tests
        predictions = np.full(tests.values.size, tests.mean, dtype=np.float64)
        if self.files.n_test:
            out = self.files.path(f"predictions-{self.threads}.txt")
            _run([self.mf_predict, "-e", "0", self.files.test, self.model, out])
            known = _read_predictions(out, self.mf_predict)
            if known.size != self.files.n_test:
                raise PeerError(
                    f"LIBMF's {self.mf_predict} wrote {known.size:,} predictions for "
                    f"{self.files.n_test:,} test pairs."
                )
            predictions[tests.known] = known
        return tests.rmse(predictions)


def _read_predictions(path, program):
    try:
        with open(path, "rb") as handle:
            text = handle.read()
        return np.array(text.split(), dtype=np.float64)
    except (OSError, ValueError) as error:
        raise PeerError(
            f"could not read the predictions of LIBMF's {program}: {error}"
        ) from None


def _run(command):
    """Run a LIBMF program; PeerError naming it and its message when it fails."""
    program = command[0]
    try:
        result = subprocess.run(
            command, capture_output=True, stdin=subprocess.DEVNULL, check=False
        )
    except OSError as error:
        raise PeerError(f"LIBMF's {program} could not run: {error}") from None
    if result.returncode != 0:
        if result.returncode < 0:
            try:
                status = f"killed by {signal.Signals(-result.returncode).name}"
            except ValueError:
                status = f"killed by signal {-result.returncode}"
        else:
            status = f"exit status {result.returncode}"
        raise PeerError(f"LIBMF's {program} failed ({status}): {_message(result)}")
    return result


def _message(result):
    """LIBMF's complaint on one line: its stderr, else the start of its stdout."""
    for stream in (result.stderr, result.stdout):
        lines = [
            line.strip()
            for line in stream.decode(errors="replace").splitlines()
            if line.strip()
        ]
        if lines:
            text = " | ".join(lines[:3])
            return text if len(text) <= 300 else text[:297] + "..."
    return "no message"

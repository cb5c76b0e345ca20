"""The reported cases CASE-01, 09, 19, 25, 26, 34 and 37, through the API and CLI.

Each case keeps its tiny data inline, under a comment naming the case.
"""

import json
import math
import random
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

from fastmf import (
    DivergenceError,
    MatrixFactorization,
    NotFittedError,
    Ratings,
    read_ratings,
    rmse,
)
from fastmf.cli import main

METHODS = ["serial", "hogwild"]


def _columns(rows):
    """(users, items, values) lists from 'user,item,rating' lines."""
    fields = [line.split(",") for line in rows.split()]
    return (
        [f[0] for f in fields],
        [f[1] for f in fields],
        [float(f[2]) for f in fields],
    )


def _as_integer_csv(users, items, values):
    """The ratings as CSV text with ids numbered 1, 2, ... (the reader's ids are
    integers), and the user and item numbering used."""
    user_code = {u: k + 1 for k, u in enumerate(sorted(set(users)))}
    item_code = {i: k + 1 for k, i in enumerate(sorted(set(items)))}
    text = "".join(
        f"{user_code[u]},{item_code[i]},{v:g}\n"
        for u, i, v in zip(users, items, values, strict=True)
    )
    return text, user_code, item_code


def _cli(capsys, *argv):
    """Run ``fastmf`` in process: (exit status, stdout, stderr lines)."""
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err.splitlines()


def _assert_one_clear_error_line(err_lines, *needles):
    """Exactly one error line, without a traceback, holding every needle."""
    errors = [line for line in err_lines if line.startswith("fastmf train: error: ")]
    assert len(errors) == 1, err_lines
    assert not any("Traceback" in line for line in err_lines), err_lines
    others = [line for line in err_lines if line not in errors]
    progress = ("read ", "epoch ", "training on ")
    assert all(line.startswith(progress) for line in others), err_lines
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def _assert_unfitted(model):
    assert not hasattr(model, "user_factors_")
    with pytest.raises(NotFittedError, match=r"not fitted yet; call fit"):
        model.predict("a", "p")


# -- CASE-01: heavy-tailed rating values must not end in silent NaN -----------------

# CASE-01 data: user,item,rating with two ratings in the hundreds.
CASE_01 = """
a,p,1
a,q,1
b,p,1
b,r,1
c,q,1
c,r,2
d,p,1
d,s,240
e,s,660
e,q,1
"""
CASE_01_PARAMS = {
    "n_factors": 4,
    "n_epochs": 30,
    "learning_rate": 0.05,
    "regularization": 0.02,
    "random_state": 0,
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("method", METHODS)
def test_case_01_heavy_tail_either_finite_or_divergence_error(method, dtype):
    model = MatrixFactorization(**CASE_01_PARAMS, method=method, dtype=dtype)

    try:
        model.fit(_columns(CASE_01))
    except DivergenceError as error:
        message = str(error)
        assert 1 <= error.epoch <= 30
        assert f"diverged in epoch {error.epoch}" in message
        assert "smaller learning_rate" in message
        assert isinstance(error, FloatingPointError)
        _assert_unfitted(model)
        return

    for name in ("user_factors_", "item_factors_", "user_bias_", "item_bias_"):
        assert np.all(np.isfinite(getattr(model, name))), name
    assert math.isfinite(model.global_mean_)
    assert np.all(np.isfinite(model.predict(["a", "e"], ["s", "p"])))


def test_case_01_divergence_names_the_first_non_finite_epoch():
    # Serial training is reproducible, so stopping one epoch earlier must succeed
    # with finite parameters when the error names the first bad epoch.
    params = dict(CASE_01_PARAMS, method="serial")
    try:
        MatrixFactorization(**params).fit(_columns(CASE_01))
    except DivergenceError as error:
        epoch = error.epoch
    else:
        pytest.skip("CASE-01 trains to finite values here; nothing diverges")

    if epoch > 1:
        earlier = MatrixFactorization(**dict(params, n_epochs=epoch - 1))
        earlier.fit(_columns(CASE_01))
        assert np.all(np.isfinite(earlier.user_factors_))
        assert np.all(np.isfinite(earlier.history_["train_rmse"]))
    with pytest.raises(DivergenceError) as again:
        MatrixFactorization(**dict(params, n_epochs=epoch)).fit(_columns(CASE_01))
    assert again.value.epoch == epoch


def test_case_01_divergence_clears_an_earlier_fit():
    model = MatrixFactorization(**CASE_01_PARAMS, dtype="float64")
    model.set_params(learning_rate=0.001).fit(_columns(CASE_01))
    assert np.all(np.isfinite(model.predict(["a", "e"], ["s", "p"])))

    model.set_params(learning_rate=0.05)
    try:
        model.fit(_columns(CASE_01))
    except DivergenceError:
        _assert_unfitted(model)
    else:
        assert np.all(np.isfinite(model.predict(["a", "e"], ["s", "p"])))


def test_case_01_cli_exits_non_zero_with_one_line(tmp_path, capsys):
    text, _, _ = _as_integer_csv(*_columns(CASE_01))
    path = tmp_path / "heavy.csv"
    path.write_text(text)

    status, out, err = _cli(
        capsys, "train", path, "--factors", 4, "--epochs", 30,
        "--lr", 0.05, "--reg", 0.02, "--seed", 0,
    )  # fmt: skip

    assert out == ""  # progress goes to stderr only
    if status == 0:
        epochs = [line for line in err if line.startswith("epoch")]
        assert not any("nan" in e.lower() or "inf" in e.lower() for e in epochs)
        assert len(epochs) == 30
    else:
        assert status == 1
        _assert_one_clear_error_line(err, "diverged in epoch", "learning")


# -- CASE-09: a rating of 0 is a rating ---------------------------------------------

# CASE-09 data: scale 0..10, three explicit zeros.
CASE_09 = """
a,x,0
a,y,10
b,x,0
b,z,6
c,y,0
c,z,8
"""


def test_case_09_zero_ratings_are_trained_on():
    users, items, values = _columns(CASE_09)

    model = MatrixFactorization(n_factors=2, random_state=0).fit((users, items, values))

    assert model.n_ratings_ == 6
    assert model.global_mean_ == 4.0  # (0 + 10 + 0 + 6 + 0 + 8) / 6, not 24 / 3
    prediction, unknown = model.predict("d", "w", return_unknown=True)
    assert prediction == 4.0 and unknown


def test_case_09_first_epoch_rmse_is_over_all_six_rows():
    users, items, values = _columns(CASE_09)

    model = MatrixFactorization(
        n_factors=2, n_epochs=1, random_state=0, dtype="float64"
    ).fit((users, items, values))

    errors = np.array(values) - model.predict(users, items)
    over_six = math.sqrt(np.sum(errors**2) / 6)
    assert model.history_["train_rmse"][0] == pytest.approx(over_six, rel=1e-9)


@pytest.mark.parametrize(
    "build",
    [
        lambda u, i, v: Ratings.from_raw_ids(u, i, v),
        lambda u, i, v: Ratings.from_scipy(_explicit_zero_csr(u, i, v)),
        lambda u, i, v: Ratings.from_dense(_dense_with_nan_holes(u, i, v), np.nan),
    ],
    ids=["raw-ids", "scipy-explicit-zeros", "dense-nan-holes"],
)
def test_case_09_zero_ratings_survive_every_container(build):
    users, items, values = _columns(CASE_09)

    ratings = build(users, items, values)
    model = MatrixFactorization(n_factors=2, n_epochs=2, random_state=0).fit(ratings)

    assert ratings.n_ratings == 6 and model.n_ratings_ == 6
    assert model.global_mean_ == 4.0


def _codes(users, items):
    u = {name: k for k, name in enumerate(sorted(set(users)))}
    i = {name: k for k, name in enumerate(sorted(set(items)))}
    return [u[x] for x in users], [i[x] for x in items], (len(u), len(i))


def _explicit_zero_csr(users, items, values):
    import scipy.sparse as sp

    rows, cols, shape = _codes(users, items)
    matrix = sp.csr_matrix((values, (rows, cols)), shape=shape)
    assert matrix.nnz == 6
    return matrix


def _dense_with_nan_holes(users, items, values):
    rows, cols, shape = _codes(users, items)
    matrix = np.full(shape, np.nan)
    matrix[rows, cols] = values
    return matrix


def test_case_09_cli_reads_and_trains_on_six_ratings(tmp_path, capsys):
    text, _, _ = _as_integer_csv(*_columns(CASE_09))
    path = tmp_path / "zeros.csv"
    path.write_text(text)

    status, out, err = _cli(
        capsys, "train", path, "--factors", 2, "--epochs", 1, "--seed", 0
    )

    assert status == 0, err
    assert out == ""
    assert err[0].startswith("read 6 ratings of 3 users on 3 items")
    # The CLI trains what the API trains from the same file; its epoch-1 RMSE is
    # over all six rows.
    ratings = read_ratings(path)
    model = MatrixFactorization(n_factors=2, n_epochs=1, random_state=0).fit(ratings)
    raw = model.predict(ratings.raw_users(), ratings.raw_items(), clip=False)
    errors = ratings.values - raw
    over_six = math.sqrt(np.mean(errors**2))
    assert model.history_["train_rmse"][0] == pytest.approx(over_six, rel=1e-5)
    assert f"train RMSE {model.history_['train_rmse'][0]:.4f}" in "\n".join(err)


# -- CASE-19: same seed, same result (serial training) ------------------------------

# CASE-19 uses the six ratings of CASE-15.
CASE_15 = """
u1,i1,5
u1,i2,3
u2,i1,4
u2,i3,1
u3,i2,2
u3,i3,5
"""
ALL_USERS = ["u1", "u1", "u1", "u2", "u2", "u2", "u3", "u3", "u3"]
ALL_ITEMS = ["i1", "i2", "i3"] * 3


def _fit_case_19(seed, dtype):
    model = MatrixFactorization(
        n_factors=2, method="serial", random_state=seed, dtype=dtype
    )
    return model.fit(_columns(CASE_15))


def _fitted_arrays(model):
    return {
        "P": model.user_factors_,
        "Q": model.item_factors_,
        "bu": model.user_bias_,
        "bi": model.item_bias_,
        "train_rmse": model.history_["train_rmse"],
        "predictions": model.predict(ALL_USERS, ALL_ITEMS),
    }


def _global_states_equal(before, after):
    kind, keys, *rest = before
    kind2, keys2, *rest2 = after
    return kind == kind2 and np.array_equal(keys, keys2) and rest == rest2


@pytest.fixture
def global_rng_restored():
    """CASE-19 touches NumPy's and Python's global generators on purpose, as user
    code would; put them back afterwards so no other test sees the change."""
    numpy_state = np.random.get_state()  # noqa: NPY002
    python_state = random.getstate()
    yield
    np.random.set_state(numpy_state)  # noqa: NPY002
    random.setstate(python_state)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_case_19_same_seed_bit_identical_despite_global_rng_use(
    dtype, global_rng_restored
):
    numpy_state = np.random.get_state()  # noqa: NPY002
    python_state = random.getstate()
    first = _fitted_arrays(_fit_case_19(42, dtype))
    # Fitting neither reads nor advances the global generators.
    assert _global_states_equal(numpy_state, np.random.get_state())  # noqa: NPY002
    assert random.getstate() == python_state

    # User code between the fits: the legacy global API, used deliberately.
    np.random.seed(0)  # noqa: NPY002
    np.random.rand(5)  # noqa: NPY002
    random.random()
    second = _fitted_arrays(_fit_case_19(42, dtype))
    other = _fitted_arrays(_fit_case_19(43, dtype))

    for name, array in first.items():
        assert np.array_equal(array, second[name]), name
    assert not np.array_equal(first["P"], other["P"])
    assert not np.array_equal(first["Q"], other["Q"])


def test_case_19_same_seed_in_a_new_process(tmp_path):
    output = tmp_path / "fit.npz"
    script = textwrap.dedent(
        f"""
        import json, sys
        import numpy as np
        from fastmf import MatrixFactorization
        users, items, values, all_users, all_items = json.loads(sys.argv[1])
        model = MatrixFactorization(
            n_factors=2, method="serial", random_state=42, dtype="float32"
        ).fit((users, items, values))
        np.savez(
            {str(output)!r},
            P=model.user_factors_, Q=model.item_factors_,
            bu=model.user_bias_, bi=model.item_bias_,
            train_rmse=model.history_["train_rmse"],
            predictions=model.predict(all_users, all_items),
        )
        """
    )
    payload = json.dumps([*_columns(CASE_15), ALL_USERS, ALL_ITEMS])

    subprocess.run([sys.executable, "-c", script, payload], check=True, timeout=120)

    here = _fitted_arrays(_fit_case_19(42, "float32"))
    with np.load(output) as there:
        for name, array in here.items():
            assert np.array_equal(array, there[name]), name


# -- CASE-25: RMSE is sqrt(mean of squared errors) over all rows --------------------

# CASE-25 data: user, true rating, prediction.
CASE_25_USERS = ["a", "a", "b", "b"]
CASE_25_TRUE = [1.0, 2.0, 3.0, 4.0]
CASE_25_PRED = [2.0, 2.0, 3.0, 6.0]
CASE_25_RMSE = 1.118033988749895
PER_USER_MEAN_RMSE = 1.0606601717798214  # (sqrt(1/2) + sqrt(4/2)) / 2


def test_case_25_metric_function():
    value = rmse(CASE_25_TRUE, CASE_25_PRED)

    assert value == pytest.approx(CASE_25_RMSE, abs=1e-12)
    assert value == pytest.approx(math.sqrt((1 + 0 + 0 + 4) / 4), abs=1e-12)
    assert abs(value - PER_USER_MEAN_RMSE) > 1e-3
    assert abs(value - 0.75) > 1e-3


def test_case_25_every_thread_count_gives_the_same_value():
    previous = numba.get_num_threads()
    values = []
    try:
        for threads in range(1, numba.config.NUMBA_NUM_THREADS + 1):
            numba.set_num_threads(threads)
            values.append(rmse(CASE_25_TRUE, CASE_25_PRED))
    finally:
        numba.set_num_threads(previous)

    assert values == [values[0]] * len(values)
    assert values[0] == pytest.approx(CASE_25_RMSE, abs=1e-12)


def test_case_25_empty_and_nan_inputs():
    with pytest.raises(ValueError, match=r"empty"):
        rmse([], [])
    with pytest.raises(ValueError, match=r"y_pred must be finite; entry 3 is nan"):
        rmse(CASE_25_TRUE, [2.0, 2.0, 3.0, np.nan])


def _model_forced_to_case_25():
    """A fitted model whose four predictions are exactly CASE_25_PRED.

    Every (user, item) pair has its own item; with no mean and no biases, user
    factors of 1 and item factor = the forced prediction, p_u . q_i is that value.
    """
    items = ["i1", "i2", "i3", "i4"]
    model = MatrixFactorization(
        n_factors=1, n_epochs=1, random_state=0, dtype="float64"
    )
    model.fit((CASE_25_USERS, items, CASE_25_TRUE))
    order = model.item_ids_.tolist()
    model.global_mean_ = 0.0
    model.user_bias_ = np.zeros_like(model.user_bias_)
    model.item_bias_ = np.zeros_like(model.item_bias_)
    model.user_factors_ = np.ones_like(model.user_factors_)
    model.item_factors_ = np.array(
        [[CASE_25_PRED[items.index(item)]] for item in order], dtype=np.float64
    )
    return model, items


def test_case_25_model_with_forced_predictions():
    model, items = _model_forced_to_case_25()

    predictions = model.predict(CASE_25_USERS, items, clip=False)

    np.testing.assert_array_equal(predictions, CASE_25_PRED)
    assert rmse(CASE_25_TRUE, predictions) == pytest.approx(CASE_25_RMSE, abs=1e-12)


def test_case_25_history_rmse_is_over_all_rows():
    # Train and validation RMSE of a real fit equal the all-rows formula applied
    # to the model's own predictions, never a per-user or per-batch average.
    users = ["a", "a", "b", "b", "c", "c", "c"]
    items = ["x", "y", "x", "z", "y", "z", "w"]
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0]
    valid = (["a", "b", "c", "a"], ["z", "y", "x", "w"], [3.0, 1.0, 4.0, 2.0])

    model = MatrixFactorization(
        n_factors=3, n_epochs=5, random_state=1, dtype="float64"
    )
    model.fit((users, items, values), validation=valid)

    train_errors = np.array(values) - model.predict(users, items)
    valid_errors = np.array(valid[2]) - model.predict(valid[0], valid[1])
    assert model.history_["train_rmse"][-1] == pytest.approx(
        math.sqrt(np.mean(train_errors**2)), rel=1e-9
    )
    assert model.history_["validation_rmse"][-1] == pytest.approx(
        math.sqrt(np.mean(valid_errors**2)), rel=1e-9
    )


# -- CASE-26: CSV with a header row -------------------------------------------------

# CASE-26 data: a MovieLens-style ratings.csv.
CASE_26 = """userId,movieId,rating,timestamp
1,31,2.5,1260759144
1,1029,3.0,1260759179
2,10,4.0,835355493
"""


@pytest.fixture
def case_26_files(tmp_path):
    with_header = tmp_path / "ratings.csv"
    with_header.write_text(CASE_26)
    without = tmp_path / "noheader.csv"
    without.write_text(CASE_26.split("\n", 1)[1])
    return with_header, without


def _assert_case_26_ratings(ratings):
    assert ratings.n_ratings == 3
    assert ratings.user_map.ids.dtype.kind == "i"  # no id called "userId"
    assert set(ratings.raw_users().tolist()) == {1, 2}
    assert ratings.raw_items().tolist() == [31, 1029, 10]
    assert ratings.values.tolist() == [2.5, 3.0, 4.0]


def test_case_26_python_loader(case_26_files):
    with_header, without = case_26_files

    _assert_case_26_ratings(read_ratings(with_header))
    _assert_case_26_ratings(read_ratings(with_header, header=True))
    _assert_case_26_ratings(read_ratings(without))
    _assert_case_26_ratings(
        read_ratings(with_header, columns=("userId", "movieId", "rating"))
    )


def test_case_26_cli_default_and_header_option(case_26_files, capsys):
    with_header, without = case_26_files

    for argv in ([with_header], [with_header, "--header"], [without]):
        status, out, err = _cli(capsys, "train", *argv, "--factors", 2, "--epochs", 1)
        assert status == 0 and out == "", err
        assert err[0].startswith("read 3 ratings of 2 users on 3 items"), err
        assert any(line.startswith("epoch   1") for line in err)


def test_case_26_cli_no_header_fails_with_one_line(case_26_files, capsys):
    with_header, _ = case_26_files

    status, out, err = _cli(capsys, "train", with_header, "--no-header")

    assert status == 1 and out == ""
    assert len(err) == 1
    _assert_one_clear_error_line(
        err, str(with_header), "line 1", "'userId'", "--header"
    )


# -- CASE-34: empty input gives a clear error ---------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        ([], [], []),
        (np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([])),
        (np.array([], dtype=str), np.array([], dtype=str), np.array([])),
        Ratings.from_arrays([], [], []),
    ],
    ids=["lists", "int-arrays", "str-arrays", "Ratings"],
)
def test_case_34_empty_data_is_a_value_error(data):
    model = MatrixFactorization(n_factors=2, n_epochs=1, random_state=0)

    with pytest.raises(ValueError, match=r"no ratings to train on"):
        model.fit(data)

    _assert_unfitted(model)


def test_case_34_mismatched_lengths_name_the_three_lengths():
    model = MatrixFactorization(n_factors=2, n_epochs=1, random_state=0)

    with pytest.raises(ValueError, match=r"users has 3, items has 2, values has 3"):
        model.fit((["a", "b", "c"], ["x", "y"], [1.0, 2.0, 3.0]))

    _assert_unfitted(model)


def test_case_34_failed_fit_leaves_an_earlier_fit_unfitted():
    model = MatrixFactorization(n_factors=2, n_epochs=1, random_state=0)
    model.fit((["a"], ["p"], [3.0]))
    assert model.predict("a", "p") == pytest.approx(3.0, abs=0.5)

    with pytest.raises(ValueError, match=r"no ratings to train on"):
        model.fit(([], [], []))

    _assert_unfitted(model)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("userId,movieId,rating\n", "holds no ratings (only a header line)"),
        ("", "the file is empty"),
    ],
    ids=["header-only", "empty"],
)
def test_case_34_cli_empty_file(tmp_path, capsys, text, reason):
    path = tmp_path / "ratings.csv"
    path.write_text(text)

    status, out, err = _cli(capsys, "train", path)

    assert status == 1 and out == ""
    assert len(err) == 1
    _assert_one_clear_error_line(err, str(path), reason)


# -- CASE-37: factor initialisation must break symmetry -----------------------------


def _case_37_synthetic():
    """CASE-37 data: 300 users × 200 items, 6,000 ratings from a rank-3 model
    plus noise, clipped to 1..5, drawn with seed 7."""
    generator = np.random.default_rng(7)
    keys = generator.choice(300 * 200, size=6_000, replace=False)
    users, items = keys // 200, keys % 200
    P = generator.normal(0.0, 0.8, (300, 3))
    Q = generator.normal(0.0, 0.8, (200, 3))
    planted = np.einsum("ij,ij->i", P[users], Q[items])
    values = np.clip(np.rint(3 + planted + generator.normal(0, 0.3, 6_000)), 1, 5)
    return users, items, values


def _assert_columns_differ(factors):
    spread = factors.std(axis=1)  # across the k columns of each row
    assert np.mean(spread > 1e-6) > 0.9, spread
    assert not np.allclose(factors, factors[:, :1])


@pytest.mark.parametrize("method", METHODS)
def test_case_37_six_ratings_rows_are_not_constant(method):
    model = MatrixFactorization(n_factors=4, random_state=0, method=method)

    model.fit(_columns(CASE_15))

    _assert_columns_differ(model.user_factors_)
    _assert_columns_differ(model.item_factors_)


@pytest.mark.parametrize("method", METHODS)
def test_case_37_synthetic_factors_have_full_rank(method):
    users, items, values = _case_37_synthetic()
    model = MatrixFactorization(n_factors=4, random_state=0, method=method)

    model.fit((users, items, values))

    user_rank = np.linalg.matrix_rank(model.user_factors_)
    item_rank = np.linalg.matrix_rank(model.item_factors_)
    assert user_rank > 1, user_rank
    assert user_rank == 4 and item_rank == 4, (user_rank, item_rank)
    _assert_columns_differ(model.user_factors_)
    _assert_columns_differ(model.item_factors_)


def test_case_37_constant_initialisation_is_refused():
    with pytest.raises(ValueError, match=r"init_std must be > 0; got 0\.0"):
        MatrixFactorization(init_std=0).fit(_columns(CASE_15))

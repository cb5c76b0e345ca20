"""MatrixFactorization: fitting, predicting, recommending, saving, failing cleanly."""

import numpy as np
import pytest

from fastmf import (
    DivergenceError,
    MatrixFactorization,
    NotFittedError,
    Ratings,
    read_ratings,
    train_test_split,
)
from fastmf.model import initial_state
from fastmf.reference import ReferenceMF


@pytest.fixture
def small(rng):
    """300 ratings of 30 users on 20 items from a rank-2 model, raw ids offset."""
    users = rng.integers(0, 30, 400)
    items = rng.integers(0, 20, 400)
    keys = np.unique(users * 20 + items)[:300]
    users, items = keys // 20, keys % 20
    P = rng.normal(0, 1, (30, 2))
    Q = rng.normal(0, 1, (20, 2))
    values = np.clip(3 + np.einsum("ij,ij->i", P[users], Q[items]), 1, 5)
    return users + 1000, items * 7, values


def test_fit_returns_self_and_sets_fitted_attributes(small):
    model = MatrixFactorization(n_factors=4, n_epochs=3, random_state=0)
    assert model.fit(small) is model
    users, items, values = small
    assert model.user_factors_.shape == (np.unique(users).size, 4)
    assert model.item_factors_.shape == (np.unique(items).size, 4)
    assert model.user_factors_.dtype == np.float32
    assert model.global_mean_ == pytest.approx(values.mean())
    np.testing.assert_array_equal(model.user_ids_, np.unique(users))
    assert list(model.history_["epoch"]) == [1, 2, 3]
    assert model.n_ratings_ == values.size


def test_fit_matches_the_reference_from_the_same_start(small):
    # The model's whole training loop (not just a kernel) against the reference.
    users, items, values = small
    ratings = Ratings.from_raw_ids(users, items, values)
    model = MatrixFactorization(
        n_factors=3, n_epochs=5, learning_rate=0.02, regularization=0.03,
        dtype="float64", random_state=7,
    ).fit(ratings)  # fmt: skip

    P, Q, state = initial_state(7, ratings.n_users, ratings.n_items, 3, 0.05, "float64")
    reference = ReferenceMF(
        ratings.users, ratings.items, ratings.values, P, Q, 0.02, 0.03
    )
    from fastmf.kernels import shuffle_inplace

    position = np.arange(ratings.n_ratings, dtype=np.int64)
    costs = []
    for _ in range(5):
        shuffle_inplace(position, state)
        reference.run_epoch(position)
        costs.append(reference.cost())

    np.testing.assert_allclose(model.user_factors_, reference.P, atol=1e-12)
    np.testing.assert_allclose(model.item_bias_, reference.b_i, atol=1e-12)
    np.testing.assert_allclose(model.history_["train_rmse"], costs, atol=1e-12)


def test_training_reduces_the_error_and_history_has_one_row_per_epoch(small):
    model = MatrixFactorization(n_factors=4, n_epochs=15, random_state=0).fit(
        small, validation=small
    )
    history = model.history_
    assert set(history) == {
        "epoch", "train_rmse", "validation_rmse", "seconds", "sgd_seconds",
        "ratings_per_second",
    }  # fmt: skip
    assert all(len(column) == 15 for column in history.values())
    assert history["train_rmse"][-1] < history["train_rmse"][0]
    # Scoring the training set as validation reproduces the training RMSE.
    np.testing.assert_allclose(history["validation_rmse"], history["train_rmse"])
    assert np.all(history["sgd_seconds"] <= history["seconds"])


def test_predict_uses_raw_ids_and_flags_the_fallback(small):
    users, items, _ = small
    model = MatrixFactorization(n_factors=3, n_epochs=5, random_state=0).fit(small)

    u = np.searchsorted(model.user_ids_, users[0])
    i = np.searchsorted(model.item_ids_, items[0])
    by_hand = (
        model.global_mean_
        + float(model.user_bias_[u])
        + float(model.item_bias_[i])
        + float(np.dot(model.user_factors_[u].astype(float), model.item_factors_[i]))
    )
    assert model.predict(users[0], items[0], clip=False) == pytest.approx(
        by_hand, rel=1e-6
    )

    predictions, unknown = model.predict(
        [users[0], -5, users[0], -5], [items[0], items[0], 99999, 99999],
        return_unknown=True,
    )  # fmt: skip
    np.testing.assert_array_equal(unknown, [False, True, True, True])
    mu = model.global_mean_
    assert predictions[1] == pytest.approx(mu + model.item_bias_[i])
    assert predictions[2] == pytest.approx(mu + model.user_bias_[u])
    assert predictions[3] == pytest.approx(mu)


def test_predict_with_ids_of_the_wrong_kind_is_an_error(small):
    model = MatrixFactorization(n_factors=2, n_epochs=1, random_state=0).fit(small)
    with pytest.raises(TypeError, match="strings but the model was trained on integer"):
        model.predict(["1000"], [0])


def test_test_only_ids_of_a_shared_map_are_unknown_not_random(data_file):
    # A split keeps the full id maps; users with no training rating must get the
    # fallback, never their untrained random factors.
    ratings = read_ratings(data_file("ml-100k/u.data"))
    train, _ = train_test_split(ratings, 0.2, random_state=0)
    keep = train.users != 0
    train = train.take(keep)  # user index 0 now has no training rating
    model = MatrixFactorization(n_factors=5, n_epochs=2, random_state=0).fit(train)

    raw_user = ratings.user_map.ids[0]
    prediction, unknown = model.predict(raw_user, 50, return_unknown=True)
    assert unknown
    i = np.searchsorted(model.item_ids_, 50)
    assert prediction == pytest.approx(model.global_mean_ + model.item_bias_[i])


def test_recommend_excludes_seen_items_and_sorts_by_score(small):
    users, items, _ = small
    model = MatrixFactorization(n_factors=3, n_epochs=5, random_state=0).fit(small)
    user = users[0]
    seen = set(items[users == user])

    recommended, scores = model.recommend(user, n=5)
    assert len(recommended) == 5
    assert not seen & set(recommended)
    assert np.all(np.diff(scores) <= 0)
    np.testing.assert_allclose(
        scores, model.predict([user] * 5, recommended, clip=False)
    )

    # Brute force over every unseen item gives the same top 5.
    candidates = np.array([i for i in model.item_ids_ if i not in seen])
    all_scores = model.predict(np.full(candidates.size, user), candidates, clip=False)
    np.testing.assert_allclose(np.sort(all_scores)[::-1][:5], scores)


def test_recommend_edge_cases(small):
    users, items, _ = small
    model = MatrixFactorization(n_factors=3, n_epochs=2, random_state=0).fit(small)
    n_items = model.item_ids_.size
    seen = np.unique(items[users == users[0]]).size

    assert len(model.recommend(users[0], n=0)[0]) == 0
    assert len(model.recommend(users[0], n=10_000)[0]) == n_items - seen
    assert len(model.recommend(users[0], n=10_000, exclude_seen=False)[0]) == n_items
    with pytest.raises(ValueError, match="n must be >= 0"):
        model.recommend(users[0], n=-1)
    # An unknown user gets the items with the highest fallback score mu + b_i.
    unknown_items, _ = model.recommend(-42, n=3)
    best = model.item_ids_[np.argsort(-model.item_bias_, kind="stable")[:3]]
    np.testing.assert_array_equal(unknown_items, best)


def test_full_matrix_matches_predict_and_refuses_large_problems(small):
    model = MatrixFactorization(n_factors=3, n_epochs=2, random_state=0).fit(small)
    full = model.full_matrix()
    assert full.shape == (model.user_ids_.size, model.item_ids_.size)
    u, i = np.meshgrid(model.user_ids_, model.item_ids_, indexing="ij")
    np.testing.assert_allclose(
        full, model.predict(u.ravel(), i.ravel(), clip=False).reshape(full.shape)
    )
    with pytest.raises(MemoryError, match="max_entries=10"):
        model.full_matrix(max_entries=10)


def test_save_and_load_round_trip_predicts_identically(small, tmp_path):
    model = MatrixFactorization(n_factors=3, n_epochs=4, random_state=0).fit(small)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = MatrixFactorization.load(path)

    users, items, _ = small
    np.testing.assert_array_equal(
        loaded.predict(users, items), model.predict(users, items)
    )
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(
        loaded.history_["train_rmse"], model.history_["train_rmse"]
    )
    np.testing.assert_array_equal(
        loaded.recommend(users[0])[0], model.recommend(users[0])[0]
    )
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary left


def test_save_keeps_string_ids(tmp_path):
    model = MatrixFactorization(n_factors=2, n_epochs=2, random_state=0)
    model.fit((["ann", "bob", "ann"], ["x", "y", "y"], [5.0, 3.0, 4.0]))
    model.save(tmp_path / "m.npz")
    loaded = MatrixFactorization.load(tmp_path / "m.npz")
    assert loaded.predict("ann", "x") == model.predict("ann", "x")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign"])
def test_load_rejects_damaged_or_foreign_files(small, tmp_path, damage):
    path = tmp_path / "model.npz"
    if damage == "foreign":
        np.savez(path, weights=np.ones(3))
    else:
        MatrixFactorization(n_factors=2, n_epochs=1, random_state=0).fit(small).save(
            path
        )
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"x" * 100)
    with pytest.raises(ValueError, match="model"):
        MatrixFactorization.load(path)


def test_load_rejects_non_finite_factors(small, tmp_path):
    model = MatrixFactorization(n_factors=2, n_epochs=1, random_state=0).fit(small)
    model.user_factors_[0, 0] = np.nan
    model.save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="user_factors holds non-finite"):
        MatrixFactorization.load(tmp_path / "m.npz")


def test_divergence_raises_names_the_epoch_and_leaves_the_model_unfitted():
    users = np.arange(6) % 3
    items = np.arange(6) % 2
    values = np.array([1.0, 2.0, 900.0, 4.0, 5.0, 700.0])
    model = MatrixFactorization(n_factors=2, n_epochs=50, learning_rate=5.0,
                                random_state=0)  # fmt: skip
    with pytest.raises(
        DivergenceError, match=r"diverged in epoch \d+.*smaller"
    ) as info:
        model.fit((users, items, values))
    assert info.value.epoch >= 1
    assert not hasattr(model, "user_factors_")
    with pytest.raises(NotFittedError):
        model.predict([0], [0])


def test_a_failed_refit_does_not_leave_the_old_fit(small):
    model = MatrixFactorization(n_factors=2, n_epochs=1, random_state=0).fit(small)
    with pytest.raises(ValueError):
        model.fit(([], [], []))
    with pytest.raises(NotFittedError):
        model.predict([1000], [0])


@pytest.mark.parametrize(
    ("param", "value", "match"),
    [
        ("n_factors", 0, "n_factors must be >= 1"),
        ("n_epochs", 2.5, "n_epochs must be an integer"),
        ("learning_rate", 0, "learning_rate must be > 0"),
        ("learning_rate", float("nan"), "learning_rate must be finite"),
        ("regularization", -1, "regularization must be >= 0"),
        ("init_std", 0, "init_std must be > 0"),
        ("method", "sgd", "method must be one of 'serial', 'hogwild'"),
        ("dtype", "float16", "dtype must be 'float32' or 'float64'"),
        ("n_threads", 0, "n_threads must be between 1"),
        ("random_state", -3, "random_state must be None"),
    ],
)
def test_invalid_parameters_are_named(small, param, value, match):
    model = MatrixFactorization(**{param: value})
    with pytest.raises((ValueError, TypeError), match=match):
        model.fit(small)
    assert not hasattr(model, "user_factors_")


def test_every_parameter_changes_the_result(small):
    base = dict(n_factors=3, n_epochs=3, random_state=0, dtype="float64")
    reference = MatrixFactorization(**base).fit(small).predict(small[0], small[1])
    changes = dict(
        n_factors=4, n_epochs=4, learning_rate=0.03, regularization=0.3,
        init_std=0.2, biased=False, shuffle=False, random_state=1, dtype="float32",
    )  # fmt: skip
    for name, value in changes.items():
        model = MatrixFactorization(**{**base, name: value}).fit(small)
        changed = model.predict(small[0], small[1])
        assert not np.allclose(changed, reference, rtol=0, atol=1e-7), name


def test_unbiased_model_has_no_mean_and_no_biases(small):
    model = MatrixFactorization(n_factors=3, n_epochs=3, biased=False, random_state=0)
    model.fit(small)
    assert model.global_mean_ == 0.0
    assert not model.user_bias_.any() and not model.item_bias_.any()
    u, i = small[0][0], small[1][0]
    ui = np.searchsorted(model.user_ids_, u), np.searchsorted(model.item_ids_, i)
    expected = np.dot(
        model.user_factors_[ui[0]].astype(float), model.item_factors_[ui[1]]
    )
    assert model.predict(u, i, clip=False) == pytest.approx(expected, rel=1e-6)


def test_get_set_params_and_repr():
    model = MatrixFactorization(n_factors=7)
    assert model.get_params()["n_factors"] == 7
    assert model.set_params(n_epochs=3) is model and model.n_epochs == 3
    assert repr(model) == "MatrixFactorization(n_factors=7, n_epochs=3)"
    with pytest.raises(ValueError, match="'epochs' is not a parameter"):
        model.set_params(epochs=3)


def test_fit_does_not_modify_the_callers_arrays(small):
    users, items, values = (np.array(a) for a in small)
    ratings = Ratings.from_arrays(users - 1000, items // 7, values)
    copies = ratings.users.copy(), ratings.items.copy(), ratings.values.copy()
    MatrixFactorization(n_factors=2, n_epochs=2, random_state=0).fit(ratings)
    MatrixFactorization(n_factors=2, n_epochs=2, method="hogwild", random_state=0).fit(
        ratings
    )
    for before, after in zip(copies, (ratings.users, ratings.items, ratings.values),
                             strict=True):  # fmt: skip
        np.testing.assert_array_equal(before, after)


def test_verbose_logs_one_line_per_epoch(small, caplog):
    caplog.set_level("INFO", logger="fastmf")
    MatrixFactorization(n_factors=2, n_epochs=3, verbose=True, random_state=0).fit(
        small
    )
    lines = [r.getMessage() for r in caplog.records if "train RMSE" in r.getMessage()]
    assert len(lines) == 3 and lines[0].startswith("epoch   1")


# -- robustness -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["biased", "shuffle", "verbose"])
def test_flags_must_be_booleans(small, name):
    with pytest.raises(TypeError, match=f"{name} must be True or False; got 'no'"):
        MatrixFactorization(**{name: "no"}).fit(small)


def test_float32_and_float64_models_start_from_the_same_draw():
    from fastmf._training import normal_rows as _normal_rows

    P32, Q32, s32 = initial_state(3, 50, 40, 7, 0.1, np.float32)
    P64, Q64, s64 = initial_state(3, 50, 40, 7, 0.1, np.float64)
    np.testing.assert_array_equal(P32, P64.astype(np.float32))
    np.testing.assert_array_equal(Q32, Q64.astype(np.float32))
    assert s32 == s64
    # Drawing in small blocks gives the same stream as one draw.
    blocked = _normal_rows(np.random.default_rng(3), 0.1, 50, 7, np.float64, block=9)
    np.testing.assert_array_equal(blocked, P64)


def test_ratings_beyond_float32_are_refused_and_lossy_ones_warned():
    users, items = [0, 1, 2], [0, 1, 0]
    with pytest.raises(ValueError, match=r"overflow float32.*dtype='float64'"):
        MatrixFactorization(n_epochs=1).fit((users, items, [1e39, 1.0, 2.0]))
    with pytest.warns(RuntimeWarning, match="changes them by up to"):
        MatrixFactorization(n_epochs=1, learning_rate=1e-20).fit(
            (users, items, [1e8 + 1, 1e8 + 3, 1e8 + 5])
        )


def test_recommend_for_many_users_matches_one_at_a_time(small):
    model = MatrixFactorization(n_factors=2, n_epochs=1, random_state=0).fit(small)
    users = [small[0][0], -7, small[0][5]]
    batch = model.recommend(users, n=4)
    assert len(batch) == 3
    for user, (items, scores) in zip(users, batch, strict=True):
        single_items, single_scores = model.recommend(user, n=4)
        np.testing.assert_array_equal(items, single_items)
        np.testing.assert_array_equal(scores, single_scores)


def test_verbose_fit_without_logging_configured_prints_then_cleans_up():
    import subprocess
    import sys

    script = (
        "import logging\n"
        "from fastmf import MatrixFactorization\n"
        "MatrixFactorization(n_factors=2, n_epochs=2, verbose=True, random_state=0)"
        ".fit(([1, 2, 3], [1, 1, 2], [4.0, 3.0, 5.0]))\n"
        "logger = logging.getLogger('fastmf')\n"
        "print(len(logger.handlers), logger.level, logger.propagate)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stderr.count("train RMSE") == 2
    assert result.stdout.split() == ["0", "0", "True"]


def test_verbose_shows_progress_under_an_application_log_level_of_warning(small):
    import logging

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        MatrixFactorization(n_factors=2, n_epochs=2, verbose=True, random_state=0).fit(
            small
        )
    finally:
        root.removeHandler(handler)
    assert sum("train RMSE" in r.getMessage() for r in records) == 2


def test_save_checks_the_destination_first_and_respects_the_umask(small, tmp_path):
    import os
    import stat

    model = MatrixFactorization(n_factors=2, n_epochs=1, random_state=0).fit(small)
    with pytest.raises(FileNotFoundError, match=r"missing.*does not exist"):
        model.save(tmp_path / "missing" / "m.npz")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        model.save(tmp_path)

    old = os.umask(0o022)
    try:
        model.save(tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.npz").stat().st_mode) == 0o644


def _tamper(model, tmp_path, **changes):
    import json

    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as data:
        arrays = {k: data[k] for k in data.files}
    for key, value in changes.items():
        if key == "params":
            meta = json.loads(str(arrays["metadata"]))
            meta["params"].update(value)
            arrays["metadata"] = np.array(json.dumps(meta))
        else:
            arrays[key] = value
    np.savez(tmp_path / "t.npz", **arrays)
    return tmp_path / "t.npz"


def test_load_rejects_tampered_models(small, tmp_path):
    model = MatrixFactorization(n_factors=2, n_epochs=1, random_state=0).fit(small)
    cases = [
        ({"user_ids": model.user_ids_[::-1].copy()}, "user_ids must be sorted"),
        ({"seen_items": model.seen_items_ + 10_000}, "rated items are inconsistent"),
        ({"seen_indptr": -model.seen_indptr_}, "rated items are inconsistent"),
        ({"params": {"n_factors": "lots"}}, "n_factors must be an integer"),
        ({"params": {"n_factors": 3}}, "inconsistent shapes"),
        ({"global_mean": np.array([1.0, 2.0])}, "inconsistent shapes"),
        ({"metadata": np.array("[1, 2]")}, "not a fastmf model"),
    ]
    for changes, message in cases:
        with pytest.raises(ValueError, match=message):
            MatrixFactorization.load(_tamper(model, tmp_path, **changes))

    np.save(tmp_path / "array.npy", np.ones(3))
    with pytest.raises(ValueError, match="single NumPy array"):
        MatrixFactorization.load(tmp_path / "array.npy")
    with pytest.raises(FileNotFoundError, match="no such model file"):
        MatrixFactorization.load(tmp_path / "none.npz")


# -- clipping, recommendation and similarity (CASE-13, -15, -16) -------------------

CASE_13 = (
    ["g", "g", "g", "h", "h", "k", "k", "m", "m"],
    ["i1", "i2", "i3", "i1", "i2", "i4", "i5", "i4", "i3"],
    [5.0, 5.0, 5.0, 5.0, 5.0, 1.0, 1.0, 1.0, 1.0],
)


def test_case_13_clipped_predictions_are_the_raw_scores_clipped():
    model = MatrixFactorization(
        n_factors=4, n_epochs=300, learning_rate=0.05, regularization=0.0,
        random_state=0, dtype="float64",
    ).fit(CASE_13)  # fmt: skip
    users, items = np.meshgrid(np.unique(CASE_13[0]), np.unique(CASE_13[1]))
    users, items = users.ravel(), items.ravel()
    raw = model.predict(users, items, clip=False)
    clipped = model.predict(users, items)
    assert model.rating_scale_ == (1.0, 5.0)
    assert ((raw < 1) | (raw > 5)).any(), "vacuous: no raw score left the scale"
    np.testing.assert_array_equal(clipped, np.minimum(np.maximum(raw, 1.0), 5.0))
    u = np.searchsorted(model.user_ids_, users)
    i = np.searchsorted(model.item_ids_, items)
    by_hand = (
        model.global_mean_ + model.user_bias_[u] + model.item_bias_[i]
        + np.einsum("ij,ij->i", model.user_factors_[u], model.item_factors_[i])
    )  # fmt: skip
    np.testing.assert_allclose(raw, by_hand, rtol=0, atol=1e-12)


CASE_15 = (
    ["u1", "u1", "u2", "u2", "u3", "u3"],
    ["i1", "i2", "i1", "i3", "i2", "i3"],
    [5.0, 3.0, 4.0, 1.0, 2.0, 5.0],
)


def test_case_15_recommend_excludes_exactly_the_rated_items():
    model = MatrixFactorization(n_factors=2, random_state=0).fit(CASE_15)
    expected = {"u1": ["i3"], "u2": ["i2"], "u3": ["i1"]}
    for user, items in expected.items():
        assert model.recommend(user, n=10)[0].tolist() == items
        everything, scores = model.recommend(user, n=10, exclude_seen=False)
        assert sorted(everything.tolist()) == ["i1", "i2", "i3"]
        assert np.all(np.diff(scores) <= 0)


def test_case_16_result_sizes():
    model = MatrixFactorization(n_factors=2, random_state=0).fit(CASE_15)
    assert model.recommend("u1", n=100)[0].tolist() == ["i3"]
    assert len(model.recommend("u1", n=100, exclude_seen=False)[0]) == 3
    assert len(model.recommend("u1", n=0)[0]) == 0
    with pytest.raises(ValueError, match="n must be >= 0; got -1"):
        model.recommend("u1", n=-1)
    assert len(model.recommend("u1", n=2, exclude=["i3"])[0]) == 0


def test_recommend_matches_brute_force_on_random_data(rng):
    users = rng.integers(0, 60, 2000)
    items = rng.integers(0, 90, 2000)
    keys = np.unique(users * 90 + items)
    data = (keys // 90, keys % 90, rng.integers(1, 6, keys.size).astype(float))
    model = MatrixFactorization(n_factors=5, n_epochs=5, random_state=1).fit(data)
    candidates = rng.choice(model.item_ids_, 40, replace=False)
    for user, (top, scores) in zip(
        model.user_ids_, model.recommend(model.user_ids_, n=7, items=candidates),
        strict=True,
    ):  # fmt: skip
        seen = set(data[1][data[0] == user])
        pool = np.array([i for i in candidates if i not in seen])
        raw = model.predict(np.full(pool.size, user), pool, clip=False)
        order = np.lexsort((pool, -raw))[:7]
        np.testing.assert_array_equal(top, pool[order])
        np.testing.assert_allclose(scores, raw[order], rtol=1e-6)


def test_similar_items_by_cosine_match_brute_force(small):
    model = MatrixFactorization(n_factors=3, n_epochs=5, random_state=0).fit(small)
    Q = model.item_factors_.astype(float)
    unit = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    cosine = unit @ unit.T
    np.fill_diagonal(cosine, -np.inf)
    for row, (items, similarities) in enumerate(
        model.similar_items(model.item_ids_, n=3)
    ):
        best = np.argsort(-cosine[row], kind="stable")[:3]
        np.testing.assert_array_equal(items, model.item_ids_[best])
        np.testing.assert_allclose(similarities, cosine[row, best], rtol=1e-6)
    with pytest.raises(KeyError, match="12345"):
        model.similar_items(12345)
    assert len(model.similar_users(small[0][0], n=5)[0]) == 5


# -- continued training, fold-in, callbacks, early stopping, Ctrl-C --------------


def test_ten_plus_ten_epochs_equal_twenty(small):
    base = dict(n_factors=3, random_state=5, dtype="float64")
    twenty = MatrixFactorization(n_epochs=20, **base).fit(small)
    split = MatrixFactorization(n_epochs=10, **base).fit(small)
    split.partial_fit(small, n_epochs=10)
    np.testing.assert_array_equal(split.user_factors_, twenty.user_factors_)
    np.testing.assert_array_equal(split.item_bias_, twenty.item_bias_)
    np.testing.assert_array_equal(
        split.history_["train_rmse"], twenty.history_["train_rmse"]
    )
    assert split.history_["epoch"].tolist() == list(range(1, 21))
    # warm_start=True makes fit continue the same way.
    warm = MatrixFactorization(n_epochs=10, warm_start=True, **base).fit(small)
    warm.fit(small)
    np.testing.assert_array_equal(warm.user_factors_, twenty.user_factors_)


def test_ten_plus_ten_survives_a_save_and_load(small, tmp_path):
    base = dict(n_factors=3, random_state=5, dtype="float64")
    twenty = MatrixFactorization(n_epochs=20, **base).fit(small)
    MatrixFactorization(n_epochs=10, **base).fit(small).save(tmp_path / "m.npz")
    loaded = MatrixFactorization.load(tmp_path / "m.npz")
    loaded.partial_fit(small, n_epochs=10)
    np.testing.assert_array_equal(loaded.user_factors_, twenty.user_factors_)


def test_partial_fit_on_new_ratings_adds_users_and_keeps_the_rest(small):
    _, items, values = small
    model = MatrixFactorization(n_factors=3, n_epochs=3, random_state=0).fit(small)
    before = dict(
        zip(model.user_ids_.tolist(), model.user_factors_.copy(), strict=True)
    )
    new = (np.array([7777, 7777, 8888]), items[:3], values[:3])
    model.partial_fit(new, n_epochs=2)
    assert {7777, 8888} <= set(model.user_ids_.tolist())
    assert model.user_factors_.shape[0] == len(before) + 2
    untouched = [u for u in before if u not in new[0]]
    rows = np.searchsorted(model.user_ids_, untouched)
    np.testing.assert_array_equal(
        model.user_factors_[rows], [before[u] for u in untouched]
    )
    assert not model.predict(7777, items[0], return_unknown=True)[1]
    assert model.history_["epoch"].tolist() == [1, 2, 3, 4, 5]
    seen = model.recommend(7777, n=100)[0]
    assert not set(items[:2].tolist()) & set(seen.tolist())


def test_fold_in_trains_new_users_and_leaves_items_exactly_alone(small):
    _, items, _ = small
    model = MatrixFactorization(n_factors=3, n_epochs=5, random_state=0).fit(small)
    Q, bi, mu = model.item_factors_.copy(), model.item_bias_.copy(), model.global_mean_
    history = model.history_["train_rmse"].copy()
    newcomer = (np.full(4, 424242), items[:4], np.array([5.0, 5.0, 4.0, 5.0]))
    model.fold_in(newcomer, side="users", n_epochs=20)
    np.testing.assert_array_equal(model.item_factors_, Q)
    np.testing.assert_array_equal(model.item_bias_, bi)
    assert model.global_mean_ == mu
    np.testing.assert_array_equal(model.history_["train_rmse"], history)
    assert model.predict(424242, items[0], clip=False) > mu  # learned the 5s
    assert not model.predict(424242, items[0], return_unknown=True)[1]


def test_callbacks_see_every_epoch_and_can_stop(small):
    rows = []

    def stop_after_three(row):
        rows.append(row)
        return row["epoch"] == 3

    model = MatrixFactorization(n_factors=2, n_epochs=10, random_state=0)
    model.fit(small, validation=small, callbacks=[stop_after_three])
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert {"train_rmse", "validation_rmse", "seconds", "ratings_per_second"} <= set(
        rows[0]
    )
    assert len(model.history_["epoch"]) == 3 and model.stopped_because_ == "callback"


def test_early_stopping_restores_the_best_epoch(small, rng):
    users, items, values = small
    noisy = (users, items, rng.permutation(values))  # validation unrelated to train
    model = MatrixFactorization(n_factors=8, n_epochs=200, learning_rate=0.05,
                                regularization=0.0, patience=3, random_state=0,
                                dtype="float64")  # fmt: skip
    model.fit(small, validation=noisy)
    history = model.history_
    best = int(np.argmin(history["validation_rmse"])) + 1
    assert model.stopped_because_ == "early stopping"
    assert model.best_epoch_ == best
    assert history["epoch"][-1] == best + 3
    # The restored parameters score the best validation RMSE again.
    from fastmf import rmse

    restored = rmse(noisy[2], model.predict(noisy[0], noisy[1], clip=False))
    assert restored == pytest.approx(history["validation_rmse"][best - 1], abs=1e-9)


def test_ctrl_c_keeps_the_last_completed_epoch_usable(small, tmp_path):
    def interrupt(row):
        if row["epoch"] == 4:
            raise KeyboardInterrupt

    model = MatrixFactorization(n_factors=2, n_epochs=50, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        model.fit(small, callbacks=[interrupt])
    assert model.history_["epoch"].tolist() == [1, 2, 3, 4]
    assert np.all(np.isfinite(model.predict(small[0], small[1])))
    model.save(tmp_path / "interrupted.npz")
    # Continuing from there gives what an uninterrupted run gives.
    model.partial_fit(small, n_epochs=2)
    six = MatrixFactorization(n_factors=2, n_epochs=6, random_state=0).fit(small)
    np.testing.assert_array_equal(model.user_factors_, six.user_factors_)


# -- LIBMF model files ------------------------------------------------------------


def test_libmf_export_reproduces_predictions_and_float32_values(small, tmp_path):
    model = MatrixFactorization(n_factors=3, n_epochs=5, random_state=0).fit(small)
    path = tmp_path / "model.libmf"
    model.export_libmf(path)
    lines = path.read_text().splitlines()
    m, n = len(model.user_ids_), len(model.item_ids_)
    assert lines[:4] == ["f 0", f"m {m}", f"n {n}", "k 5"]
    # Every float32 factor comes back bit for bit.
    p0 = np.array(lines[5].split()[2:], dtype=np.float32)
    np.testing.assert_array_equal(p0[:3], model.user_factors_[0])

    imported = MatrixFactorization.from_libmf(path)
    users, items, _ = small
    rows_u = np.searchsorted(model.user_ids_, users)
    rows_i = np.searchsorted(model.item_ids_, items)
    np.testing.assert_allclose(
        imported.predict(rows_u, rows_i, clip=False),
        model.predict(users, items, clip=False),
        rtol=1e-6,
    )
    # Unknown pairs get LIBMF's mean b, which is fastmf's global mean.
    assert imported.predict(10**6, 10**6) == pytest.approx(model.global_mean_, rel=1e-7)


def test_libmf_import_marks_rows_without_ratings_unknown(tmp_path):
    path = tmp_path / "hand.libmf"
    path.write_text("f 0\nm 3\nn 2\nk 2\nb 3.5\n"
                    "p0 T 1 2\np1 F 0 0\np2 T 0.5 -1\n"
                    "q0 T 1 0\nq1 T 0 1\n")  # fmt: skip
    model = MatrixFactorization.from_libmf(path)
    predictions, unknown = model.predict([0, 1, 2], [1, 0, 0], return_unknown=True)
    np.testing.assert_allclose(predictions, [2.0, 3.5, 0.5], rtol=1e-6)
    assert unknown.tolist() == [False, True, False]
    with pytest.raises(ValueError, match="line 7: expected 2 values"):
        path.write_text("f 0\nm 1\nn 1\nk 2\nb 1\np0 T 1 2\nq0 T 1\n")
        MatrixFactorization.from_libmf(path)


@pytest.mark.parametrize("method", ["serial", "hogwild", "blocked"])
@pytest.mark.parametrize("hole", ["users", "items", "both", "none"])
def test_fit_never_shuffles_the_callers_arrays(method, hole, rng):
    # compact() renumbers only a side with unrated ids and hands the other side's
    # array back as it was: that one must be copied before it is shuffled.
    users = rng.integers(0, 40, 3000).astype(np.int32)
    items = rng.integers(0, 30, 3000).astype(np.int32)
    values = rng.integers(1, 6, 3000).astype(np.float64)
    shape = (40 + (hole in ("users", "both")), 30 + (hole in ("items", "both")))
    ratings = Ratings.from_arrays(users, items, values, shape=shape)
    before = ratings.users.copy(), ratings.items.copy(), ratings.values.copy()
    MatrixFactorization(n_factors=2, n_epochs=2, method=method, random_state=0,
                        duplicates="keep").fit(ratings)  # fmt: skip
    for original, now in zip(before, (ratings.users, ratings.items, ratings.values),
                             strict=True):  # fmt: skip
        np.testing.assert_array_equal(original, now)

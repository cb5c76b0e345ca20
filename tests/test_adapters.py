"""The Surprise adapter against Surprise itself, and scikit-learn's estimator rules.

Every Surprise test skips without scikit-surprise and every scikit-learn test
without scikit-learn (``pip install 'fastmf[surprise]' scikit-learn``); the
import-error tests run either way.
"""

import doctest
import importlib
import inspect
import logging
import pickle
import sys

import numpy as np
import pytest

from fastmf import (
    DivergenceError,
    MatrixFactorization,
    NotFittedError,
    synthetic_ratings,
)

#: Largest gap allowed between the 3-fold mean test RMSEs of Surprise's SVD and
#: the adapter on MovieLens 100K. Their initial factors come from different
#: generators; measured gaps 0.0004 and 0.0016 for seeds 1 and 0, while the
#: seed-to-seed spread of one fold is about 0.002.
PARITY_TOLERANCE = 0.005

#: Parameters of surprise.SVD that the adapter must accept in the same order
#: with the same defaults.
SURPRISE_PARAMETERS = (
    "n_factors", "n_epochs", "biased", "init_mean", "init_std_dev", "lr_all",
    "reg_all", "lr_bu", "lr_bi", "lr_pu", "lr_qi", "reg_bu", "reg_bi", "reg_pu",
    "reg_qi", "random_state", "verbose",
)  # fmt: skip


@pytest.fixture
def surprise():
    return pytest.importorskip("surprise")


@pytest.fixture
def adapter(surprise):
    """The ``fastmf.adapters.surprise`` module (imported only when Surprise is)."""
    return importlib.import_module("fastmf.adapters.surprise")


@pytest.fixture
def sklearn():
    return pytest.importorskip("sklearn")


def _dataset(surprise, tmp_path, users, items, values, scale=(1, 5)):
    """A Surprise Dataset of these ratings, through a file (no pandas needed)."""
    path = tmp_path / "ratings.tsv"
    lines = [f"{u}\t{i}\t{r}" for u, i, r in zip(users, items, values, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    reader = surprise.Reader(line_format="user item rating", sep="\t")
    reader.rating_scale = scale
    return surprise.Dataset.load_from_file(str(path), reader)


@pytest.fixture
def synthetic_data(surprise, tmp_path):
    """5,000 synthetic ratings of 200 users on 300 items, as a Surprise Dataset."""
    ratings = synthetic_ratings(200, 300, 5_000, random_state=0)
    return _dataset(
        surprise, tmp_path, ratings.raw_users(), ratings.raw_items(), ratings.values
    )


@pytest.fixture
def small_data(surprise, tmp_path):
    """Four users and four items, ratings 1 to 4 on a 1-5 scale.

    Raw ids are strings, as Surprise reads them from files: users "u1".."u4",
    items "i1".."i4".
    """
    users = ["u1", "u1", "u1", "u2", "u2", "u3", "u3", "u4", "u4"]
    items = ["i1", "i2", "i3", "i1", "i4", "i2", "i3", "i3", "i4"]
    values = [4, 3, 1, 2, 4, 3, 2, 1, 4]
    return _dataset(surprise, tmp_path, users, items, values)


#: Test pairs of ``small_data``: known/known, unknown user, unknown item, both.
SMALL_TESTSET = [
    ("u1", "i4", 3.0),
    ("u3", "i1", 2.0),
    ("nobody", "i2", 4.0),
    ("u2", "nothing", 1.0),
    ("nobody", "nothing", 5.0),
]


# -- importing without Surprise -----------------------------------------------------


def _import_adapter_fresh(monkeypatch):
    """Import fastmf.adapters.surprise anew; the old module is restored after."""
    monkeypatch.delitem(sys.modules, "fastmf.adapters.surprise", raising=False)
    return importlib.import_module("fastmf.adapters.surprise")


def _hide_surprise(monkeypatch):
    for name in [name for name in sys.modules if name.partition(".")[0] == "surprise"]:
        monkeypatch.delitem(sys.modules, name)


def test_import_without_surprise_names_the_extra(monkeypatch):
    _hide_surprise(monkeypatch)
    monkeypatch.setitem(sys.modules, "surprise", None)  # "not installed"

    with pytest.raises(ImportError, match=r"pip install 'fastmf\[surprise\]'"):
        _import_adapter_fresh(monkeypatch)


def test_import_with_a_broken_surprise_says_so(monkeypatch, tmp_path):
    _hide_surprise(monkeypatch)
    fake = tmp_path / "surprise"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "raise ImportError('no compiled extension', name='surprise._fake')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ImportError, match=r"installed but failed to import"):
        _import_adapter_fresh(monkeypatch)


def test_the_adapters_package_imports_without_surprise(monkeypatch):
    _hide_surprise(monkeypatch)
    monkeypatch.setitem(sys.modules, "surprise", None)
    monkeypatch.delitem(sys.modules, "fastmf.adapters", raising=False)

    assert importlib.import_module("fastmf.adapters").__doc__


# -- the adapter inside Surprise's model selection ----------------------------------


@pytest.mark.slow
def test_cross_validate_matches_surprise_svd_on_movielens_100k(
    surprise, adapter, data_file
):
    from surprise.model_selection import KFold, cross_validate

    data = surprise.Dataset.load_from_file(
        str(data_file("ml-100k/u.data")), surprise.Reader("ml-100k")
    )
    scores = {}
    for name, algo in (
        ("surprise", surprise.SVD(random_state=0)),
        ("fastmf", adapter.SVD(random_state=0)),
    ):
        # An int random_state makes KFold draw the same three folds each time.
        folds = KFold(n_splits=3, random_state=0, shuffle=True)
        result = cross_validate(algo, data, measures=["rmse"], cv=folds)
        scores[name] = result["test_rmse"]

    gap = abs(scores["fastmf"].mean() - scores["surprise"].mean())
    assert gap < PARITY_TOLERANCE, (
        f"3-fold mean test RMSE: fastmf {scores['fastmf'].mean():.4f} "
        f"{np.round(scores['fastmf'], 4)}, Surprise "
        f"{scores['surprise'].mean():.4f} {np.round(scores['surprise'], 4)}; "
        f"gap {gap:.4f}"
    )


def test_grid_search_over_n_factors(adapter, synthetic_data):
    from surprise.model_selection import GridSearchCV, KFold, cross_validate

    grid = {"n_factors": [5, 20], "n_epochs": [10], "random_state": [0]}
    search = GridSearchCV(
        adapter.SVD, grid, measures=["rmse"], cv=KFold(3, random_state=0), refit=True
    )
    search.fit(synthetic_data)

    assert [p["n_factors"] for p in search.cv_results["params"]] == [5, 20]
    best = search.best_params["rmse"]["n_factors"]
    assert best in (5, 20)
    assert isinstance(search.best_estimator["rmse"], adapter.SVD)
    assert search.best_estimator["rmse"].pu.shape[1] == best
    # The search's score of a setting is what cross_validate gives for it.
    for row, params in enumerate(search.cv_results["params"]):
        alone = cross_validate(
            adapter.SVD(**params), synthetic_data, ["rmse"], KFold(3, random_state=0)
        )
        assert search.cv_results["mean_test_rmse"][row] == pytest.approx(
            alone["test_rmse"].mean(), abs=1e-12
        )


def test_test_is_what_surprise_own_loop_gives(surprise, adapter, synthetic_data):
    from surprise.model_selection import train_test_split

    trainset, testset = train_test_split(synthetic_data, 0.25, random_state=0)
    testset += [("nobody", testset[0][1], 3.0), (testset[0][0], "nothing", 3.0)]
    for biased in (True, False):
        algo = adapter.SVD(n_factors=8, n_epochs=5, biased=biased, random_state=0)
        algo.fit(trainset)

        fast = algo.test(testset)
        slow = surprise.AlgoBase.test(algo, testset)  # estimate() per pair

        assert [p[:3] for p in fast] == [p[:3] for p in slow]
        assert [p.details for p in fast] == [p.details for p in slow]
        np.testing.assert_allclose(
            [p.est for p in fast], [p.est for p in slow], rtol=0, atol=1e-12
        )


# -- unknown users and items, and clipping ------------------------------------------


@pytest.mark.parametrize("biased", [True, False])
def test_unknown_ids_are_handled_as_surprise_svd_does(
    surprise, adapter, small_data, biased
):
    trainset = small_data.build_full_trainset()
    ours = adapter.SVD(n_factors=3, biased=biased, random_state=0).fit(trainset)
    theirs = surprise.SVD(n_factors=3, biased=biased, random_state=0).fit(trainset)

    for algo in (ours, theirs):
        mu, (low, high) = trainset.global_mean, trainset.rating_scale
        predictions = algo.test(SMALL_TESTSET)
        known, no_user, no_item, neither = predictions[1:]
        if biased:
            # mu plus whichever bias is known; never "impossible".
            assert all(not p.details["was_impossible"] for p in predictions)
            item = trainset.to_inner_iid("i2")
            user = trainset.to_inner_uid("u2")
            assert no_user.est == pytest.approx(np.clip(mu + algo.bi[item], low, high))
            assert no_item.est == pytest.approx(np.clip(mu + algo.bu[user], low, high))
            assert neither.est == pytest.approx(mu)
        else:
            for p in (no_user, no_item, neither):
                assert p.details == {
                    "was_impossible": True,
                    "reason": "User and item are unknown.",
                }
                assert p.est == mu
        assert known.details == {"was_impossible": False}

    # The same flags and reasons, pair by pair, through test() and predict().
    for uid, iid, _ in SMALL_TESTSET:
        assert ours.predict(uid, iid).details == theirs.predict(uid, iid).details
    assert [p.details for p in ours.test(SMALL_TESTSET)] == [
        p.details for p in theirs.test(SMALL_TESTSET)
    ]


def test_predict_and_test_clip_to_the_reader_scale_not_the_ratings_seen(
    adapter, small_data
):
    # The ratings run from 1 to 4 on a 1-5 scale. Shifting the fitted global
    # mean pushes every raw score far out, so only clipping decides the answer:
    # Surprise clips to the Reader's scale (5), not to the highest rating (4).
    trainset = small_data.build_full_trainset()
    algo = adapter.SVD(n_factors=3, random_state=0).fit(trainset)
    for shift, expected in ((10.0, 5.0), (-10.0, 1.0)):
        algo.model_.global_mean_ = trainset.global_mean + shift
        assert {p.est for p in algo.test(SMALL_TESTSET)} == {expected}
        assert algo.predict("u1", "i4").est == expected
        assert algo.predict("u1", "i4", clip=False).est != expected


def test_test_accepts_any_iterable_and_an_empty_testset(adapter, small_data):
    algo = adapter.SVD(n_factors=3, random_state=0)
    algo.fit(small_data.build_full_trainset())

    assert algo.test([]) == []
    assert algo.test(iter(SMALL_TESTSET)) == algo.test(SMALL_TESTSET)


def test_test_verbose_prints_each_prediction_like_surprise(adapter, small_data, capsys):
    algo = adapter.SVD(n_factors=3, random_state=0)
    algo.fit(small_data.build_full_trainset())

    quiet = algo.test(SMALL_TESTSET)
    loud = algo.test(SMALL_TESTSET, verbose=True)

    assert capsys.readouterr().out.count("user: ") == len(SMALL_TESTSET)
    assert [p.est for p in loud] == pytest.approx([p.est for p in quiet], abs=1e-12)


def test_unfitted_adapter_says_to_fit_first(adapter):
    with pytest.raises(NotFittedError, match=r"call fit\(trainset\) first"):
        adapter.SVD().test(SMALL_TESTSET)


# -- parameters ---------------------------------------------------------------------


def test_signature_and_defaults_are_surprise_svd_s(surprise, adapter):
    theirs = inspect.signature(surprise.SVD.__init__).parameters
    ours = inspect.signature(adapter.SVD.__init__).parameters

    assert tuple(theirs)[1:] == SURPRISE_PARAMETERS
    assert tuple(ours)[1 : len(theirs)] == SURPRISE_PARAMETERS
    for name in SURPRISE_PARAMETERS:
        assert ours[name].default == theirs[name].default, name
    extras = [p for p in list(ours.values())[len(theirs) :]]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in extras)


def test_parameters_map_onto_matrix_factorization(adapter, small_data):
    algo = adapter.SVD(
        n_factors=7, n_epochs=3, biased=False, init_std_dev=0.2, lr_all=0.01,
        reg_all=0.05, lr_pu=0.01, reg_qi=0.05, verbose=False, dtype="float64",
        shuffle=True,
    )  # fmt: skip
    algo.fit(small_data.build_full_trainset())

    params = algo.model_.get_params()
    assert params == {
        **params,
        "n_factors": 7,
        "n_epochs": 3,
        "biased": False,
        "init_std": 0.2,
        "learning_rate": 0.01,
        "regularization": 0.05,
        "verbose": False,
        "dtype": "float64",
        "shuffle": True,
        "method": "serial",
        "n_threads": None,
        "duplicates": "keep",
    }
    assert algo.pu.shape == (4, 7) and algo.pu.dtype == np.float64
    assert algo.model_.history_["epoch"].size == 3


def test_defaults_train_in_float32_in_the_trainset_order(adapter, small_data):
    algo = adapter.SVD(n_factors=3, random_state=0)
    algo.fit(small_data.build_full_trainset())

    params = algo.model_.get_params()
    assert (params["dtype"], params["shuffle"]) == ("float32", False)
    assert algo.pu.dtype == algo.qi.dtype == algo.bu.dtype == np.float32
    # Rows are Surprise's inner ids.
    np.testing.assert_array_equal(algo.model_.user_ids_, np.arange(4))


@pytest.mark.parametrize("prefix", ["lr", "reg"])
@pytest.mark.parametrize("target", ["bu", "bi", "pu", "qi"])
def test_a_per_parameter_value_other_than_the_all_value_is_refused(
    adapter, prefix, target
):
    what = "learning rate" if prefix == "lr" else "regularization"
    with pytest.raises(ValueError, match=rf"one {what} .*{prefix}_{target}=0\.3"):
        adapter.SVD(**{f"{prefix}_{target}": 0.3})


def test_per_parameter_values_equal_to_each_other_are_one_value(adapter, small_data):
    rates = {"lr_bu": 0.01, "lr_bi": 0.01, "lr_pu": 0.01, "lr_qi": 0.01}
    algo = adapter.SVD(n_factors=2, lr_all=0.005, reg_pu=0.02, **rates)
    algo.fit(small_data.build_full_trainset())

    assert algo.model_.learning_rate == 0.01
    assert algo.model_.regularization == 0.02


def test_bias_values_are_ignored_without_biases(adapter, small_data):
    # surprise.SVD never uses lr_bu, lr_bi, reg_bu or reg_bi when unbiased.
    algo = adapter.SVD(n_factors=2, biased=False, lr_bu=0.3, reg_bi=0.5)
    algo.fit(small_data.build_full_trainset())

    assert (algo.model_.learning_rate, algo.model_.regularization) == (0.005, 0.02)


def test_a_value_changed_after_construction_is_checked_by_fit(adapter, small_data):
    algo = adapter.SVD(n_factors=2)
    algo.lr_qi = 0.1

    with pytest.raises(ValueError, match=r"lr_qi=0\.1"):
        algo.fit(small_data.build_full_trainset())


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"init_mean": 0.1}, ValueError, r"init_mean must be 0.*got 0\.1"),
        ({"init_std_dev": 0}, ValueError, r"init_std_dev must be > 0; got 0"),
        ({"lr_all": -0.1}, ValueError, r"lr_all must be > 0; got -0\.1"),
        ({"reg_all": -1}, ValueError, r"reg_all must be >= 0"),
        ({"n_factors": 0}, ValueError, r"n_factors must be >= 1; got 0"),
        ({"n_epochs": 2.5}, TypeError, r"n_epochs must be an integer"),
        ({"biased": 1}, TypeError, r"biased must be True or False"),
        ({"verbose": "yes"}, TypeError, r"verbose must be True or False"),
    ],
)
def test_invalid_parameters_are_named_as_surprise_names_them(
    adapter, params, error, match
):
    with pytest.raises(error, match=match):
        adapter.SVD(**params)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"dtype": "float16"}, r"dtype"),
        ({"method": "magic"}, r"method must be one of"),
        ({"shuffle": "no"}, r"shuffle must be True or False"),
    ],
)
def test_invalid_fastmf_options_are_refused_by_fit(adapter, small_data, params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        adapter.SVD(**params).fit(small_data.build_full_trainset())


def test_random_state_follows_surprise_rules(surprise, adapter, synthetic_data):
    trainset = synthetic_data.build_full_trainset()

    def factors(random_state):
        algo = adapter.SVD(n_factors=4, n_epochs=2, random_state=random_state)
        return algo.fit(trainset).pu.copy()

    # An int seeds a new generator each fit: the same model every time.
    np.testing.assert_array_equal(factors(3), factors(3))
    assert not np.array_equal(factors(3), factors(4))
    # A RandomState is drawn from and advances.
    shared = np.random.RandomState(0)
    first, second = factors(shared), factors(shared)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, factors(np.random.RandomState(0)))
    # None draws from NumPy's global generator, so np.random.seed repeats a run.
    # That legacy generator is the point here; its state is restored after.
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(5)  # noqa: NPY002
        seeded = factors(None)
        np.random.seed(5)  # noqa: NPY002
        np.testing.assert_array_equal(seeded, factors(None))
    finally:
        np.random.set_state(state)  # noqa: NPY002
    with pytest.raises(ValueError, match="Wrong random state"):
        factors("zero")


@pytest.mark.parametrize(
    "change",
    [
        {"n_factors": 5},
        {"n_epochs": 3},
        {"biased": False},
        {"init_std_dev": 0.2},
        {"lr_all": 0.01},
        {"reg_all": 0.1},
        {"random_state": 1},
        {"shuffle": True},
        {"dtype": "float64"},
    ],
)
def test_every_parameter_changes_the_result(adapter, synthetic_data, change):
    trainset = synthetic_data.build_full_trainset()
    testset = trainset.build_testset()[:500]
    base = {"n_factors": 4, "n_epochs": 2, "random_state": 0}

    before = [p.est for p in adapter.SVD(**base).fit(trainset).test(testset)]
    after = [
        p.est for p in adapter.SVD(**{**base, **change}).fit(trainset).test(testset)
    ]

    assert before != after


def test_divergence_names_lr_all_and_leaves_no_factors(adapter, small_data):
    algo = adapter.SVD(n_factors=2, lr_all=1e3, n_epochs=50)

    with pytest.raises(DivergenceError, match=r"smaller lr_all"):
        algo.fit(small_data.build_full_trainset())
    assert not hasattr(algo, "pu") and not hasattr(algo, "model_")
    assert algo.bu is None


def test_verbose_logs_one_line_per_epoch(adapter, small_data, caplog):
    with caplog.at_level(logging.INFO, logger="fastmf"):
        adapter.SVD(n_factors=2, n_epochs=3, verbose=True).fit(
            small_data.build_full_trainset()
        )

    assert sum("train RMSE" in r.getMessage() for r in caplog.records) == 3


def test_pickled_adapter_predicts_the_same(adapter, small_data):
    # joblib (cross_validate with n_jobs > 1) and surprise.dump both pickle.
    algo = adapter.SVD(n_factors=3, random_state=0)
    algo.fit(small_data.build_full_trainset())

    again = pickle.loads(pickle.dumps(algo))

    assert again.test(SMALL_TESTSET) == algo.test(SMALL_TESTSET)


def test_docstring_examples_run(adapter):
    pytest.importorskip("pandas")  # the example loads a DataFrame
    result = doctest.testmod(adapter, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# -- scikit-learn conventions of MatrixFactorization --------------------------------


def _small_ratings(rng):
    users = rng.integers(0, 30, 400)
    items = rng.integers(0, 40, 400)
    keys = np.unique(users * 40 + items)
    values = rng.integers(1, 6, keys.size).astype(float)
    return keys // 40, keys % 40, values


def test_clone_gives_an_unfitted_estimator_with_equal_params(sklearn, rng):
    from sklearn.base import clone

    model = MatrixFactorization(n_factors=4, n_epochs=3, dtype="float64", verbose=False)
    model.fit(_small_ratings(rng))

    copy = clone(model)

    assert type(copy) is MatrixFactorization and copy is not model
    assert copy.get_params() == model.get_params()
    assert not [name for name in vars(copy) if name.endswith("_")]


def test_get_params_and_set_params_round_trip(rng):
    model = MatrixFactorization(n_factors=4, learning_rate=0.01, method="hogwild")
    params = model.get_params()

    assert set(params) == set(inspect.signature(MatrixFactorization).parameters)
    other = MatrixFactorization()
    assert other.set_params(**params) is other
    assert other.get_params() == params
    assert other.get_params(deep=False) == params
    with pytest.raises(ValueError, match=r"'n_factor' is not a parameter"):
        other.set_params(n_factor=3)


def test_fitted_attributes_end_in_underscore_and_appear_only_after_fit(rng):
    model = MatrixFactorization(n_factors=4, n_epochs=2, random_state=0)
    before = set(vars(model))

    assert not [name for name in before if name.endswith("_")]
    with pytest.raises(NotFittedError):
        model.predict([0], [0])

    model.fit(_small_ratings(rng))
    added = set(vars(model)) - before

    assert added and all(name.endswith("_") for name in added), sorted(added)
    assert not [name for name in added if name.startswith("_")]
    assert (
        model.get_params()
        == MatrixFactorization(n_factors=4, n_epochs=2, random_state=0).get_params()
    )


def test_sklearn_check_is_fitted_accepts_the_model(sklearn, rng):
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted

    model = MatrixFactorization(n_factors=4, n_epochs=2, random_state=0)
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(model)
    check_is_fitted(model.fit(_small_ratings(rng)))

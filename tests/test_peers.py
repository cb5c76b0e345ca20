"""The peer race of ``fastmf bench --peers``: plumbing, arithmetic and errors.

No LIBMF here: a fake ``mf-train``/``mf-predict`` pair, small Python scripts written
into ``tmp_path``, parses LIBMF's arguments, logs them, sleeps in proportion to
``-t`` and writes a model and predictions that depend on the model it was given.
"""

import json
import math
import os
import stat
import sys
import textwrap

import numba
import numpy as np
import pytest

from fastmf import MatrixFactorization, Ratings, synthetic_ratings, train_test_split
from fastmf.bench import (
    SCHEMA,
    PeerError,
    adagrad_available,
    check_peer_settings,
    format_table,
    run_peers,
)
from fastmf.bench._peers import comparisons, surprise_predictions
from fastmf.cli import main

#: Seconds the fake mf-train sleeps per epoch (-t), on top of starting Python.
SLEEP_PER_EPOCH = 0.04

#: Settings of every race here: small and quick.
SETTINGS = {
    "n_factors": 8, "n_epochs": 4, "learning_rate": 0.02, "regularization": 0.05,
}  # fmt: skip
THREADS = min(2, numba.config.NUMBA_NUM_THREADS)


def _fake_libmf(folder, log, fail=False):
    """Write fake ``mf-train`` and ``mf-predict`` into ``folder``; return mf-train."""
    folder.mkdir(exist_ok=True)
    train = textwrap.dedent(
        f"""\
        #!{sys.executable}
        import json, sys, time
        args = sys.argv[1:]
        if not args:
            print("usage: mf-train [options] training_set_file [model_file]")
            print("-t <iter>: set number of iterations (default 20)")
            print("--quiet: quiet mode (no outputs)")
            sys.exit(1)
        if {fail!r}:
            sys.stderr.write("fake failure: number of factors is odd\\n")
            sys.exit(3)
        options, files, i = {{}}, [], 0
        while i < len(args):
            if args[i] == "--quiet":
                options["quiet"] = True
                i += 1
            elif args[i].startswith("-"):
                options[args[i][1:]] = args[i + 1]
                i += 2
            else:
                files.append(args[i])
                i += 1
        with open({str(log)!r}, "a") as handle:
            handle.write(json.dumps({{"argv": args, "options": options}}) + "\\n")
        open(files[0]).read()  # the training file must exist
        time.sleep({SLEEP_PER_EPOCH} * int(options["t"]))
        with open(files[1], "w") as handle:
            json.dump({{"t": int(options["t"]), "k": int(options["k"])}}, handle)
        """
    )
    predict = textwrap.dedent(
        f"""\
        #!{sys.executable}
        import json, sys
        args = sys.argv[1:]
        assert args[:2] == ["-e", "0"], args
        test, model, out = args[2:]
        t = json.load(open(model))["t"]
        with open(out, "w") as handle:
            for line in open(test):
                u, i, r = line.split()
                sign = 1 if (int(u) + int(i)) % 2 == 0 else -1
                handle.write(f"{{float(r) + sign * 0.1 * t}}\\n")
        print("RMSE = 99.0000")  # not to be trusted: the bench computes its own
        """
    )
    for name, text in (("mf-train", train), ("mf-predict", predict)):
        path = folder / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder / "mf-train"


def _fake_prediction(u, i, r, t):
    """What the fake mf-predict answers for a known pair after ``t`` epochs."""
    return r + (1 if (u + i) % 2 == 0 else -1) * 0.1 * t


@pytest.fixture(scope="module")
def split():
    """A tiny compact split whose test part also has an unknown user and item."""
    ratings = synthetic_ratings(80, 60, 2000, random_state=5)
    train, test = train_test_split(ratings, 0.2, random_state=5)
    train = train.compact()
    users = np.concatenate([test.raw_users(), [10_000, 10_001, 0]])
    items = np.concatenate([test.raw_items(), [0, 10_000, 10_001]])
    values = np.concatenate([test.values, [5.0, 1.0, 3.0]])
    return train, Ratings.from_raw_ids(users, items, values)


@pytest.fixture
def fake(tmp_path):
    log = tmp_path / "calls.jsonl"
    return _fake_libmf(tmp_path / "libmf", log), log


def _calls(log):
    return [json.loads(line) for line in log.read_text().splitlines()]


def _expected_libmf_rmse(train, test, t):
    """Test RMSE by the documented rule from the fake's predictions after t epochs."""
    users = train.user_map.lookup(test.raw_users())
    items = train.item_map.lookup(test.raw_items())
    predictions = np.empty(test.n_ratings)
    for n, (u, i, r) in enumerate(zip(users, items, test.values, strict=True)):
        known = u >= 0 and i >= 0
        predictions[n] = _fake_prediction(u, i, r, t) if known else train.values.mean()
    predictions = np.clip(predictions, train.values.min(), train.values.max())
    return math.sqrt(np.mean((test.values - predictions) ** 2))


def test_libmf_command_line_epoch_difference_and_rmse(
    split, fake, tmp_path, monkeypatch
):
    train, test = split
    mf_train, log = fake
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    section = run_peers(
        train, test, **SETTINGS, n_threads=THREADS, repeats=2, surprise=False,
        libmf=str(mf_train), libmf_learning_rate=0.2, methods=("blocked",),
    )  # fmt: skip

    calls = _calls(log)
    epochs = SETTINGS["n_epochs"]
    thread_counts = sorted({1, THREADS})
    # Alternating short and long runs, thread count by thread count, round by round.
    expected = [(t, s) for s in thread_counts for t in (1, epochs)] * 2
    assert [(int(c["options"]["t"]), int(c["options"]["s"])) for c in calls] == expected
    for call in calls:
        options = call["options"]
        assert options["k"] == "8" and options["f"] == "0"
        assert float(options["l2"]) == 0.05 and float(options["r"]) == 0.2
        assert options["quiet"] is True  # the fake's usage text offers --quiet
        # The training file is LIBMF's text format of exactly the training ratings.
        assert call["argv"][-2].startswith(str(scratch))
    # The temporary folder and everything in it are gone.
    assert list(scratch.iterdir()) == []
    assert not os.path.exists(calls[0]["argv"][-2])

    rows = [row for row in section["rows"] if row["library"] == "libmf"]
    assert [row["threads"] for row in rows] == thread_counts
    for row in rows:
        short = np.median(row["rounds"]["short_seconds"])
        long = np.median(row["rounds"]["long_seconds"])
        assert row["seconds_per_epoch"] == pytest.approx((long - short) / (epochs - 1))
        # The fake sleeps SLEEP_PER_EPOCH per epoch; Python's start-up cancels out.
        assert 0.5 * SLEEP_PER_EPOCH < row["seconds_per_epoch"] < 2 * SLEEP_PER_EPOCH
        assert row["ratings_per_second"] == pytest.approx(
            train.n_ratings / row["seconds_per_epoch"]
        )
        assert min(row["rounds"]["long_seconds"]) >= SLEEP_PER_EPOCH * epochs
        # Scored from the long run's predictions file (not the RMSE it prints),
        # the unknown pairs by the mean, everything clipped to the training scale.
        assert row["test_rmse"] == pytest.approx(
            _expected_libmf_rmse(train, test, epochs), rel=1e-6
        )
        assert "-t" in row["command"] and row["command"][-1] == "model.txt"
    assert section["settings"]["libmf_epochs"] == [1, epochs]


def test_ratios_compare_each_fastmf_row_with_the_right_peer():
    def row(library, name, threads, rate, fit, error, sgd=None):
        return {
            "library": library, "name": name, "threads": threads,
            "ratings_per_second": rate, "sgd_ratings_per_second": sgd,
            "fit_seconds": fit, "test_rmse": error,
        }  # fmt: skip

    rows = [
        row("fastmf", "fastmf blocked", 1, 30.0, 2.0, 0.90, sgd=40.0),
        row("libmf", "LIBMF", 1, 10.0, 9.0, 0.95),
        row("surprise", "Surprise SVD", 1, 3.0, 12.0, 0.80),
        row("fastmf", "fastmf blocked", 4, 60.0, 1.0, 0.91, sgd=80.0),
        row("libmf", "LIBMF", 4, 40.0, 3.0, 0.97),
    ]
    found = {(c["fastmf"], c["threads"], c["peer"]): c for c in comparisons(rows)}
    # LIBMF only on as many threads; Surprise (one thread) against every row.
    assert set(found) == {
        ("fastmf blocked", 1, "LIBMF"), ("fastmf blocked", 1, "Surprise SVD"),
        ("fastmf blocked", 4, "LIBMF"), ("fastmf blocked", 4, "Surprise SVD"),
    }  # fmt: skip
    one = found[("fastmf blocked", 1, "LIBMF")]
    assert one["epoch_speed_ratio"] == pytest.approx(3.0)
    assert one["sgd_speed_ratio"] == pytest.approx(4.0)
    assert one["fit_speed_ratio"] is None  # LIBMF's run includes reading files
    assert one["test_rmse_difference"] == pytest.approx(-0.05)
    four = found[("fastmf blocked", 4, "LIBMF")]
    assert four["epoch_speed_ratio"] == pytest.approx(1.5)
    surprise = found[("fastmf blocked", 4, "Surprise SVD")]
    assert surprise["epoch_speed_ratio"] == pytest.approx(20.0)
    assert surprise["fit_speed_ratio"] == pytest.approx(12.0)
    assert surprise["test_rmse_difference"] == pytest.approx(0.11)


def test_fastmf_rows_are_scored_by_the_same_rule(split):
    train, test = split
    section = run_peers(
        train, test, **SETTINGS, n_threads=THREADS, repeats=1, surprise=False, seed=3
    )
    names = {(row["name"], row["threads"]) for row in section["rows"]}
    expected = {("fastmf serial", 1), ("fastmf serial no-bias", 1)}
    for threads in sorted({1, THREADS}):
        expected |= {("fastmf blocked", threads), ("fastmf blocked no-bias", threads)}
    assert names == expected
    assert section["comparisons"] == []  # no peer ran

    low, high = train.values.min(), train.values.max()
    for row in section["rows"]:
        assert row["ratings_per_second"] <= row["sgd_ratings_per_second"] * 1.0001
        model = MatrixFactorization(
            **SETTINGS, method=row["method"], n_threads=row["threads"],
            biased=row["biased"], random_state=3,
        ).fit(train)  # fmt: skip
        predictions, unknown = model.predict(
            test.raw_users(), test.raw_items(), return_unknown=True, clip=False
        )
        assert unknown.sum() >= 3
        if not row["biased"]:
            predictions[unknown] = train.values.mean()
        expected_rmse = math.sqrt(
            np.mean((test.values - np.clip(predictions, low, high)) ** 2)
        )
        assert row["test_rmse"] == pytest.approx(expected_rmse, rel=1e-12)


def test_fastmf_rows_skip_the_training_rmse_pass_unless_asked(split):
    # The peers score no training set after each epoch, so fastmf's rows report
    # the online RMSE by default; model_params can ask for the exact pass.
    train, test = split
    race = dict(**SETTINGS, n_threads=1, repeats=1, surprise=False, seed=3,
                methods=("blocked",))  # fmt: skip
    for params, wanted in ((None, "online"), ({"train_rmse": "exact"}, "exact")):
        section = run_peers(train, test, model_params=params, **race)
        for row in section["rows"]:
            assert row["train_rmse"] == wanted
            assert ("training-RMSE pass" in row["note"]) == (wanted == "exact")


def test_surprise_row_trains_with_the_bench_settings(split, monkeypatch):
    surprise = pytest.importorskip("surprise")
    pytest.importorskip("pandas")
    train, test = split
    made = []

    class Recording(surprise.SVD):
        def __init__(self, **kwargs):
            made.append(kwargs)
            super().__init__(**kwargs)

    monkeypatch.setattr(surprise, "SVD", Recording)
    section = run_peers(
        train, test, **SETTINGS, n_threads=1, repeats=2, methods=("serial",), seed=7,
    )  # fmt: skip
    assert made == [
        {
            "n_factors": 8, "n_epochs": 4, "lr_all": 0.02, "reg_all": 0.05,
            "init_std_dev": MatrixFactorization().init_std, "biased": True,
            "random_state": 7,
        }
    ] * 2  # fmt: skip
    row = next(r for r in section["rows"] if r["library"] == "surprise")
    assert len(row["rounds"]["fit_seconds"]) == 2
    assert row["seconds_per_epoch"] == pytest.approx(row["fit_seconds"] / 4)
    assert row["ratings_per_second"] == pytest.approx(
        train.n_ratings / row["seconds_per_epoch"]
    )
    # Same algorithm, same settings: fastmf's serial row lands close by.
    serial = next(r for r in section["rows"] if r["name"] == "fastmf serial")
    assert abs(serial["test_rmse"] - row["test_rmse"]) < 0.05
    ratio = next(c for c in section["comparisons"] if c["fastmf"] == "fastmf serial")
    assert ratio["fit_speed_ratio"] == pytest.approx(
        row["fit_seconds"] / serial["fit_seconds"]
    )


def test_surprise_predictions_match_surprise_own_predict(split):
    surprise = pytest.importorskip("surprise")
    pandas = pytest.importorskip("pandas")
    from fastmf.bench._peers import _TestSet

    train, test = split
    frame = pandas.DataFrame(
        {"user": train.users, "item": train.items, "rating": train.values}
    )
    reader = surprise.Reader(rating_scale=(1, 5))
    trainset = surprise.Dataset.load_from_df(frame, reader).build_full_trainset()
    algo = surprise.SVD(n_factors=4, n_epochs=3, random_state=0).fit(trainset)
    tests = _TestSet(train, test)
    ours = surprise_predictions(algo, tests)
    theirs = [
        algo.predict(int(u) if u >= 0 else "?", int(i) if i >= 0 else "?", clip=False)
        for u, i in zip(tests.users, tests.items, strict=True)
    ]
    assert np.allclose(ours, [p.est for p in theirs], rtol=0, atol=1e-12)
    assert not tests.known.all()  # unknown ids took Surprise's fallback too


def test_missing_surprise_skips_its_row_with_one_line(split, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "surprise", None)  # import fails
    train, test = split
    section = run_peers(train, test, **SETTINGS, n_threads=1, repeats=1)
    assert all(row["library"] == "fastmf" for row in section["rows"])
    [skipped] = section["skipped"]
    assert "fastmf[surprise]" in skipped["reason"]

    status = main(
        ["bench", "--synthetic-ratings", "1500", "--synthetic-users", "60",
         "--synthetic-items", "50", "--factors", "4", "--epochs", "3",
         "--no-reference", "--methods", "serial", "--dtype", "float32",
         "--peers", "--peer-repeats", "1"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0
    assert "pip install 'fastmf[surprise]'" in captured.err
    assert "Traceback" not in captured.err
    assert "skipped: Surprise's SVD skipped" in captured.out


def _bench_argv(mf_train, *extra):
    return [
        "bench", "--synthetic-ratings", "1500", "--synthetic-users", "60",
        "--synthetic-items", "50", "--factors", "4", "--epochs", "3",
        "--no-reference", "--methods", "serial", "--dtype", "float32",
        "--libmf", str(mf_train), "--peer-repeats", "1", *extra,
    ]  # fmt: skip


def test_cli_json_carries_the_peers_section(fake, tmp_path, capsys):
    mf_train, _ = fake
    output = tmp_path / "bench.json"
    argv = _bench_argv(mf_train, "--format", "json", "--output", str(output))
    assert main([*argv, "--threads", "1", "--libmf-lr", "0.3"]) == 0
    result = json.loads(output.read_text())
    assert result["schema"] == SCHEMA
    peers = result["peers"]
    assert peers["settings"]["threads"] == [1]
    assert peers["libmf"]["mf_train"] == str(mf_train)
    libraries = {row["library"] for row in peers["rows"]}
    assert {"fastmf", "libmf"} <= libraries
    libmf = next(row for row in peers["rows"] if row["library"] == "libmf")
    assert libmf["learning_rate"] == 0.3 and "0.3" in libmf["command"]
    assert any(c["peer"] == "LIBMF" for c in peers["comparisons"])
    table = format_table(result)
    assert "peer race" in table and "speed ratio epoch" in table
    assert "mf-train -f 0 -k 4 -t 3" in table


@pytest.mark.parametrize("problem", ["missing", "not executable", "no mf-predict"])
def test_a_bad_libmf_path_is_one_line_before_any_work(fake, problem, capsys):
    mf_train, _ = fake
    if problem == "missing":
        mf_train = mf_train.parent / "nowhere" / "mf-train"
    elif problem == "not executable":
        mf_train.chmod(0o644)
    else:
        (mf_train.parent / "mf-predict").unlink()
    status = main(_bench_argv(mf_train))
    err = capsys.readouterr().err
    assert status == 1
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    named = mf_train if problem != "no mf-predict" else mf_train.parent / "mf-predict"
    assert str(named) in err
    assert "parity check" not in err  # nothing ran
    with pytest.raises(PeerError, match="LIBMF"):
        run_peers(*synthetic_split(), **SETTINGS, libmf=str(mf_train), surprise=False)


def synthetic_split():
    return train_test_split(synthetic_ratings(40, 30, 600, random_state=1), 0.2)


def test_a_failing_libmf_run_names_it_and_its_stderr(tmp_path, monkeypatch, capsys):
    mf_train = _fake_libmf(tmp_path / "libmf", tmp_path / "log", fail=True)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    status = main(_bench_argv(mf_train))
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert err[-1].startswith("fastmf bench: error: LIBMF's")
    assert str(mf_train) in err[-1] and "exit status 3" in err[-1]
    assert "fake failure: number of factors is odd" in err[-1]
    assert not any("Traceback" in line for line in err)
    assert list(scratch.iterdir()) == []  # removed on failure as well


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"repeats": 0}, "--peer-repeats must be"),
        ({"libmf_learning_rate": 0.0}, "--libmf-lr must be"),
        ({"libmf_learning_rate": float("nan")}, "--libmf-lr must be"),
        ({"n_epochs": 2, "libmf": "mf-train"}, "needs --epochs >= 3"),
    ],
)
def test_peer_settings_are_checked_first(kwargs, message):
    arguments = {
        "n_epochs": 20, "repeats": 3, "libmf_learning_rate": 0.1, "libmf": None,
        "adagrad": False, **kwargs,
    }  # fmt: skip
    with pytest.raises(ValueError, match=message):
        check_peer_settings(**arguments)


def test_adagrad_rows_only_where_the_model_has_adagrad(split, fake, capsys):
    train, test = split
    if not adagrad_available():
        with pytest.raises(ValueError, match="adagrad"):
            run_peers(train, test, **SETTINGS, adagrad=True, surprise=False)
        with pytest.raises(SystemExit):
            main([*_bench_argv(fake[0]), "--adagrad"])
        assert "unrecognized arguments: --adagrad" in capsys.readouterr().err
        return
    section = run_peers(
        train, test, **SETTINGS, n_threads=1, repeats=1, surprise=False,
        adagrad=True, libmf_learning_rate=0.07,
    )  # fmt: skip
    rows = [row for row in section["rows"] if row["adagrad"]]
    assert {row["name"] for row in rows} == {
        "fastmf blocked adagrad", "fastmf blocked adagrad no-bias",
    }  # fmt: skip
    assert all(row["learning_rate"] == 0.07 for row in rows)

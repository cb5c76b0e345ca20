"""The ``fastmf train`` command and its error handling."""

import subprocess
import sys

import numpy as np
import pytest

from fastmf import MatrixFactorization
from fastmf.cli import main


@pytest.fixture
def ratings_csv(tmp_path, rng):
    users = rng.integers(1, 40, 600)
    items = rng.integers(1, 30, 600)
    keys = np.unique(users * 100 + items)
    lines = ["userId,movieId,rating,timestamp"]
    lines += [f"{k // 100},{k % 100},{1 + k % 5}.0,123" for k in keys]
    path = tmp_path / "ratings.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    return path, len(keys)


def test_train_prints_progress_and_saves_a_loadable_model(
    ratings_csv, tmp_path, capsys
):
    path, n = ratings_csv
    saved = tmp_path / "model.npz"
    status = main([
        "train", str(path), "--factors", "4", "--epochs", "3", "--test-fraction",
        "0.2", "--save", str(saved),
    ])  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0
    assert captured.out == ""  # progress goes to stderr, stdout stays clean
    epochs = [line for line in captured.err.splitlines() if line.startswith("epoch")]
    assert len(epochs) == 3
    assert "validation RMSE" in epochs[0] and "M ratings/s" in epochs[0]
    assert f"read {n:,} ratings" in captured.err
    assert f"training on {n - round(n * 0.2):,} ratings" in captured.err
    model = MatrixFactorization.load(saved)
    assert model.n_factors == 4 and len(model.history_["epoch"]) == 3


def test_bad_file_exits_non_zero_with_one_line_naming_line_and_column(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("1,2,3\n1,3,4\n2,4,x\n")
    status = main(["train", str(path), "--epochs", "1"])
    err = capsys.readouterr().err.strip()
    assert status == 1
    assert len(err.splitlines()) == 1
    assert "line 3, column 3" in err and "'x'" in err and "Traceback" not in err


def test_missing_file_and_empty_file(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope.csv")]) == 1
    assert "no such ratings file" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["train", str(empty)]) == 1
    assert "empty" in capsys.readouterr().err


def test_fastmf_command_is_installed_and_shows_help():
    result = subprocess.run(
        [sys.executable, "-m", "fastmf.cli", "train", "--help"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0
    assert "examples:" in result.stdout and "--validation" in result.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "--epochs", "0"], "n_epochs must be >= 1"),
        (["bench", "--factors", "0"], "n_factors must be >= 1"),
        (["bench", "--threads", "0"], "n_threads must be between 1"),
        (["bench", "--reg", "-1"], "regularization must be >= 0"),
        (["bench", "--test-fraction", "1.5"], "--test-fraction must be strictly"),
        (["bench", "--reference-budget", "nan"], "--reference-budget must be"),
        (["bench", "--output", "/nonexistent/x.json"], "does not exist"),
    ],
)
def test_bench_rejects_bad_options_before_doing_any_work(argv, message, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 1
    assert message in captured.err and "Traceback" not in captured.err
    assert "parity check" not in captured.err  # nothing ran


def test_train_checks_options_and_destination_before_reading(ratings_csv, capsys):
    path, _ = ratings_csv
    assert main(["train", str(path), "--test-fraction", "0"]) == 1
    assert "--test-fraction must be strictly" in capsys.readouterr().err
    assert main(["train", str(path), "--save", "/nonexistent/m.npz"]) == 1
    err = capsys.readouterr().err
    assert "/nonexistent/m.npz" in err and "does not exist" in err
    assert "read " not in err  # failed before reading the file


def test_separator_escapes_are_decoded(tmp_path, capsys):
    path = tmp_path / "tabs.txt"
    path.write_text("1\t2\t3\n2\t1\t4\n3\t3\t5\n")
    assert main(["train", str(path), "--sep", "\\t", "--epochs", "1"]) == 0
    assert "read 3 ratings" in capsys.readouterr().err


def test_a_closed_pipe_stops_train_quietly(ratings_csv):
    path, _ = ratings_csv
    train = f"{sys.executable} -m fastmf.cli train {path} --epochs 500 --factors 2"
    command = f"{train} 2>&1 | head -2; echo status ${{PIPESTATUS[0]}}"
    result = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, check=False,
        timeout=120,
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert lines[0].startswith("read ") and lines[1].startswith("epoch   1")
    assert lines[-1] in ("status 141", "status 0")  # stopped quietly
    assert "Traceback" not in result.stderr


# -- the model commands: predict, recommend, eval, export (CASE-03, -15, -17, -33) --

CASE_15 = "u1,i1,5\nu1,i2,3\nu2,i1,4\nu2,i3,1\nu3,i2,2\nu3,i3,5\n"


@pytest.fixture
def saved_model(tmp_path):
    ratings = tmp_path / "case15.csv"
    ratings.write_text(CASE_15)
    model_path = tmp_path / "model.npz"
    status = main(["train", str(ratings), "--factors", "2", "--epochs", "30",
                   "--quiet", "--save", str(model_path)])  # fmt: skip
    assert status == 0
    return model_path, MatrixFactorization.load(model_path)


def test_quiet_training_writes_nothing(tmp_path, capsys):
    ratings = tmp_path / "case15.csv"
    ratings.write_text(CASE_15)
    assert main(["train", str(ratings), "--epochs", "3", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_case_03_predict_keeps_rows_in_order_and_flags_the_fallback(
    saved_model, tmp_path, capsys
):
    path, model = saved_model
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("u1,i9\nu9,i1\nu9,i9\nu1,i3\n")
    capsys.readouterr()
    assert main(["predict", str(path), str(pairs), "--no-clip"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "user,item,prediction,unknown"
    body = [line.split(",") for line in rows[1:]]
    assert [(u, i, flag) for u, i, _, flag in body] == [
        ("u1", "i9", "1"), ("u9", "i1", "1"), ("u9", "i9", "1"), ("u1", "i3", "0"),
    ]  # fmt: skip
    expected = model.predict(["u1", "u9", "u9", "u1"], ["i9", "i1", "i9", "i3"],
                             clip=False)  # fmt: skip
    np.testing.assert_array_equal([float(row[2]) for row in body], expected)


def test_case_15_recommend_from_the_command_line(saved_model, capsys):
    path, _ = saved_model
    capsys.readouterr()
    assert main(["recommend", str(path), "--users", "u1", "u2", "u3", "-n", "10"]) == 0
    rows = [line.split(",") for line in capsys.readouterr().out.splitlines()[1:]]
    assert [(u, i) for u, _, i, _ in rows] == [("u1", "i3"), ("u2", "i2"), ("u3", "i1")]


def test_recommend_json_for_every_user(saved_model, tmp_path, capsys):
    import json

    path, model = saved_model
    out = tmp_path / "top.json"
    assert main(["recommend", str(path), "--all", "--include-seen", "-n", "2",
                 "--format", "json", "--output", str(out)]) == 0  # fmt: skip
    document = json.loads(out.read_text())
    assert [entry["user"] for entry in document] == model.user_ids_.tolist()
    first = model.recommend("u1", n=2, exclude_seen=False)
    assert document[0]["items"] == first[0].tolist()
    assert document[0]["scores"] == first[1].tolist()


def test_eval_reports_rmse_and_mae(saved_model, tmp_path, capsys):
    import json

    from fastmf import mae, read_ratings, rmse

    path, model = saved_model
    test = tmp_path / "test.csv"
    test.write_text("u1,i3,4\nu2,i2,2\nu9,i1,3\n")
    capsys.readouterr()
    assert main(["eval", str(path), str(test), "--format", "json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    ratings = read_ratings(test)
    predictions = model.predict(ratings.raw_users(), ratings.raw_items())
    assert scores["rmse"] == pytest.approx(rmse(ratings.values, predictions))
    assert scores["mae"] == pytest.approx(mae(ratings.values, predictions))
    assert scores["n_ratings"] == 3 and scores["n_unknown"] == 1


def test_export_libmf_from_the_command_line(saved_model, tmp_path):
    path, model = saved_model
    out = tmp_path / "model.libmf"
    assert main(["export", str(path), "--libmf", str(out)]) == 0
    assert out.read_text().startswith(f"f 0\nm {len(model.user_ids_)}\n")


def test_case_17_cli_saved_model_predicts_like_the_api(saved_model, tmp_path):
    _, model = saved_model
    ratings = tmp_path / "case15.csv"
    api = MatrixFactorization(n_factors=2, n_epochs=30, random_state=0)
    api.fit(read_case_15(ratings))
    pairs = (["u1", "u2", "u3", "u9"], ["i3", "i2", "i1", "i9"])
    np.testing.assert_array_equal(model.predict(*pairs), api.predict(*pairs))
    assert model.user_ids_.dtype.kind == "U"  # string ids stay strings


def read_case_15(path):
    from fastmf import read_ratings

    path.write_text(CASE_15)
    return read_ratings(path)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["predict", "missing.npz", "pairs.csv"], "no such model file"),
        (["recommend", "MODEL", "--users", "u1", "-n", "-1"], "-n must be >= 0"),
        (["export", "MODEL", "--libmf", "/nonexistent/m.libmf"], "does not exist"),
    ],
)
def test_model_commands_fail_with_one_line(saved_model, capsys, argv, needle):
    path, _ = saved_model
    argv = [str(path) if a == "MODEL" else a for a in argv]
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_train_passes_blocked_adagrad_and_no_bias_options(ratings_csv, tmp_path):
    path, _ = ratings_csv
    saved = tmp_path / "model.npz"
    status = main([
        "train", str(path), "--factors", "3", "--epochs", "2", "--method", "blocked",
        "--blocks", "3", "--adagrad", "--lr", "0.05", "--no-bias", "--quiet",
        "--save", str(saved),
    ])  # fmt: skip
    assert status == 0
    model = MatrixFactorization.load(saved)
    assert (model.method, model.n_blocks, model.adagrad) == ("blocked", 3, True)
    assert model.biased is False and model.global_mean_ == 0.0
    assert not np.any(model.user_bias_) and np.all(model.user_grad_sums_ >= 1)


def test_train_names_the_blocks_flag_in_its_errors(ratings_csv, capsys):
    path, _ = ratings_csv
    assert main(["train", str(path), "--method", "blocked", "--blocks", "0"]) == 1
    assert "--blocks must be between 1 and 255; got 0" in capsys.readouterr().err
    assert main(["train", str(path), "--blocks", "4"]) == 1
    assert "--blocks needs --method blocked" in capsys.readouterr().err

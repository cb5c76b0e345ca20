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
    epochs = [line for line in captured.out.splitlines() if line.startswith("epoch")]
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
    train = f"{sys.executable} -m fastmf.cli train {path} --epochs 200 --factors 2"
    command = f"{train} | head -1"
    result = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, check=False
    )
    assert result.stdout.startswith("epoch   1")
    assert "Traceback" not in result.stderr and "Logging error" not in result.stderr

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
    path.write_text("1,2,3\n1,3,4\n2,x,5\n")
    status = main(["train", str(path), "--epochs", "1"])
    err = capsys.readouterr().err.strip()
    assert status == 1
    assert len(err.splitlines()) == 1
    assert "line 3, column 2" in err and "'x'" in err and "Traceback" not in err


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

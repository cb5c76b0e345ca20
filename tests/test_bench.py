"""The benchmark behind ``fastmf bench``: structure, parity and honesty of rows."""

import json

import pytest

from fastmf import synthetic_ratings, train_test_split
from fastmf.bench import SCHEMA, format_table, run_benchmark
from fastmf.cli import main


@pytest.fixture(scope="module")
def split():
    ratings = synthetic_ratings(60, 50, 1500, random_state=3)
    return train_test_split(ratings, 0.2, random_state=3)


def test_every_variant_starts_where_the_reference_starts(split):
    train, test = split
    result = run_benchmark(train, test, n_factors=8, n_epochs=4, seed=1)

    rows = {(r["variant"], r["dtype"]): r for r in result["rows"]}
    assert set(rows) == {
        ("reference", "float64"),
        ("serial", "float64"), ("serial", "float32"),
        ("hogwild", "float64"), ("hogwild", "float32"),
        ("blocked", "float64"), ("blocked", "float32"),
    }  # fmt: skip
    reference = rows[("reference", "float64")]
    assert reference["note"] == "full run"
    # Same start, same orders: the float64 serial kernel is the reference.
    serial = rows[("serial", "float64")]
    assert serial["train_rmse"] == pytest.approx(reference["train_rmse"], abs=1e-9)
    assert abs(serial["test_rmse_difference"]) < 1e-9
    assert abs(rows[("serial", "float32")]["test_rmse_difference"]) < 1e-4
    assert result["parity"]["max_abs_parameter_difference"] < 1e-9
    assert result["parity"]["max_abs_cost_difference"] < 1e-9
    for row in result["rows"]:
        assert row["speedup"] == pytest.approx(
            row["sgd_ratings_per_second"] / reference["sgd_ratings_per_second"]
        )
        assert row["ratings_per_second"] <= row["sgd_ratings_per_second"] * 1.0001


def test_a_reference_over_budget_is_timed_on_a_subset_and_says_so(split):
    train, test = split
    result = run_benchmark(
        train, test, n_factors=4, n_epochs=2, methods=("serial",), dtypes=("float32",),
        reference_budget=1e-9,
    )  # fmt: skip
    reference = result["rows"][0]
    assert reference["note"].startswith("timed on")
    assert reference["test_rmse"] is None
    assert result["rows"][1]["test_rmse_difference"] is None
    table = format_table(result)
    assert "reference *" in table and "per-epoch time extrapolated" in table


def test_cli_bench_writes_json_with_the_documented_schema(tmp_path, capsys):
    output = tmp_path / "bench.json"
    status = main([
        "bench", "--synthetic-ratings", "1200", "--synthetic-users", "40",
        "--synthetic-items", "60", "--factors", "4", "--epochs", "2",
        "--format", "json", "--output", str(output),
    ])  # fmt: skip
    assert status == 0
    result = json.loads(output.read_text())
    assert result["schema"] == SCHEMA
    assert {"machine", "settings", "compile", "parity", "rows", "data"} <= set(result)
    assert result["data"]["n_train"] + result["data"]["n_test"] == 1200
    row_keys = {
        "variant", "threads", "dtype", "seconds_per_epoch", "ratings_per_second",
        "sgd_ratings_per_second", "speedup", "train_rmse", "test_rmse",
        "test_rmse_difference", "note",
    }  # fmt: skip
    assert all(set(row) == row_keys for row in result["rows"])
    assert "reference" in capsys.readouterr().err  # progress on stderr


def test_cli_bench_table_on_a_real_file(data_file, capsys):
    path = data_file("ml-100k/u.data")
    status = main([
        "bench", "--data", str(path), "--factors", "8", "--epochs", "2",
        "--methods", "serial", "--dtype", "float32", "--reference-budget", "0.5",
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0
    assert "80,000 training and 20,000 test ratings" in out
    assert out.splitlines()[0].split()[:3] == ["variant", "threads", "dtype"]

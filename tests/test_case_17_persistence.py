"""CASE-17: every save route reloads in a fresh process and predicts identically."""

import json
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fastmf import MatrixFactorization
from fastmf.cli import main

STRING_IDS = (
    ["u1", "u1", "u2", "u2", "u3", "u3"],
    ["i1", "i2", "i1", "i3", "i2", "i3"],
    [5.0, 3.0, 4.0, 1.0, 2.0, 5.0],
)
INTEGER_IDS = ([1, 1, 2, 2, 3, 3], [10, 20, 10, 30, 20, 30], STRING_IDS[2])

LOADER = textwrap.dedent(
    """
    import json, pickle, sys
    import numpy as np
    from fastmf import MatrixFactorization

    route, path, users, items, first_user = json.loads(sys.argv[1])
    if route == "pickle":
        with open(path, "rb") as handle:
            model = pickle.load(handle)
    else:
        model = MatrixFactorization.load(path)
    kind = model.user_ids_.dtype.kind
    users = np.array(users, dtype=str if kind == "U" else np.int64)
    items = np.array(items, dtype=str if kind == "U" else np.int64)
    predictions = model.predict(users, items)
    top = model.recommend(users[first_user], n=5)
    print(json.dumps({
        "predictions": predictions.tolist(),
        "top_items": top[0].tolist(),
        "top_scores": top[1].tolist(),
        "params": {k: v for k, v in model.get_params().items()
                   if k != "random_state"},
        "scale": list(model.rating_scale_),
        "dtype": str(model.user_factors_.dtype),
        "id_kind": kind,
    }))
    """
)


def _all_pairs(data):
    users = sorted(set(data[0]))
    items = sorted(set(data[1]))
    pairs = [(u, i) for u in users for i in items]
    unknown = ("u9", "i9") if isinstance(data[0][0], str) else (99, 999)
    pairs.append(unknown)
    return [p[0] for p in pairs], [p[1] for p in pairs]


@pytest.mark.parametrize("data", [STRING_IDS, INTEGER_IDS], ids=["str", "int"])
@pytest.mark.parametrize("route", ["save", "pickle", "cli"])
def test_case_17_every_route_round_trips(tmp_path, capsys, data, route):
    model = MatrixFactorization(n_factors=3, random_state=0)
    model.fit(data)
    users, items = _all_pairs(data)
    path = tmp_path / "model.bin"
    if route == "save":
        model.save(path)
    elif route == "pickle":
        path.write_bytes(pickle.dumps(model))
    else:
        ratings = tmp_path / "ratings.csv"
        ratings.write_text(
            "".join(f"{u},{i},{r}\n" for u, i, r in zip(*data, strict=True))
        )
        argv = ["train", str(ratings), "--factors", "3", "--seed", "0", "--quiet",
                "--save", str(path)]  # fmt: skip
        assert main(argv) == 0

    payload = json.dumps([route if route == "pickle" else "save", str(path),
                          users, items, 0])  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", LOADER, payload], capture_output=True, text=True,
        check=True, timeout=300,
    )  # fmt: skip
    loaded = json.loads(result.stdout.strip().splitlines()[-1])

    expected = model.predict(np.array(users), np.array(items))
    np.testing.assert_array_equal(loaded["predictions"], expected)
    top = model.recommend(np.array(users)[0], n=5)
    assert loaded["top_items"] == top[0].tolist()
    assert loaded["top_scores"] == top[1].tolist()
    assert loaded["id_kind"] == ("U" if isinstance(data[0][0], str) else "i")
    assert loaded["scale"] == list(model.rating_scale_)
    assert loaded["dtype"] == "float32"
    params = {k: v for k, v in model.get_params().items() if k != "random_state"}
    assert loaded["params"] == params

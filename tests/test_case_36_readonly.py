"""CASE-36: a read-only install with no usable home still imports, fits and predicts."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fastmf

SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as caught:
        import fastmf
        from fastmf.bench import compile_info
        from fastmf.cli import main
    model = fastmf.MatrixFactorization(n_factors=2, random_state=0)
    users = ["u1", "u1", "u2", "u2", "u3", "u3"]
    items = ["i1", "i2", "i1", "i3", "i2", "i3"]
    model.fit((users, items, [5.0, 3.0, 4.0, 1.0, 2.0, 5.0]))
    status = main(["train", sys.argv[1], "--epochs", "1", "--factors", "2"])
    print(json.dumps({
        "file": fastmf.__file__,
        "prediction": float(model.predict("u1", "i3")),
        "cli": status,
        "warnings": [str(w.message) for w in caught],
        "compiled": compile_info()["compiled_signatures"],
    }))
    """
)


@pytest.fixture(scope="module")
def read_only_install(tmp_path_factory):
    """A copy of the installed package on a read-only bind mount, or a skip."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a read-only bind mount needs root and mount(8)")
    source = tmp_path_factory.mktemp("install")
    shutil.copytree(Path(fastmf.__file__).parent, source / "fastmf",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    target = tmp_path_factory.mktemp("readonly")
    steps = [
        ["mount", "--bind", str(source), str(target)],
        ["mount", "-o", "remount,ro,bind", str(target)],
    ]
    for step in steps:
        if subprocess.run(step, capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", str(target)], capture_output=True, check=False)
            pytest.skip("this machine does not allow a read-only bind mount")
    yield target
    subprocess.run(["umount", str(target)], capture_output=True, check=False)


def _run(install, ratings_file, cache_dir=None):
    env = {
        k: v for k, v in os.environ.items()
        if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")
    }  # fmt: skip
    env["HOME"] = str(install / "no-home")  # on the read-only mount: unusable
    env["PYTHONPATH"] = str(install)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ratings_file)],
        cwd=install, env=env, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_case_36_read_only_install_works_and_a_cache_dir_is_reused(
    read_only_install, tmp_path
):
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("1,10,5\n1,20,3\n2,10,4\n2,30,1\n3,20,2\n3,30,5\n")

    plain = _run(read_only_install, ratings)
    assert plain["file"].startswith(str(read_only_install))
    assert plain["cli"] == 0
    cache_warnings = [w for w in plain["warnings"] if "on-disk cache" in w]
    assert len(cache_warnings) == 1 and "NUMBA_CACHE_DIR" in cache_warnings[0]

    cache = tmp_path / "numba-cache"
    first = _run(read_only_install, ratings, cache)
    second = _run(read_only_install, ratings, cache)
    assert any(cache.rglob("*.nbi")), "the cache went somewhere else"
    assert first["compiled"] > 0 and second["compiled"] == 0
    assert not first["warnings"] and not second["warnings"]
    assert plain["prediction"] == first["prediction"] == second["prediction"]

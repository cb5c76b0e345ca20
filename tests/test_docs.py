"""The worked examples in docs/ run and show what the docs say they show."""

import itertools
import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def _run(script):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_textbook_example_cost_falls_and_kernel_matches_reference():
    out = _run("textbook.py")
    costs = [float(c) for c in re.findall(r"epoch +\d+  cost (\d\.\d+)", out)]
    assert len(costs) == 11  # ten reference lines and the kernel's last epoch
    reference, kernel_last = costs[:10], costs[10]
    assert all(b < a for a, b in itertools.pairwise(reference))
    assert reference[0] > 1.0 and reference[-1] < 0.35
    assert kernel_last == reference[-1]
    difference = float(re.search(r"largest cost difference .*: (\S+)", out)[1])
    assert difference < 1e-12


def test_kernels_example_trains():
    out = _run("kernels.py")
    rmse = [float(x) for x in re.findall(r"RMSE after the epoch (\d\.\d+)", out)]
    assert len(rmse) == 10 and rmse[-1] < rmse[0]

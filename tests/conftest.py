"""Shared fixtures: where the real rating sets live, and skipping without them."""

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _data_dir():
    configured = os.environ.get("FASTMF_DATA_DIR")
    return Path(configured) if configured else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_file():
    """Return a function giving the path of a real data file, or skipping.

    The real rating sets live outside the repository (their licences forbid
    copying them in): in $FASTMF_DATA_DIR, else in ../shared/data.
    """

    def locate(relative):
        path = _data_dir() / relative
        if not path.exists():
            pytest.skip(
                f"real data file {relative} not found under {_data_dir()} (set "
                "FASTMF_DATA_DIR to the folder holding the public rating sets)"
            )
        return path

    return locate


@pytest.fixture
def rng():
    """A local generator per test; no global seed."""
    return np.random.default_rng(12345)

"""The first import compiles for about a minute: it says so instead of looking hung."""

import logging
import subprocess
import sys
import time

from fastmf import kernels


def test_a_slow_block_is_announced_once_and_a_fast_one_not(caplog):
    caplog.set_level(logging.WARNING, logger="fastmf")
    with kernels._notice_if_slow(0.05, "compiling, please wait"):
        time.sleep(0.4)
    announced = [
        r for r in caplog.records if r.getMessage() == "compiling, please wait"
    ]
    assert len(announced) == 1 and announced[0].name == "fastmf"

    caplog.clear()
    with kernels._notice_if_slow(0.2, "never said"):
        pass
    time.sleep(0.4)  # well past the delay: the timer was cancelled
    assert not caplog.records


def test_an_import_that_loads_from_the_cache_says_nothing():
    # This process has compiled (or loaded) every kernel, so the cache is warm.
    result = subprocess.run(
        [sys.executable, "-c", "import fastmf"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert "compiling" not in result.stderr

"""The benchmark behind ``fastmf bench``: speed and RMSE parity, side by side."""

from ._bounds import bounds
from ._report import format_table
from ._runner import SCHEMA, compile_info, machine_info, parity_check, run_benchmark

__all__ = [
    "SCHEMA",
    "bounds",
    "compile_info",
    "format_table",
    "machine_info",
    "parity_check",
    "run_benchmark",
]

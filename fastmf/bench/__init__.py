"""The benchmark behind ``fastmf bench``: speed and RMSE parity, side by side."""

from ._bounds import bounds
from ._peers import (
    LIBMF_LEARNING_RATE,
    PEER_REPEATS,
    PeerError,
    adagrad_available,
    check_peer_settings,
    find_libmf,
    run_peers,
)
from ._report import format_peers, format_table
from ._runner import SCHEMA, compile_info, machine_info, parity_check, run_benchmark

__all__ = [
    "LIBMF_LEARNING_RATE",
    "PEER_REPEATS",
    "SCHEMA",
    "PeerError",
    "adagrad_available",
    "bounds",
    "check_peer_settings",
    "compile_info",
    "find_libmf",
    "format_peers",
    "format_table",
    "machine_info",
    "parity_check",
    "run_benchmark",
    "run_peers",
]

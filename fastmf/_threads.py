"""Thread count and threading-layer safety for the parallel kernels.

Numba's thread count is per calling thread, so it is set and restored around
every parallel call, in the thread that makes it. Numba's "workqueue" layer (the
fallback when neither TBB nor OpenMP loads) aborts the process when two Python
threads run parallel code at once; on that layer fastmf's parallel calls take
turns behind a lock instead.
"""

import contextlib
import threading

import numba

_LOCK = threading.Lock()


def _layer_is_threadsafe():
    try:
        return numba.threading_layer() != "workqueue"
    except ValueError:  # no parallel code has run yet in this process
        return None


@contextlib.contextmanager
def parallel_section(n_threads=None):
    """Run parallel kernels with ``n_threads`` threads (all when None).

    Restores the caller's thread count afterwards, even on error, and serialises
    parallel sections when the threading layer is not thread-safe.
    """
    previous = numba.get_num_threads()
    if n_threads is not None:
        numba.set_num_threads(n_threads)
    safe = _layer_is_threadsafe()
    lock = contextlib.nullcontext() if safe else _LOCK
    try:
        with lock:
            yield
    finally:
        numba.set_num_threads(previous)

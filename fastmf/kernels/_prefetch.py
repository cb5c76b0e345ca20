"""Software prefetch, which Numba does not expose, as a tiny LLVM intrinsic."""

import numba
import numba as nb
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import CACHE, NOGIL

_CACHE_LINE = 64


@intrinsic
def _prefetch_compiled(typingctx, array, flat_index):
    """Hint the CPU to bring ``array.flat[flat_index]`` into L1 for writing."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        data = context.make_array(array_type)(context, builder, args[0]).data
        pointer = builder.gep(data, [args[1]])

        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
        prefetch = cgutils.get_or_insert_function(
            builder.module, function_type, "llvm.prefetch.p0"
        )
        # Arguments: address, 1 = prefetch for write, 3 = keep in all cache
        # levels, 1 = data cache.
        builder.call(
            prefetch, [builder.bitcast(pointer, byte_pointer), i32(1), i32(3), i32(1)]
        )
        return context.get_dummy_value()

    return types.void(array, flat_index), codegen


def _prefetch_python(array, flat_index):
    """A hint has nothing to do when the kernels run as plain Python."""


# With NUMBA_DISABLE_JIT=1 (used to measure coverage of the kernel bodies) the
# kernels run as Python and cannot call an LLVM intrinsic.
_prefetch_element = _prefetch_python if numba.config.DISABLE_JIT else _prefetch_compiled


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def prefetch_row(M, row):
    """Prefetch every cache line of row ``row`` of the C-contiguous 2-D array ``M``.

    A hint only: it never faults and never changes results.
    """
    k = M.shape[1]
    start = row * k
    for f in range(0, k, _CACHE_LINE // M.itemsize):
        _prefetch_element(M, start + f)

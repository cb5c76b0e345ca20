"""LIBMF's model text format, written and read.

A LIBMF model file holds ``f`` (loss), ``m`` and ``n`` (rows and columns), ``k``,
``b`` (the mean rating, returned for unknown rows) and then one line per row of
P and of Q: ``p<j> T v1 ... vk`` (``F`` and zeros for a row with no rating). LIBMF
predicts ``p_u . q_i`` and has no bias terms, so a biased fastmf model is written
with two extra columns that carry them exactly:

    p'_u = [p_u, 1, mu + b_u]        q'_i = [q_i, b_i, 1]

so that ``p'_u . q'_i = mu + b_u + b_i + p_u . q_i``, and ``b = mu``, which is
also fastmf's prediction when neither the user nor the item is known. Values are
written with 9 significant digits, enough for every float32 to come back exactly
(LIBMF stores float32; a float64 model is rounded to float32 on the way).
"""

import numpy as np

from ._io import atomic_write

_DIGITS = "%.9g"
_BLOCK = 4096


def write_libmf_model(path, mu, P, Q, bu, bi, biased):
    """Write the model to ``path`` in LIBMF's text format (atomically)."""
    P = np.asarray(P, dtype=np.float32)
    Q = np.asarray(Q, dtype=np.float32)
    if biased:
        ones_p = np.ones((P.shape[0], 1), dtype=np.float32)
        ones_q = np.ones((Q.shape[0], 1), dtype=np.float32)
        user_term = (mu + bu.astype(np.float64)).astype(np.float32)[:, None]
        P = np.hstack([P, ones_p, user_term])
        Q = np.hstack([Q, bi.astype(np.float32)[:, None], ones_q])

    def write(handle):
        header = f"f 0\nm {P.shape[0]}\nn {Q.shape[0]}\nk {P.shape[1]}\nb {mu!r}\n"
        handle.write(header.encode())
        for letter, matrix in (("p", P), ("q", Q)):
            for start in range(0, matrix.shape[0], _BLOCK):
                block = matrix[start : start + _BLOCK]
                text = np.char.mod(_DIGITS, block)
                lines = (
                    f"{letter}{start + r} T {' '.join(row)}\n"
                    for r, row in enumerate(text.tolist())
                )
                handle.write("".join(lines).encode())

    atomic_write(path, write)


def read_libmf_model(path):
    """Read a LIBMF model file; returns ``(b, P, Q, valid_p, valid_q)``.

    ``valid_p`` / ``valid_q`` flag the rows LIBMF marked ``T``; the others had no
    training rating and are unknown.
    """
    header = {}
    rows = {"p": {}, "q": {}}
    with open(path, encoding="ascii") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            key = fields[0]
            if key in ("f", "m", "n", "k", "b") and len(fields) == 2:
                header[key] = fields[1]
                continue
            if key[:1] in ("p", "q") and key[1:].isdigit() and len(fields) >= 2:
                if fields[1] not in ("T", "F"):
                    raise ValueError(f"{path}, line {number}: expected T or F, got "
                                     f"{fields[1]!r}.")  # fmt: skip
                rows[key[0]][int(key[1:])] = (fields[1] == "T", fields[2:], number)
                continue
            raise ValueError(f"{path}, line {number}: not a LIBMF model line: "
                             f"{line.strip()[:60]!r}.")  # fmt: skip

    missing = [key for key in ("m", "n", "k", "b") if key not in header]
    if missing:
        raise ValueError(f"{path}: not a LIBMF model (no {', '.join(missing)} line).")
    if header.get("f", "0") != "0":
        raise ValueError(
            f"{path}: a LIBMF model for loss {header['f']}; only squared-error "
            "models (f 0) are rating predictors."
        )
    m, n, k = int(header["m"]), int(header["n"]), int(header["k"])
    b = float(header["b"])
    P, valid_p = _matrix(path, rows["p"], m, k, "p")
    Q, valid_q = _matrix(path, rows["q"], n, k, "q")
    return b, P, Q, valid_p, valid_q


def _matrix(path, rows, n_rows, k, letter):
    if sorted(rows) != list(range(n_rows)):
        raise ValueError(f"{path}: expected rows {letter}0..{letter}{n_rows - 1}.")
    matrix = np.zeros((n_rows, k), dtype=np.float32)
    valid = np.zeros(n_rows, dtype=bool)
    for row, (is_valid, values, number) in rows.items():
        if len(values) != k:
            raise ValueError(
                f"{path}, line {number}: expected {k} values, found {len(values)}."
            )
        valid[row] = is_valid
        if is_valid:
            try:
                matrix[row] = np.array(values, dtype=np.float32)
            except ValueError:
                raise ValueError(
                    f"{path}, line {number}: values must be numbers."
                ) from None
    if not np.isfinite(matrix).all():
        raise ValueError(f"{path}: the model holds non-finite values.")
    return matrix, valid

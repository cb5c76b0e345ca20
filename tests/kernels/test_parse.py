"""The compiled delimited-text parser."""

import numpy as np
import pytest

from fastmf.kernels import _parse, parse_delimited


def _parse_text(text, sep=",", columns=(0, 1, 2), start=0):
    buf = np.frombuffer(text.encode(), dtype=np.uint8)
    capacity = text.count("\n") + 1
    users = np.zeros(capacity, np.int64)
    items = np.zeros(capacity, np.int64)
    values = np.zeros(capacity)
    inexact = np.zeros((capacity, 4), np.int64)
    sep_bytes = np.frombuffer(sep.encode(), dtype=np.uint8).copy()
    result = parse_delimited(buf, start, 1, sep_bytes, np.array(columns, np.int64),
                             users, items, values, inexact)  # fmt: skip
    n = result[0]
    return result, users[:n], items[:n], values[:n], inexact[: result[6]]


def test_parses_rows_with_crlf_blank_lines_and_extra_columns():
    result, users, items, values, _ = _parse_text(
        "1,31,2.5,1260759144\r\n\r\n-2,10,4,835355493\r\n 7 , 8 , 0.5e1 ,x\n"
    )
    assert result[1] == _parse.OK
    np.testing.assert_array_equal(users, [1, -2, 7])
    np.testing.assert_array_equal(items, [31, 10, 8])
    np.testing.assert_array_equal(values, [2.5, 4.0, 5.0])


def test_multibyte_and_blank_separators_and_column_choice():
    _, users, items, values, _ = _parse_text("1::1193::5::978300760\n", sep="::")
    assert (users[0], items[0], values[0]) == (1, 1193, 5.0)

    _, users, items, values, _ = _parse_text("  3 \t 4   2.5\n", sep="")
    assert (users[0], items[0], values[0]) == (3, 4, 2.5)

    _, users, items, values, _ = _parse_text("9,x,8,7\n", columns=(3, 0, 2))
    assert (users[0], items[0], values[0]) == (7, 9, 8.0)


def test_decimal_values_are_correctly_rounded(rng):
    texts = [
        f"{x:.{d}f}"
        for x, d in zip(rng.random(2000) * 10, rng.integers(0, 12, 2000), strict=True)
    ]
    texts += ["0.1", "0.3", "5", "4.5", "-0.0", "1e-5", "2.5E+2", "123456789012345"]
    body = "".join(f"1,2,{t}\n" for t in texts)
    _, _, _, values, inexact = _parse_text(body)
    assert inexact.size == 0
    np.testing.assert_array_equal(values, [float(t) for t in texts])


def test_long_numbers_are_flagged_for_exact_conversion():
    result, _, _, _, inexact = _parse_text("1,2,0.12345678901234567890\n1,2,1e300\n")
    assert result[1] == _parse.OK
    assert inexact[:, 0].tolist() == [0, 1]


@pytest.mark.parametrize(
    ("text", "status", "line", "field"),
    [
        ("1,2,3\n1,2\n", _parse.MISSING_FIELD, 2, 2),
        ("1,2,3\nx,2,3\n", _parse.BAD_INTEGER, 2, 0),
        ("1,2.5,3\n", _parse.BAD_INTEGER, 1, 1),
        ("1,2,abc\n", _parse.BAD_NUMBER, 1, 2),
        ("1,2,nan\n", _parse.BAD_NUMBER, 1, 2),
        ("1,2,\n", _parse.BAD_NUMBER, 1, 2),
        ("1,2,3e\n", _parse.BAD_NUMBER, 1, 2),
        ("1234567890123456789012,2,3\n", _parse.INTEGER_OVERFLOW, 1, 0),
    ],
)
def test_errors_name_status_line_and_field(text, status, line, field):
    result, *_ = _parse_text(text)
    assert result[1:4] == (status, line, field)

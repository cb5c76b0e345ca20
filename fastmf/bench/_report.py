"""Plain-text rendering of a benchmark result."""

_COLUMNS = (
    ("variant", "variant", "{}"),
    ("threads", "threads", "{}"),
    ("dtype", "dtype", "{}"),
    ("seconds_per_epoch", "s/epoch", "{:.4f}"),
    ("ratings_per_second", "ratings/s epoch", "{:,.0f}"),
    ("sgd_ratings_per_second", "ratings/s SGD", "{:,.0f}"),
    ("speedup", "speed-up SGD", "{:,.0f}×"),
    ("train_rmse", "train RMSE", "{:.4f}"),
    ("test_rmse", "test RMSE", "{:.4f}"),
    ("test_rmse_difference", "Δ test RMSE vs ref", "{:+.2e}"),
)


def _cell(row, key, pattern):
    value = row.get(key)
    text = "—" if value is None else pattern.format(value)
    if key == "variant" and row.get("note", "").startswith("timed on"):
        text += " *"
    return text


#: Columns of the peer race (``fastmf bench --peers``).
_PEER_COLUMNS = (
    ("name", "peer race", "{}"),
    ("threads", "threads", "{}"),
    ("seconds_per_epoch", "s/epoch", "{:.4f}"),
    ("ratings_per_second", "ratings/s epoch", "{:,.0f}"),
    ("sgd_ratings_per_second", "ratings/s SGD", "{:,.0f}"),
    ("fit_seconds", "fit s", "{:.3f}"),
    ("test_rmse", "test RMSE", "{:.4f}"),
)

_RATIO_COLUMNS = (
    ("fastmf", "fastmf row", "{}"),
    ("threads", "threads", "{}"),
    ("peer", "against", "{}"),
    ("epoch_speed_ratio", "speed ratio epoch", "{:.2f}×"),
    ("sgd_speed_ratio", "speed ratio SGD", "{:.2f}×"),
    ("fit_speed_ratio", "fit-time ratio", "{:.2f}×"),
    ("test_rmse_difference", "Δ test RMSE", "{:+.4f}"),
)


def format_table(result):
    """The benchmark result as an aligned text table with its context below."""
    lines = _render(_COLUMNS, result["rows"], left=3)
    lines.append("")
    lines += _context(result)
    if result.get("peers"):
        lines.append("")
        lines += format_peers(result["peers"]).splitlines()
    return "\n".join(lines)


def _render(columns, rows, left):
    """Aligned lines of a table: the first ``left`` columns left-aligned."""
    header = [title for _, title, _ in columns]
    body = [[_cell(row, key, pattern) for key, _, pattern in columns] for row in rows]
    widths = [max(len(line[c]) for line in [header, *body]) for c in range(len(header))]

    def render(cells):
        return "  ".join(
            cell.ljust(width) if c < left else cell.rjust(width)
            for c, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    lines = [render(header), render(["-" * w for w in widths])]
    return lines + [render(cells) for cells in body]


def format_peers(peers):
    """The ``peers`` section of a result: the race, the ratios and their context."""
    settings = peers["settings"]
    lines = _render(_PEER_COLUMNS, peers["rows"], left=1)
    lines.append("")
    lines += _render(_RATIO_COLUMNS, peers["comparisons"], left=3)
    lines.append("")
    for skipped in peers["skipped"]:
        lines.append(f"skipped: {skipped['reason']}")
    lines.append(
        f"peer race: float32, medians of {settings['repeats']} alternating rounds; "
        "speed ratios are fastmf's rate ÷ the peer's (above 1: fastmf is faster), "
        "the fit-time ratio Surprise's fit time ÷ fastmf's, Δ test RMSE fastmf's "
        "minus the peer's"
    )
    lines.append(
        "every row is scored on the same test pairs: unknown ids get the mean plus "
        "the known bias (the mean alone without biases), predictions clipped to the "
        "training scale"
    )
    for row in peers["rows"]:
        if row["library"] == "libmf":
            lines.append(
                f"LIBMF ({row['threads']} thread(s)): {row['note']}; learning "
                f"rate {row['learning_rate']} (adaptive per row), no biases; "
                f"command: {' '.join(row['command'])}"
            )
        elif row["library"] == "surprise":
            lines.append(
                f"Surprise {row['version']} SVD: {row['note']}; biased, "
                f"init_std_dev {settings['init_std']}"
            )
        elif row["note"].startswith("diverged"):
            lines.append(f"{row['name']} on {row['threads']} thread(s): {row['note']}")
    return "\n".join(lines)


def _context(result):
    data = result.get("data", {})
    settings = result["settings"]
    parity = result["parity"]
    compiled = result["compile"]
    machine = result["machine"]
    lines = []
    if data:
        lines.append(
            f"data: {data['source']} — {data['n_train']:,} training and "
            f"{data['n_test']:,} test ratings, {data['n_users']:,} users × "
            f"{data['n_items']:,} items"
        )
    lines.append(
        f"settings: k={settings['n_factors']}, {settings['n_epochs']} epochs, "
        f"learning rate {settings['learning_rate']}, regularization "
        f"{settings['regularization']}, seed {settings['seed']}; every variant "
        "starts from the same factors"
    )
    for row in result["rows"]:
        if row.get("note", "").startswith("timed on"):
            lines.append(
                f"* reference {row['note']}; no RMSE (raise --reference-budget)"
            )
    lines.append(
        "s/epoch and ratings/s epoch: in-place shuffle + SGD pass; ratings/s SGD and "
        "speed-up: the SGD pass alone, against the reference's pass (its visiting "
        "order is generated outside its timing)"
    )
    lines.append(
        f"parity: serial float64 kernel vs reference on the first "
        f"{parity['n_ratings']:,} ratings × {parity['n_epochs']} epochs: max "
        f"|Δ parameter| = {parity['max_abs_parameter_difference']:.1e}, max |Δ RMSE| "
        f"= {parity['max_abs_cost_difference']:.1e}"
    )
    lines.append(
        f"kernels ready in {compiled['seconds']:.2f} s "
        f"({compiled['compiled_signatures']} signatures compiled, "
        f"{compiled['cached_signatures']} loaded from cache); not counted above"
    )
    lines.append(
        f"machine: {machine['processor']}, {machine['logical_cpus']} logical CPUs, "
        f"Python {machine['python']}, NumPy {machine['numpy']}, Numba "
        f"{machine['numba']} ({machine['threading_layer']} threads)"
    )
    if "total_seconds" in result:
        lines.append(f"total: {result['total_seconds']:.1f} s")
    return lines

"""The commands that use a saved model: predict, recommend, eval and export."""

import argparse
import csv
import io
import json
import sys

import numpy as np

EXAMPLES_PREDICT = """examples:
  fastmf predict model.npz pairs.csv                  user,item per line -> stdout
  fastmf predict model.npz ml-100k/u1.test --output predictions.csv
  fastmf predict model.npz pairs.tsv --no-clip        raw scores
output: one CSV row per input row, in input order: user,item,prediction,unknown
(unknown is 1 where the user or item was not seen in training and the fallback
mean + known bias was used).
"""

EXAMPLES_RECOMMEND = """examples:
  fastmf recommend model.npz --users 1 2 3 -n 5
  fastmf recommend model.npz --all --format json --output top10.json
  fastmf recommend model.npz --users-file users.txt --include-seen
"""

EXAMPLES_EVAL = """examples:
  fastmf eval model.npz ml-100k/u1.test
  fastmf eval model.npz test.csv --format json
"""

EXAMPLES_EXPORT = """examples:
  fastmf export model.npz --libmf model.libmf
"""


def add_commands(commands, add_file_options):
    """Register the model commands on the ``fastmf`` subparsers."""
    raw = argparse.RawDescriptionHelpFormatter

    predict = commands.add_parser(
        "predict", help="predict ratings for (user, item) pairs in a file",
        description="Predict the rating of every (user, item) pair in a file with "
        "a saved model.", epilog=EXAMPLES_PREDICT, formatter_class=raw,
    )  # fmt: skip
    predict.add_argument("model", help="a model saved by fastmf train --save")
    predict.add_argument("pairs", help="file of user,item[,...] rows")
    predict.add_argument("--output", default=None, help="CSV file (default: stdout)")
    predict.add_argument(
        "--no-clip", action="store_true", help="raw scores, not clipped to the scale"
    )
    add_file_options(predict)
    predict.set_defaults(handler=_predict)

    recommend = commands.add_parser(
        "recommend", help="top-N items for users",
        description="Recommend the top-N items for users with a saved model.",
        epilog=EXAMPLES_RECOMMEND, formatter_class=raw,
    )  # fmt: skip
    recommend.add_argument("model", help="a model saved by fastmf train --save")
    who = recommend.add_mutually_exclusive_group(required=True)
    who.add_argument("--users", nargs="+", help="raw user ids")
    who.add_argument("--users-file", help="file with one raw user id per line")
    who.add_argument("--all", action="store_true", help="every user of the model")
    recommend.add_argument("-n", type=int, default=10, help="items per user (10)")
    recommend.add_argument("--include-seen", action="store_true",
                           help="also recommend items rated in training")  # fmt: skip
    recommend.add_argument("--format", choices=["csv", "json"], default="csv")
    recommend.add_argument("--output", default=None, help="file (default: stdout)")
    recommend.set_defaults(handler=_recommend)

    evaluate = commands.add_parser(
        "eval", help="RMSE and MAE of a saved model on a ratings file",
        description="Score a saved model on a ratings file.",
        epilog=EXAMPLES_EVAL, formatter_class=raw,
    )  # fmt: skip
    evaluate.add_argument("model", help="a model saved by fastmf train --save")
    evaluate.add_argument("ratings", help="ratings file to score")
    evaluate.add_argument("--no-clip", action="store_true",
                          help="score raw, unclipped predictions")  # fmt: skip
    evaluate.add_argument("--format", choices=["text", "json"], default="text")
    add_file_options(evaluate)
    evaluate.set_defaults(handler=_evaluate)

    export = commands.add_parser(
        "export", help="write a saved model in another format",
        description="Convert a saved model.", epilog=EXAMPLES_EXPORT,
        formatter_class=raw,
    )  # fmt: skip
    export.add_argument("model", help="a model saved by fastmf train --save")
    export.add_argument("--libmf", required=True, help="LIBMF model file to write")
    export.set_defaults(handler=_export)


def _load(path):
    from .model import MatrixFactorization

    return MatrixFactorization.load(path)


def _in_model_kind(raw, ids):
    """Ids read from a file in the kind the model was trained on.

    Files give integers when every id parses as one; a model trained on string
    ids wants the same text as strings.
    """
    if ids.dtype.kind in "US" and raw.dtype.kind in "iu":
        return raw.astype(str)
    return raw


def _pairs(path, args, model):
    """(users, items) of a pairs file with two or more columns, in file order."""
    from .cli import _read, _separator

    with open(path, "rb") as handle:
        head = handle.read(4096)
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    separator = _separator(args.sep) or _guess(first)
    n_fields = len(first.split(separator)) if separator != " " else len(first.split())
    if n_fields >= 3:
        ratings = _read(path, args)
        users, items = ratings.raw_users(), ratings.raw_items()
    else:
        users, items = _two_columns(path, separator, args.header, model)
    return (
        _in_model_kind(np.asarray(users), model.user_ids_),
        _in_model_kind(np.asarray(items), model.item_ids_),
    )


def _guess(line):
    for candidate in ("::", "\t", ",", ";", "|"):
        if candidate in line:
            return candidate
    return " "


def _two_columns(path, separator, header, model):
    users, items = [], []
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            fields = line.split() if separator == " " else line.split(separator)
            if len(fields) < 2:
                raise ValueError(
                    f"{path}, line {number}: expected user and item, got {line!r}."
                )
            if number == 1 and (
                header or (header is None and _is_header(fields, model))
            ):
                continue
            users.append(fields[0].strip())
            items.append(fields[1].strip())
    if not users:
        raise ValueError(f"{path}: the file holds no (user, item) pairs.")
    return _as_ids(users), _as_ids(items)


def _is_header(fields, model):
    """A first line is a header when its fields are neither numbers nor ids the
    model knows ("user,item" is a header, "u1,i9" with a known u1 is data)."""
    if _numeric(fields[:2]):
        return False
    users = np.array(fields[:1], dtype=str)
    items = np.array(fields[1:2], dtype=str)
    known_user = (
        model.user_ids_.dtype.kind in "US" and np.isin(users, model.user_ids_)[0]
    )
    known_item = (
        model.item_ids_.dtype.kind in "US" and np.isin(items, model.item_ids_)[0]
    )
    return not (known_user or known_item)


def _numeric(fields):
    try:
        [int(f) for f in fields]
    except ValueError:
        return False
    return True


def _as_ids(values):
    try:
        return np.array([int(v) for v in values], dtype=np.int64)
    except (ValueError, OverflowError):
        return np.array(values, dtype=str)


def _open_output(path):
    if path is None:
        return sys.stdout, False
    from ._io import check_writable

    check_writable(path)
    return io.StringIO(), True


def _finish_output(handle, path, to_file):
    if not to_file:
        return
    from ._io import atomic_write

    text = handle.getvalue()
    atomic_write(path, lambda out: out.write(text.encode()))
    print(f"wrote {path}", file=sys.stderr)


def _predict(args):
    model = _load(args.model)
    if args.output:
        from ._io import check_writable

        check_writable(args.output)
    users, items = _pairs(args.pairs, args, model)
    predictions, unknown = model.predict(
        users, items, return_unknown=True, clip=not args.no_clip
    )
    handle, to_file = _open_output(args.output)
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["user", "item", "prediction", "unknown"])
    for row in zip(users.tolist(), items.tolist(), predictions.tolist(),
                   unknown.astype(int).tolist(), strict=True):  # fmt: skip
        writer.writerow([row[0], row[1], repr(row[2]), row[3]])
    _finish_output(handle, args.output, to_file)
    print(
        f"predicted {len(predictions):,} pairs ({int(unknown.sum()):,} with the "
        "fallback for unknown users or items)",
        file=sys.stderr,
    )
    return 0


def _recommend(args):
    model = _load(args.model)
    if args.n < 0:
        raise ValueError(f"-n must be >= 0; got {args.n}.")
    handle, to_file = _open_output(args.output)
    if args.all:
        users = model.user_ids_
    elif args.users_file:
        with open(args.users_file, encoding="utf-8-sig") as source:
            users = _as_ids([line.strip() for line in source if line.strip()])
    else:
        users = _as_ids(args.users)
    users = _in_model_kind(np.asarray(users), model.user_ids_)
    results = model.recommend(users, n=args.n, exclude_seen=not args.include_seen)

    if args.format == "json":
        document = [
            {"user": _plain(user), "items": [_plain(i) for i in items.tolist()],
             "scores": scores.tolist()}
            for user, (items, scores) in zip(users.tolist(), results, strict=True)
        ]  # fmt: skip
        json.dump(document, handle, indent=1)
        handle.write("\n")
    else:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["user", "rank", "item", "score"])
        for user, (items, scores) in zip(users.tolist(), results, strict=True):
            for rank, (item, score) in enumerate(
                zip(items.tolist(), scores.tolist(), strict=True), start=1
            ):
                writer.writerow([user, rank, item, repr(score)])
    _finish_output(handle, args.output, to_file)
    print(f"recommended for {len(results):,} users", file=sys.stderr)
    return 0


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _evaluate(args):
    from .cli import _read
    from .metrics import mae, rmse

    model = _load(args.model)
    ratings = _read(args.ratings, args)
    users = _in_model_kind(ratings.raw_users(), model.user_ids_)
    items = _in_model_kind(ratings.raw_items(), model.item_ids_)
    predictions, unknown = model.predict(
        users, items, return_unknown=True, clip=not args.no_clip
    )
    scores = {
        "rmse": rmse(ratings.values, predictions),
        "mae": mae(ratings.values, predictions),
        "n_ratings": int(ratings.n_ratings),
        "n_unknown": int(unknown.sum()),
    }
    if args.format == "json":
        print(json.dumps(scores))
    else:
        print(
            f"RMSE {scores['rmse']:.6f}  MAE {scores['mae']:.6f}  over "
            f"{scores['n_ratings']:,} ratings ({scores['n_unknown']:,} with unknown "
            "users or items)"
        )
    return 0


def _export(args):
    from ._io import check_writable

    check_writable(args.libmf)
    _load(args.model).export_libmf(args.libmf)
    print(f"wrote {args.libmf} (LIBMF model format)", file=sys.stderr)
    return 0

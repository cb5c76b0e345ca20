"""The ``fastmf`` command: bench, train, predict, recommend, eval and export."""

import argparse
import codecs
import json
import logging
import os
import sys
import time

from ._cli_model import add_commands

EXAMPLES_BENCH = """examples:
  fastmf bench                       built-in synthetic data (100,000 ratings)
  fastmf bench --data ../shared/data/ml-100k/u.data
  fastmf bench --synthetic-ratings 10000000 --synthetic-users 200000 \\
               --synthetic-items 50000 --factors 32 --epochs 5 --no-reference
  fastmf bench --format json --output bench.json
  fastmf bench --data ../shared/data/ml-100k/u.data --methods blocked \\
               --peers --libmf ~/libmf/mf-train
"""

EXAMPLES_TRAIN = """examples:
  fastmf train ratings.csv
  fastmf train ml-100k/u1.base --validation ml-100k/u1.test --save model.npz
  fastmf train ratings.csv --test-fraction 0.1 --epochs 100 --patience 3
  fastmf train ratings.dat.gz --factors 50 --epochs 30 --method hogwild --threads 2
  fastmf train big.txt --method blocked --adagrad --lr 0.1 --no-bias
progress (one line per epoch) goes to stderr; Ctrl-C stops after the current
epoch and still saves the model with --save.
"""


def _add_model_options(parser):
    group = parser.add_argument_group("model")
    group.add_argument(
        "--factors", type=int, default=100, help="latent factors k (100)"
    )
    group.add_argument("--epochs", type=int, default=20, help="SGD epochs (20)")
    group.add_argument(
        "--learning-rate",
        "--lr",
        type=float,
        default=0.015,
        help="SGD step size (0.015)",
    )
    group.add_argument(
        "--regularization", "--reg", type=float, default=0.08, help="L2 penalty (0.08)"
    )
    group.add_argument(
        "--threads", type=int, default=None, help="threads for parallel kernels (all)"
    )
    group.add_argument("--seed", type=int, default=0, help="random seed (0)")
    group.add_argument(
        "--duplicates",
        choices=["error", "last", "mean", "keep"],
        default="error",
        help="what to do with a (user, item) pair rated more than once: refuse "
        "(default), keep the last rating, their mean, or every row",
    )


def _add_file_options(parser):
    group = parser.add_argument_group("ratings file")
    group.add_argument(
        "--sep",
        default=None,
        help="field separator; backslash escapes such as '\\t' are decoded "
        "(guessed: '::', tab, comma, ';', '|', blanks)",
    )
    header = group.add_mutually_exclusive_group()
    header.add_argument(
        "--header",
        dest="header",
        action="store_true",
        default=None,
        help="the first line is a header",
    )
    header.add_argument(
        "--no-header",
        dest="header",
        action="store_false",
        help="the first line is data",
    )


def _add_peer_options(parser):
    from .bench import LIBMF_LEARNING_RATE, PEER_REPEATS, adagrad_available

    group = parser.add_argument_group("peer race")
    group.add_argument(
        "--peers", action="store_true",
        help="also race fastmf (serial, blocked on 1 and --threads threads, with "
        "and without biases, float32) against Surprise's SVD, and LIBMF with "
        "--libmf, on the same split",
    )  # fmt: skip
    group.add_argument(
        "--libmf", default=None, metavar="PATH",
        help="LIBMF's mf-train, built by you (mf-predict must sit beside it); "
        "implies --peers",
    )  # fmt: skip
    group.add_argument(
        "--libmf-lr", type=float, default=LIBMF_LEARNING_RATE,
        help=f"LIBMF's learning rate -r, adapted per row ({LIBMF_LEARNING_RATE})",
    )  # fmt: skip
    group.add_argument(
        "--no-surprise", action="store_true",
        help="leave Surprise's SVD out of the race (it needs minutes and several "
        "GB beyond a few million ratings)",
    )  # fmt: skip
    group.add_argument(
        "--peer-repeats", type=int, default=PEER_REPEATS,
        help=f"alternating rounds of the race; medians are shown ({PEER_REPEATS})",
    )  # fmt: skip
    if adagrad_available():
        group.add_argument(
            "--adagrad", action="store_true",
            help="add fastmf blocked rows with adagrad=True and --libmf-lr",
        )  # fmt: skip


def build_parser():
    parser = argparse.ArgumentParser(
        prog="fastmf",
        description="Numba-compiled SGD matrix factorization for explicit ratings.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="command")
    commands.required = True

    bench = commands.add_parser(
        "bench",
        help="race the kernels against the pure-Python reference",
        description="Train the pure-Python reference and every compiled kernel "
        "variant from the same start on the same data and print speed and RMSE "
        "side by side.",
        epilog=EXAMPLES_BENCH,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument(
        "--data", default=None, help="ratings file (default: built-in synthetic data)"
    )
    bench.add_argument("--synthetic-ratings", type=int, default=100_000)
    bench.add_argument("--synthetic-users", type=int, default=1_000)
    bench.add_argument("--synthetic-items", type=int, default=1_700)
    bench.add_argument(
        "--test-fraction",
        type=float,
        default=0.2,
        help="share of ratings held out for the test RMSE (0.2)",
    )
    bench.add_argument(
        "--dtype",
        nargs="+",
        default=["float64", "float32"],
        choices=["float32", "float64"],
        help="factor dtypes to run",
    )
    bench.add_argument(
        "--methods",
        nargs="+",
        default=["serial", "hogwild", "blocked"],
        choices=["serial", "hogwild", "blocked"],
        help="kernel methods to run",
    )
    bench.add_argument(
        "--reference-budget",
        type=float,
        default=60.0,
        help="seconds the pure-Python reference may take; beyond it, "
        "it is timed on a subset (60)",
    )
    bench.add_argument(
        "--no-reference", action="store_true", help="skip the pure-Python reference"
    )
    bench.add_argument(
        "--bounds", action="store_true",
        help="only measure this machine's bounds for SGD (random row reads, "
        "cache-resident arithmetic) at k = 32, 100, 128 and exit",
    )  # fmt: skip
    _add_peer_options(bench)
    bench.add_argument("--format", choices=["table", "json"], default="table")
    bench.add_argument("--output", default=None, help="write the result to this file")
    _add_model_options(bench)
    _add_file_options(bench)
    bench.set_defaults(handler=_bench)

    train = commands.add_parser(
        "train",
        help="train a model on a ratings file",
        description="Train a biased matrix factorization model on a ratings file "
        "and print per-epoch progress.",
        epilog=EXAMPLES_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("path", help="ratings file (MovieLens layouts, CSV, gz/bz2/xz)")
    held_out = train.add_mutually_exclusive_group()
    held_out.add_argument(
        "--validation", default=None, help="ratings file scored after every epoch"
    )
    held_out.add_argument(
        "--test-fraction",
        type=float,
        default=None,
        help="hold out this share of the ratings for validation",
    )
    train.add_argument(
        "--method", choices=["serial", "hogwild", "blocked"], default="serial"
    )
    train.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    train.add_argument("--save", default=None, help="write the model to this .npz file")
    train.add_argument(
        "--patience", "--early-stopping", type=int, default=None,
        help="stop when the validation RMSE has not improved for this many epochs "
        "and keep the best epoch (needs --validation or --test-fraction)",
    )  # fmt: skip
    train.add_argument(
        "--blocks", type=int, default=None,
        help="B of the blocked method (default: chosen from the data)",
    )  # fmt: skip
    train.add_argument(
        "--adagrad", action="store_true",
        help="per-row AdaGrad learning rates (use a larger --lr, about 0.05-0.1)",
    )  # fmt: skip
    train.add_argument(
        "--no-bias", action="store_true", help="the pure p_u . q_i model, no biases"
    )
    train.add_argument("--quiet", action="store_true", help="no progress output")
    _add_model_options(train)
    _add_file_options(train)
    train.set_defaults(handler=_train)

    add_commands(commands, _add_file_options)
    return parser


def main(argv=None):
    """Entry point of the ``fastmf`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("fastmf: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (for example `| head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.dup2(devnull, sys.stderr.fileno())
        return 141
    except (ValueError, TypeError, OSError, MemoryError, FloatingPointError) as error:
        print(f"fastmf {args.command}: error: {error}", file=sys.stderr)
        return 1


def _version():
    from . import __version__

    return f"fastmf {__version__}"


def _read(path, args):
    from .data import read_ratings

    return read_ratings(path, sep=_separator(args.sep), header=args.header)


def _separator(text):
    """The --sep value with backslash escapes decoded ('\\t' is a tab)."""
    if text is None or "\\" not in text:
        return text
    return codecs.decode(text, "unicode_escape")


def _bounds_table(rows):
    lines = []
    for row in rows:
        reads = row["random_row_reads_per_second"] / 1e6
        bound = row["random_order_bound_ratings_per_second"] / 1e6
        cached = row["cache_resident_ratings_per_second"] / 1e6
        lines.append(
            f"k={row['n_factors']:>4}  random row reads {reads:6.1f} M/s -> "
            f"random-order bound {bound:5.1f} M ratings/s;  cache-resident SGD "
            f"{cached:6.1f} M ratings/s ({row['cache_resident_gflops']:.1f} GFLOP/s)"
        )
    return "\n".join(lines)


def _check_fraction(value):
    if not 0.0 < value < 1.0:
        raise ValueError(
            f"--test-fraction must be strictly between 0 and 1; got {value}."
        )


def _model(args, **fixed):
    """The model the options describe, its parameters checked before any work."""
    from .model import MatrixFactorization

    model = MatrixFactorization(
        n_factors=args.factors,
        n_epochs=args.epochs,
        learning_rate=args.learning_rate,
        regularization=args.regularization,
        n_threads=args.threads,
        random_state=args.seed,
        duplicates=args.duplicates,
        **fixed,
    )
    model._validated_params()
    return model


def _bench(args):
    from .bench import PeerError

    try:
        return _run_bench(args)
    except PeerError as error:
        print(f"fastmf bench: error: {error}", file=sys.stderr)
        return 1


def _run_bench(args):
    from ._io import atomic_write, check_writable
    from .bench import (
        bounds,
        check_peer_settings,
        find_libmf,
        format_table,
        run_benchmark,
        run_peers,
    )

    if args.bounds:
        rows = bounds()
        text = (
            json.dumps(rows, indent=2) if args.format == "json" else _bounds_table(rows)
        )
        print(text)
        return 0
    from .data import resolve_duplicates, synthetic_ratings, train_test_split

    for method in args.methods:
        for dtype in args.dtype:
            _model(args, method=method, dtype=dtype)
    if args.output:
        check_writable(args.output)
    _check_fraction(args.test_fraction)
    if not args.reference_budget >= 0.0 or args.reference_budget == float("inf"):
        raise ValueError(
            f"--reference-budget must be a finite number of seconds >= 0; got "
            f"{args.reference_budget}."
        )
    adagrad = getattr(args, "adagrad", False)
    peers = args.peers or args.libmf is not None or adagrad
    if peers:
        check_peer_settings(
            args.epochs, args.peer_repeats, args.libmf_lr, args.libmf, adagrad
        )
        if args.libmf is not None:
            find_libmf(args.libmf)

    if args.data:
        ratings = _read(args.data, args)
        source = args.data
    else:
        ratings = synthetic_ratings(
            args.synthetic_users,
            args.synthetic_items,
            args.synthetic_ratings,
            random_state=args.seed,
        )
        source = (
            f"synthetic ({args.synthetic_ratings:,} ratings, {args.synthetic_users:,} "
            f"users × {args.synthetic_items:,} items, seed {args.seed})"
        )
    # The same duplicates policy for the reference and every kernel variant.
    ratings = resolve_duplicates(ratings, args.duplicates)
    train, test = train_test_split(ratings, args.test_fraction, random_state=args.seed)

    def progress(text):
        print(f"fastmf bench: {text} ...", file=sys.stderr, flush=True)

    result = run_benchmark(
        train,
        test,
        n_factors=args.factors,
        n_epochs=args.epochs,
        learning_rate=args.learning_rate,
        regularization=args.regularization,
        n_threads=args.threads,
        dtypes=args.dtype,
        methods=args.methods,
        seed=args.seed,
        reference_budget=args.reference_budget,
        run_reference=not args.no_reference,
        progress=progress,
    )
    if peers:
        result["peers"] = run_peers(
            train,
            test,
            n_factors=args.factors,
            n_epochs=args.epochs,
            learning_rate=args.learning_rate,
            regularization=args.regularization,
            n_threads=args.threads,
            seed=args.seed,
            repeats=args.peer_repeats,
            libmf=args.libmf,
            libmf_learning_rate=args.libmf_lr,
            adagrad=adagrad,
            surprise=not args.no_surprise,
            progress=progress,
        )
        if args.no_surprise and args.libmf is None:
            print(
                "fastmf bench: no peer to race (Surprise left out and no --libmf); "
                "only fastmf's rows are shown.",
                file=sys.stderr,
            )
        for skipped in result["peers"]["skipped"]:
            print(f"fastmf bench: {skipped['reason']}", file=sys.stderr)
    result["data"] = {
        "source": source,
        "n_ratings": ratings.n_ratings,
        "n_users": ratings.n_users,
        "n_items": ratings.n_items,
        "n_train": train.n_ratings,
        "n_test": test.n_ratings,
        "test_fraction": args.test_fraction,
    }
    text = (
        json.dumps(result, indent=2) if args.format == "json" else format_table(result)
    )
    if args.output:
        atomic_write(args.output, lambda handle: handle.write((text + "\n").encode()))
    else:
        print(text)
    return 0


def _train(args):
    from ._io import check_writable
    from .data import train_test_split

    if args.blocks is not None and args.method != "blocked":
        raise ValueError("--blocks needs --method blocked.")
    if args.blocks is not None and not 1 <= args.blocks <= 255:
        raise ValueError(f"--blocks must be between 1 and 255; got {args.blocks}.")
    model = _model(
        args, method=args.method, dtype=args.dtype, patience=args.patience,
        n_blocks=args.blocks, adagrad=args.adagrad, biased=not args.no_bias,
    )  # fmt: skip
    if args.save:
        check_writable(args.save)
    if args.test_fraction is not None:
        _check_fraction(args.test_fraction)
    if args.patience is not None and not (args.validation or args.test_fraction):
        raise ValueError("--patience needs --validation or --test-fraction.")

    started = time.perf_counter()
    ratings = _read(args.path, args)
    say = (lambda text: None) if args.quiet else _stderr
    say(
        f"read {ratings.n_ratings:,} ratings of {ratings.n_users:,} users on "
        f"{ratings.n_items:,} items from {args.path} in "
        f"{time.perf_counter() - started:.2f} s"
    )
    validation = None
    if args.validation:
        validation = _read(args.validation, args)
    elif args.test_fraction is not None:
        ratings, validation = train_test_split(
            ratings, args.test_fraction, random_state=args.seed
        )
    if validation is not None:
        say(
            f"training on {ratings.n_ratings:,} ratings, validating on "
            f"{validation.n_ratings:,}"
        )

    logger = logging.getLogger("fastmf")
    handler = None
    if not args.quiet:
        handler = _ProgressHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    model.verbose = not args.quiet
    interrupted = False
    try:
        model.fit(ratings, validation=validation)
    except KeyboardInterrupt:
        if not hasattr(model, "user_factors_"):
            raise
        interrupted = True
    finally:
        if handler is not None:
            logger.removeHandler(handler)

    if model.stopped_because_ == "early stopping":
        say(f"early stopping kept epoch {model.best_epoch_}")
    if args.save:
        model.save(args.save)
        say(f"saved the model to {args.save}")
    if interrupted:
        _stderr(f"fastmf: interrupted after epoch {len(model.history_['epoch'])}")
        return 130
    return 0


def _stderr(text):
    print(text, file=sys.stderr)


class _ProgressHandler(logging.StreamHandler):
    """Progress lines on stdout; a closed pipe stops the command instead of
    printing a logging traceback per line."""

    def handleError(self, record):
        if isinstance(sys.exc_info()[1], BrokenPipeError):
            raise sys.exc_info()[1]
        super().handleError(record)


if __name__ == "__main__":
    sys.exit(main())

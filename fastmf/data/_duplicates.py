"""One policy for repeated (user, item) pairs, applied in one place.

Readers and constructors keep every row exactly as given. Training applies a
policy, chosen by the ``duplicates`` parameter of the model (``--duplicates`` on
the command line):

- ``"error"`` (the default): refuse, listing the repeated pairs;
- ``"last"``: keep the rating that comes last in the input;
- ``"mean"``: keep one rating per pair, the mean of its ratings (with the latest
  timestamp of the group);
- ``"keep"``: train on every row, as separate ratings.

Repeated ratings are never summed.
"""

import logging

import numpy as np

logger = logging.getLogger("fastmf")

POLICIES = ("error", "last", "mean", "keep")
DEFAULT_POLICY = "error"

#: Repeated pairs named in an error message.
_SHOWN = 5

#: The quick check for repeats holds one entry per user and item: it is used
#: while their number is at most that of the ratings plus this.
_QUICK_SLACK = 1 << 16


def check_policy(policy):
    if policy not in POLICIES:
        listed = ", ".join(repr(p) for p in POLICIES)
        raise ValueError(f"duplicates must be one of {listed}; got {policy!r}.")
    return policy


def resolve_duplicates(ratings, policy=DEFAULT_POLICY):
    """``ratings`` with repeated (user, item) pairs handled by ``policy``.

    Returns ``ratings`` itself when no pair repeats (or the policy is "keep").
    The count of repeated pairs and the policy applied are logged.

    Raises
    ------
    ValueError
        With ``policy="error"`` when a pair repeats; the message lists the first
        pairs in raw ids with their counts and the other policies.
    """
    check_policy(policy)
    if not _may_repeat(ratings):
        return ratings
    keys = _pair_keys(ratings)
    sorted_keys = np.sort(keys)
    repeats = sorted_keys[1:] == sorted_keys[:-1]
    if not repeats.any():
        return ratings

    repeated = np.unique(sorted_keys[1:][repeats])
    extra = int(repeats.sum())
    summary = (
        f"{repeated.size:,} (user, item) pairs occur more than once "
        f"({extra:,} extra ratings)"
    )
    if policy == "error":
        examples = _examples(ratings, sorted_keys, repeated)
        raise ValueError(
            f"{summary}: {examples}. Choose what to do with duplicates=: 'last' "
            "keeps the last rating, 'mean' their mean, 'keep' every row (CLI: "
            "--duplicates)."
        )
    if policy == "keep":
        logger.warning("%s; policy 'keep': training on every row.", summary)
        return ratings

    result = _collapse(ratings, keys, policy)
    logger.info(
        "%s; policy '%s': %s ratings remain.", summary, policy, f"{result.n_ratings:,}"
    )
    return result


def _may_repeat(ratings):
    """False when no (user, item) pair repeats, found without sorting.

    Compiled, in O(n) time and 4 bytes per rating of temporary memory (the items
    grouped by user), where sorting 64-bit pair keys takes 16. True when a pair
    repeats, and whenever the quick check does not apply (indices that are not
    int32, or a shape much larger than the ratings): the sort then decides.
    """
    users, items = ratings.users, ratings.items
    n_users, n_items = ratings.n_users, ratings.n_items
    if not (
        users.dtype == np.int32
        and items.dtype == np.int32
        and n_users + n_items <= users.size + _QUICK_SLACK
    ):
        return True
    # A local import: the compiled kernels are loaded on first use.
    from ..kernels import _layout

    users, items = np.ascontiguousarray(users), np.ascontiguousarray(items)
    return _layout.count_repeated_pairs(users, items, n_users, n_items) != 0


def _pair_keys(ratings):
    return ratings.users.astype(np.int64) * max(ratings.n_items, 1) + ratings.items


def _examples(ratings, sorted_keys, repeated):
    shown = repeated[:_SHOWN]
    counts = np.searchsorted(sorted_keys, shown, side="right") - np.searchsorted(
        sorted_keys, shown, side="left"
    )
    n_items = max(ratings.n_items, 1)
    users = ratings.user_map.raw(shown // n_items)
    items = ratings.item_map.raw(shown % n_items)
    pairs = ", ".join(
        f"({u!r}, {i!r}) × {c}"
        for u, i, c in zip(users.tolist(), items.tolist(), counts, strict=True)
    )
    more = f" and {repeated.size - _SHOWN:,} more" if repeated.size > _SHOWN else ""
    return pairs + more


def _collapse(ratings, keys, policy):
    """One row per pair, at the position of the pair's last (or first) row."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.size] - 1

    if policy == "last":
        return ratings.take(np.sort(order[ends]))

    sums = np.add.reduceat(ratings.values[order], starts)
    means = sums / (ends - starts + 1)
    position = order[starts]
    keep = np.argsort(position, kind="stable")
    collapsed = ratings.take(position[keep])
    collapsed.values = means[keep]
    if ratings.timestamps is not None:
        latest = np.maximum.reduceat(ratings.timestamps[order], starts)
        collapsed.timestamps = latest[keep]
    return collapsed

"""
The mergeable aggregates against brute force: buckets, their merge, and the window walk.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from perftrack._model import Trade
from perftrack._stats import Bucket, TradeStats, Walk, over_root

T0 = datetime(2025, 1, 1, tzinfo=UTC)
amounts = st.integers(min_value=-400, max_value=400).map(Decimal)
# A day's realizations: (minute offset, amount); offsets collide so instants merge.
paths = st.lists(st.tuples(st.integers(0, 30), amounts), max_size=40)


def brute_pct(e0: Decimal, peak: Decimal, path: list[tuple[int, Decimal]]) -> Decimal:
    instants: dict[int, Decimal] = {}
    for minute, amount in path:
        instants[minute] = instants.get(minute, Decimal(0)) + amount
    equity, best = e0, Decimal(0)
    for minute in sorted(instants):
        equity += instants[minute]
        peak = max(peak, equity)
        best = max(best, (peak - equity) / peak)
    return best


def fold(path: list[tuple[int, Decimal]], in_order: bool = True) -> Bucket:
    bucket = Bucket()
    items = sorted(path, key=lambda p: p[0]) if in_order else path
    points = [(T0 + timedelta(minutes=m), a, Decimal(0)) for m, a in items]
    if in_order:
        for when, amount, fee in points:
            assert bucket.fold_realization(when, amount, fee)
    else:
        bucket.rebuild([(when, amount, fee, None, None) for when, amount, fee in points])
    return bucket


class TestBucketDrawdown:
    """The staircase answers the percentage drawdown for any start equity and carried-in peak."""

    @settings(max_examples=500)
    @given(path=paths, e0=st.integers(500, 5000).map(Decimal), lift=st.integers(0, 3000))
    def test_pct_matches_brute_force(self, path, e0, lift):
        bucket = fold(path)
        peak = e0 + lift
        assert brute_pct(e0, peak, path) == bucket.pct_drawdown(e0, peak)
        # The cached ratio stack is per start equity: asking with another one must not reuse it.
        other = e0 + 7
        assert brute_pct(other, other + lift, path) == bucket.pct_drawdown(other, other + lift)

    @given(path=paths, e0=st.integers(500, 5000).map(Decimal), lift=st.integers(0, 3000))
    def test_stack_kept_up_to_date_while_folding(self, path, e0, lift):
        bucket = Bucket()
        ordered = sorted(path, key=lambda p: p[0])
        for i, (minute, amount) in enumerate(ordered):
            bucket.fold_realization(T0 + timedelta(minutes=minute), amount, Decimal(0))
            assert bucket.pct_drawdown(e0, e0 + lift) == brute_pct(e0, e0 + lift, ordered[: i + 1])

    @given(path=paths)
    def test_rebuild_equals_in_order_folding(self, path):
        a, b = fold(path), fold(path, in_order=False)
        assert a.path_extremes() == b.path_extremes()
        assert a.end_value() == b.end_value()
        assert a.pct_drawdown(Decimal(1000), Decimal(1200)) == b.pct_drawdown(
            Decimal(1000), Decimal(1200)
        )


class TestWalk:
    """Walking several days' buckets equals the brute-force path over all their points."""

    @settings(max_examples=300)
    @given(days=st.lists(paths, min_size=1, max_size=6), start=st.integers(1000, 3000))
    def test_walk_matches_whole_path(self, days, start):
        walk = Walk(Decimal(start))
        whole: list[tuple[int, Decimal]] = []
        for k, path in enumerate(days):
            walk.add(fold(path))
            whole += [(k * 100 + m, a) for m, a in path]
        instants: dict[int, Decimal] = {}
        for minute, amount in whole:
            instants[minute] = instants.get(minute, Decimal(0)) + amount
        equity = peak = Decimal(start)
        max_dd = Decimal(0)
        for minute in sorted(instants):
            equity += instants[minute]
            peak = max(peak, equity)
            max_dd = max(max_dd, peak - equity)
        assert max_dd == walk.max_dd
        assert equity == walk.equity
        if all(e > 0 for e in [Decimal(start), peak]):
            assert brute_pct(Decimal(start), Decimal(start), whole) == walk.max_dd_pct


outcomes = st.lists(st.sampled_from([Decimal(5), Decimal(-3), Decimal(0)]), max_size=30)


def stats_of(nets: list[Decimal]) -> TradeStats:
    stats = TradeStats()
    for k, net in enumerate(nets):
        stats.fold_trade(net, None, timedelta(minutes=1), T0 + timedelta(minutes=k))
    return stats


def fingerprint(s: TradeStats) -> tuple[object, ...]:
    return (
        s.n,
        s.wins,
        s.losses,
        s.win_sum,
        s.loss_sum,
        s.sum_sq,
        s.best,
        s.worst,
        s.lead,
        s.trail,
        s.full,
        s.max_win,
        s.max_loss,
        s.hold,
    )


class TestTradeStatsMerge:
    """merge(stats(A), stats(B)) == stats(A + B); the empty statistics are the identity."""

    @settings(max_examples=500)
    @given(a=outcomes, b=outcomes)
    def test_merge_equals_concatenation(self, a, b):
        merged = stats_of(a)
        merged.merge_trades(stats_of(b))
        assert fingerprint(stats_of(a + b)) == fingerprint(merged)

    @given(a=outcomes, b=outcomes, c=outcomes)
    def test_merge_is_associative(self, a, b, c):
        left = stats_of(a)
        left.merge_trades(stats_of(b))
        left.merge_trades(stats_of(c))
        bc = stats_of(b)
        bc.merge_trades(stats_of(c))
        right = stats_of(a)
        right.merge_trades(bc)
        assert fingerprint(left) == fingerprint(right)

    @given(a=outcomes)
    def test_identity(self, a):
        left = TradeStats()
        left.merge_trades(stats_of(a))
        right = stats_of(a)
        right.merge_trades(TradeStats())
        assert fingerprint(stats_of(a)) == fingerprint(left) == fingerprint(right)


# Whole trades a bucket folds in one batch: (minute, net as text, fee, r or None, hold minutes);
# minutes collide (shared instants), nets repeat with other exponents ("1" and "1.0").
whole_trades = st.lists(
    st.tuples(
        st.integers(0, 600),
        st.sampled_from(["0", "0.00", "1", "1.0", "-1", "-1.00", "2.5", "-3", "7", "-7.0"]),
        st.sampled_from(["0", "0.5", "1"]),
        st.one_of(st.none(), st.floats(-5, 5, allow_nan=False)),
        st.integers(0, 300),
    ),
    max_size=120,
)


def whole(items: list[tuple[int, str, str, float | None, int]]) -> list[Trade]:
    trades = []
    for i, (minute, net, fee, r, hold) in enumerate(sorted(items, key=lambda t: t[0])):
        exit_time = T0 + timedelta(minutes=minute)
        one = Decimal(1)
        trades.append(
            Trade(
                f"t{i}",
                "X",
                "s",
                "long",
                one,
                one,
                one,
                exit_time - timedelta(minutes=hold),
                exit_time,
                Decimal(fee),
                Decimal(net),
                r_multiple=r,
            )
        )
    return trades


def state_of(bucket: Bucket) -> list[object]:
    # Values and their exact text: the batch must keep the same Decimal objects' exponents.
    return [
        (name, repr(getattr(bucket, name)))
        for name in (*Bucket._STATE_FIELDS, "cache_e0", "stack_i", "stack_r")
    ]


class TestBatchFold:
    """Folding a queue of whole trades in one batch equals folding them one by one."""

    @settings(max_examples=400)
    @given(before=whole_trades, batch=whole_trades, e0=st.integers(500, 5000).map(Decimal))
    def test_same_state(self, before, batch, e0):
        first = whole(before)
        later = [t for t in whole(batch) if not first or t.exit_time >= first[-1].exit_time]
        one, many = Bucket(), Bucket()
        for part in (first, later):
            for event in part:
                one.queue.append(event)
                one.flush()  # one at a time: below the batch size
            many.queue.extend(part)
            many.flush()
            assert state_of(one) == state_of(many)
            for bucket in (one, many):
                bucket.pct_drawdown(e0, e0 + 10)  # a ratio stack to keep up to date


class TestOverRoot:
    """num / sqrt(square) in floats where that is exact to float precision, else in Decimals."""

    @given(
        st.decimals(min_value=-(10**6), max_value=10**6, allow_nan=False, places=12),
        st.decimals(min_value=Decimal("1e-12"), max_value=10**6, allow_nan=False, places=12),
    )
    def test_agrees_with_the_decimal_quotient(self, num, square):
        from decimal import localcontext

        with localcontext() as ctx:
            ctx.prec = 50
            exact = float(num / square.sqrt())
            assert over_root(num, square) == pytest.approx(exact, rel=1e-14, abs=0)

    @pytest.mark.parametrize(
        ("num", "square", "expected"),
        [
            # A square below the float range: the quotient is still 1e50 / 1e-150 = 1e200.
            (Decimal("1e50"), Decimal("1e-300"), 1e200),
            (Decimal("1e-300"), Decimal("1e-300"), 1e-150),
            (Decimal("3"), Decimal("1e300"), 3e-150),
            (Decimal(0), Decimal("4"), 0.0),
        ],
    )
    def test_outside_the_float_range_in_decimals(self, num, square, expected):
        assert over_root(num, square) == pytest.approx(expected, rel=1e-14)


class TestFreshBucket:
    """A new bucket holds what TradeStats.__init__ and _reset_path set, nothing shared."""

    def test_same_as_the_methods(self):
        bucket = Bucket(None, 7)
        probe = Bucket.__new__(Bucket)
        TradeStats.__init__(probe)
        probe._reset_path()
        for name in TradeStats.__slots__ + Bucket.__slots__:
            if hasattr(probe, name):
                assert repr(getattr(bucket, name)) == repr(getattr(probe, name)), name
        assert (bucket.day, bucket.queue, bucket.stale, bucket.bulk) == (7, [], False, False)

    def test_no_mutable_state_shared(self):
        a, b = Bucket(None, 1), Bucket(None, 1)
        assert a.queue is not b.queue
        t0 = datetime(2024, 1, 2, tzinfo=UTC)
        # A dip, a new high, a dip: a finished segment, which replaces the shared empties.
        for k, amount in enumerate(["5", "-3", "10", "-4", "1"]):
            a.fold_realization(t0 + timedelta(minutes=k), Decimal(amount), Decimal(0))
        a.fold_realization(t0 + timedelta(minutes=9), Decimal(0), Decimal(0))
        assert a.seg_h
        assert b.seg_h == [] and b.seg_l == [] and b.seg_pmin == []
        assert Bucket(None, 2).seg_h == []

"""
Targets and alerts: the issue's scenarios, the rules' definitions, configuration errors.
"""

from __future__ import annotations

import json
from contextlib import ExitStack, suppress
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import patch

import jsonschema
import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

import perftrack as pt
from perftrack import alerts as _alerts
from perftrack import errors, signals
from perftrack.stores import MemoryStore
from tests.observe import T0

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "perftrack/schemas/alert-event.schema.json").read_text()
)


def close(tracker: pt.Tracker, n: int, win: bool, size: str = "10", **kw: Any) -> pt.Trade:
    when = T0 + timedelta(minutes=n)
    exit_price = str(100 + Decimal(size) / 10) if win else str(100 - Decimal(size) / 10)
    return tracker.record_trade("X", "long", 10, "100", exit_price, when, when, **kw)


def journal_lines(store: MemoryStore) -> list[dict[str, Any]]:
    try:
        data = store.get("main/performance-alerts.jsonl")
    except KeyError:
        return []
    lines = [json.loads(line) for line in data.splitlines()]
    for line in lines:
        jsonschema.validate(line, SCHEMA, format_checker=jsonschema.FormatChecker())
    return lines


@pytest.fixture(name="raised")
def _raised() -> list[pt.AlertEvent]:
    got: list[pt.AlertEvent] = []

    def on_alert(sender: object, *, alert: pt.AlertEvent, **extra: object) -> None:
        got.append(alert)

    signals.alert_raised.connect(on_alert)
    yield got
    signals.alert_raised.disconnect(on_alert)


class TestScenarios:
    """The five scenarios of the alerts issue."""

    def test_win_rate_falls_below_target_once(self, raised):
        store = MemoryStore()
        tracker = pt.Tracker("10000", store=store, targets=pt.Targets(min_win_rate=0.60))
        # 20 trades at 65 %: 13 wins, 7 losses.
        pattern = [True] * 13 + [False] * 7
        with structlog.testing.capture_logs() as logs:
            for n, win in enumerate(pattern):
                close(tracker, n, win)
            assert [] == tracker.alerts.active()
            # Two more losses push two wins out of the window: 11 / 20 = 55 %.
            close(tracker, 20, False)
            close(tracker, 21, False)
            close(tracker, 22, False)  # still breached: no duplicate
        active = tracker.alerts.active()
        assert 1 == len(active) == len(raised)
        alert = active[0]
        assert ("min_win_rate", 20, 0.60) == (alert.rule, alert.window, alert.target)
        assert 0.55 == raised[0].actual
        (entry,) = [e for e in logs if e["event"] == "perftrack.alert"]
        assert ("warning", "raised", "min_win_rate", 20, 0.55, 0.6) == (
            entry["log_level"],
            entry["action"],
            entry["rule"],
            entry["window"],
            entry["actual"],
            entry["target"],
        )
        (line,) = journal_lines(store)
        assert ("performance.alert", "raised", "min_win_rate", 20, 0.55, 0.6) == (
            line["event"],
            line["action"],
            line["rule"],
            line["window"],
            line["actual"],
            line["target"],
        )
        # Wins push the ten losses out again. At 60 % the alert holds (hysteresis 5 %: it
        # resolves at 63 %); at 65 % it resolves.
        for n in range(23, 35):
            close(tracker, n, True)
        assert 0.60 == tracker.rolling(20).win_rate
        assert 1 == len(tracker.alerts.active())
        close(tracker, 35, True)
        assert 0.65 == tracker.rolling(20).win_rate
        assert [] == tracker.alerts.active()
        assert ["raised", "resolved"] == [line["action"] for line in journal_lines(store)]

    def test_payoff_of_last_ten_below_one(self):
        tracker = pt.Tracker("10000", targets=pt.Targets(min_risk_reward=1.0))
        for n in range(10):
            close(tracker, n, n % 2 == 0, size="10" if n % 2 == 0 else "5")
        assert [] == tracker.alerts.active()
        for n in range(10, 20):
            close(tracker, n, n % 2 == 0, size="5" if n % 2 == 0 else "10")
        (alert,) = tracker.alerts.active()
        assert ("risk_reward_breach", "payoff_ratio", 10) == (
            alert.rule,
            alert.metric,
            alert.window,
        )
        assert alert.actual < 1.0  # the payoff when the breach began
        assert 0.5 == tracker.rolling(10).payoff_ratio

    def test_true_switches_risk_reward_on_at_its_default_target(self, tmp_path):
        assert 1.0 == pt.Targets(min_risk_reward=True).min_risk_reward
        assert None is pt.Targets().min_risk_reward  # opt-in, like every rule
        path = tmp_path / "targets.toml"
        path.write_text("[targets]\nmin_risk_reward = true\n")
        tracker = pt.Tracker("10000", targets=pt.Targets.from_toml(path))
        for n in range(10):
            close(tracker, n, n % 2 == 0, size="5" if n % 2 == 0 else "10")
        (alert,) = tracker.alerts.active()
        assert ("risk_reward_breach", 1.0) == (alert.rule, alert.target)

    def test_no_trades_no_alert(self):
        targets = pt.Targets(
            min_win_rate=0.9,
            min_risk_reward=5,
            max_loss_streak=1,
            min_profit_factor=3,
            max_daily_loss="1",
            max_drawdown="1",
            max_drawdown_pct=0.001,
        )
        tracker = pt.Tracker("10000", targets=targets)
        tracker.mark_price("X", "100", T0)
        assert [] == tracker.alerts.history()

    def test_raising_listener_does_not_stop_log_and_journal(self):
        store = MemoryStore()
        tracker = pt.Tracker("10000", store=store, targets=pt.Targets(max_loss_streak=1))

        def broken(sender: object, **extra: object) -> None:
            raise RuntimeError("listener bug")

        signals.alert_raised.connect(broken, sender=tracker)
        with structlog.testing.capture_logs() as logs:
            close(tracker, 0, False)
            close(tracker, 1, False)
        assert ["perftrack.alert", "perftrack.listener_failed"] == [
            e["event"] for e in logs if e["log_level"] in ("warning", "error")
        ]
        assert 1 == len(journal_lines(store))
        assert 1 == len(tracker.alerts.active())

    def test_restart_mid_breach_neither_loses_nor_repeats(self, raised):
        store = MemoryStore()
        targets = pt.Targets(max_loss_streak=2)
        tracker = pt.Tracker("10000", store=store, targets=targets)
        for n in range(3):
            close(tracker, n, False)
        assert 1 == len(raised)
        tracker.close()
        again = pt.Tracker.restore(store, targets=targets)
        assert 1 == len(raised)  # not repeated by the replay
        assert ["max_loss_streak"] == [a.rule for a in again.alerts.active()]
        close(again, 3, False)  # the breach goes on: still one alert
        assert 1 == len(again.alerts.active()) == len(raised)
        close(again, 4, True)
        assert [] == again.alerts.active()
        assert ["raised", "resolved"] == [line["action"] for line in journal_lines(store)]

    def test_crash_mid_breach_after_a_snapshot(self, raised):
        store = MemoryStore()
        targets = pt.Targets(min_win_rate=0.5, rolling_window=4)
        tracker = pt.Tracker("10000", store=store, targets=targets)
        for n in range(4):
            close(tracker, n, n == 0)  # 1 of 4: breached
        tracker.save_snapshot()
        close(tracker, 4, False)  # still breached, after the snapshot: in the journal only
        tracker._account_lock.release()  # killed: no flush, no close
        again = pt.Tracker.restore(store, targets=targets)
        assert 1 == len(raised) == len(again.alerts.active())
        assert ["raised"] == [line["action"] for line in journal_lines(store)]
        for n in range(5, 9):
            close(again, n, True)
        assert [] == again.alerts.active()
        assert ["raised", "resolved"] == [line["action"] for line in journal_lines(store)]

    def test_alert_not_yet_journaled_at_the_crash_is_delivered_once_on_restore(self, raised):
        store = MemoryStore()
        targets = pt.Targets(max_loss_streak=1)
        tracker = pt.Tracker("10000", store=store, targets=targets)
        close(tracker, 0, False)
        close(tracker, 1, False)
        tracker.close()
        store.delete("main/performance-alerts.jsonl")  # the crash came before the line
        again = pt.Tracker.restore(store, targets=targets)
        assert ["raised"] == [line["action"] for line in journal_lines(store)]
        assert 1 == len(again.alerts.active())

    def test_a_line_cut_by_a_crash_is_named_then_repaired_by_the_restart(self, raised):
        """A crash in the middle of an append leaves the journal ending inside a line:
        verify names it, a read-only restore leaves it, and the restarted bot's restore
        (which holds the lock) drops it, so the next alert starts a line of its own."""
        store = MemoryStore()
        targets = pt.Targets(max_loss_streak=1)
        tracker = pt.Tracker("10000", store=store, targets=targets)
        close(tracker, 0, False)
        close(tracker, 1, False)  # raised
        tracker.close()
        key = "main/performance-alerts.jsonl"
        whole = store.get(key)
        assert [] == tracker.verify()
        store.put(key, whole + whole[:40])  # a second line, cut by the crash
        reader = pt.Tracker.restore(store, targets=targets, read_only=True)
        assert [f"{key} line 2: cut short"] == reader.verify()
        assert whole + whole[:40] == store.get(key)
        with structlog.testing.capture_logs() as logs:
            again = pt.Tracker.restore(store, targets=targets)
        assert [1] == [e["dropped_lines"] for e in logs if e["event"].endswith("_repaired")]
        assert whole == store.get(key) and [] == again.verify()
        close(again, 2, True)  # resolved: a new line
        assert ["raised", "resolved"] == [line["action"] for line in journal_lines(store)]
        again.close()

    def test_verify_names_a_damaged_line(self):
        store = MemoryStore()
        key = "main/performance-alerts.jsonl"
        tracker = pt.Tracker("10000", store=store, targets=pt.Targets(max_loss_streak=1))
        close(tracker, 0, False)
        close(tracker, 1, False)
        close(tracker, 2, True)
        first, second, _ = store.get(key).split(b"\n")
        store.put(key, first + b"\n" + b'["not", "an", "alert"]\n' + second + b"\n")
        assert [f"{key} line 2: not a performance.alert object"] == tracker.verify()
        tracker.close()

    def test_an_append_cut_by_a_failing_store_leaves_the_next_lines_whole(self):
        """A failed append may leave part of its line in the journal (a disk that fills
        mid-write): the retry starts a line of its own, so the retried alert stays readable
        (load_delivered and verify see it) instead of gluing itself to the cut bytes."""
        cutting = [True]

        class FillsUp(MemoryStore):
            def append(self, key: str, data: bytes) -> None:
                if key.endswith("performance-alerts.jsonl") and cutting[0]:
                    cutting[0] = False
                    super().append(key, data[:40])  # the disk filled mid-write
                    raise errors.StoreError("No space left on device")
                super().append(key, data)

        store = FillsUp()
        targets = pt.Targets(max_loss_streak=1)
        tracker = pt.Tracker("10000", store=store, targets=targets)
        close(tracker, 0, False)
        close(tracker, 1, False)  # raised: its append is cut and fails
        close(tracker, 2, True)  # resolved: the retry writes both lines
        tracker.close()
        key = "main/performance-alerts.jsonl"
        lines = store.get(key).split(b"\n")
        actions = []
        for line in lines:
            with suppress(ValueError):  # the cut bytes
                actions.append(json.loads(line)["action"])
        assert ["raised", "resolved"] == actions
        assert [f"{key} line 1: not a performance.alert object"] == tracker.verify()


class TestRules:
    """Each rule's metric, scope and minimum sample."""

    def test_drawdown_on_live_equity(self):
        tracker = pt.Tracker("1000", targets=pt.Targets(max_drawdown_pct=0.05))
        tracker.open_trade("a", symbol="X", side="long", quantity=10, price="100", time=T0)
        tracker.mark_price("X", "96", T0 + timedelta(minutes=1))  # -40: 4 %
        assert [] == tracker.alerts.active()
        tracker.mark_price("X", "94", T0 + timedelta(minutes=2))  # -60: 6 %
        (alert,) = tracker.alerts.active()
        assert ("max_drawdown_pct", "critical") == (alert.rule, alert.severity)
        tracker.mark_price("X", "99.9", T0 + timedelta(minutes=3))
        assert [] == tracker.alerts.active()

    def test_daily_loss_resets_with_the_session_day(self):
        tracker = pt.Tracker("1000", targets=pt.Targets(max_daily_loss="15"))
        close(tracker, 0, False)
        close(tracker, 1, False)  # -20 today
        assert ["max_daily_loss"] == [a.rule for a in tracker.alerts.active()]
        close(tracker, 60 * 24, True)  # a new day
        assert [] == tracker.alerts.active()

    def test_scope_and_minimum_sample(self):
        targets = pt.Targets(min_win_rate=0.5, rolling_window=4, scope={"strategy": "b"})
        tracker = pt.Tracker("1000", targets=targets)
        for n in range(6):
            close(tracker, n, False, strategy="a")
        assert [] == tracker.alerts.active()
        for n in range(3):
            close(tracker, 10 + n, False, strategy="b")
        assert [] == tracker.alerts.active()  # 3 of 4: below the minimum sample
        close(tracker, 20, False, strategy="b")
        assert [{"strategy": "b"}] == [a.scope for a in tracker.alerts.active()]

    def test_custom_rule(self):
        def no_shorts(view: pt.Tracker) -> list[pt.Breach]:
            n = view.summary(side="short").trades
            return [pt.Breach("no_shorts", "short_trades", n, 0)] if n else []

        tracker = pt.Tracker("1000", targets=pt.Targets(custom=[no_shorts]))
        tracker.record_trade("X", "short", 1, "10", "9", T0, T0)
        assert ["no_shorts"] == [a.rule for a in tracker.alerts.active()]

    def test_acknowledge_is_journaled(self):
        store = MemoryStore()
        targets = pt.Targets(max_loss_streak=1)
        tracker = pt.Tracker("1000", store=store, targets=targets)
        close(tracker, 0, False)
        close(tracker, 1, False)
        alert_id = tracker.alerts.active()[0].id
        tracker.alerts.acknowledge(alert_id, by="ops")
        tracker.close()
        again = pt.Tracker.restore(store, targets=targets)
        assert "ops" == again.alerts.active()[0].acknowledged_by
        with pytest.raises(errors.UnknownTradeError, match="'alert_id'"):
            again.alerts.acknowledge("alert-99")


class TestCustomRules:
    """Custom rules see a read-only view, may fail without harm, and may be per strategy."""

    def test_view_refuses_changes(self):
        attempts: list[str] = []

        def meddling(view: Any) -> list[pt.Breach]:
            for name in ("record_trade", "close_trade", "mark_price", "save_snapshot", "alerts"):
                try:
                    getattr(view, name)
                except AttributeError:
                    attempts.append(name)
            with pytest.raises(AttributeError):
                view.anything = 1
            assert 1 == view.summary().trades  # queries work
            return []

        tracker = pt.Tracker("1000", targets=pt.Targets(custom=[meddling]))
        tracker.record_trade("X", "long", 1, "10", "9", T0, T0)
        assert ["record_trade", "close_trade", "mark_price", "save_snapshot", "alerts"] == attempts

    def test_a_rule_that_records_a_trade_fails_alone(self):
        def recorder(view: Any) -> list[pt.Breach]:
            view.record_trade("X", "long", 1, "10", "9", T0, T0)
            return []

        tracker = pt.Tracker("1000", targets=pt.Targets(custom=[recorder]))
        with structlog.testing.capture_logs() as logs:
            tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        assert 1 == tracker.summary().trades  # the event stands, the rule changed nothing
        assert ["perftrack.rule_failed"] == [e["event"] for e in logs if e["log_level"] == "error"]

    def test_a_failing_rule_keeps_its_alerts(self):
        state = {"fail": False}

        def flaky(view: Any) -> list[pt.Breach]:
            if state["fail"]:
                raise RuntimeError("rule bug")
            n = view.summary(side="short").trades
            return [pt.Breach("no_shorts", "short_trades", n, 0)] if n else []

        tracker = pt.Tracker("1000", targets=pt.Targets(custom=[flaky, lambda view: [1]]))
        tracker.record_trade("X", "short", 1, "10", "9", T0, T0)
        state["fail"] = True
        tracker.record_trade("X", "long", 1, "10", "9", T0, T0)
        assert ["no_shorts"] == [a.rule for a in tracker.alerts.active()]

    def test_per_strategy_custom_rules_run_with_their_scope(self):
        def any_loss(view: Any) -> list[pt.Breach]:
            n = view.summary(strategy="a").losses
            return [pt.Breach("a_lost", "losses", n, 0)] if n else []

        targets = pt.Targets(
            per_strategy={"a": pt.Targets(custom=[any_loss], scope={"strategy": "a"})}
        )
        tracker = pt.Tracker("1000", targets=targets)
        tracker.record_trade("X", "long", 1, "10", "9", T0, T0, strategy="a")
        (alert,) = tracker.alerts.active()
        assert ("a_lost", {"strategy": "a"}) == (alert.rule, alert.scope)


class TestScopedDrawdown:
    """A scoped drawdown rule follows the scope's own equity, not the account's."""

    def test_strategy_drawdown(self):
        targets = pt.Targets(
            per_strategy={"a": pt.Targets(max_drawdown="25", scope={"strategy": "a"})}
        )
        tracker = pt.Tracker("1000", targets=targets)
        tracker.record_trade("X", "long", 10, "100", "110", T0, T0, strategy="b")  # +100
        tracker.open_trade(
            "o", symbol="X", side="long", quantity=10, price="100", time=T0, strategy="a"
        )
        tracker.mark_price("X", "98", T0 + timedelta(minutes=1))  # a: -20
        assert [] == tracker.alerts.active()
        tracker.mark_price("X", "97", T0 + timedelta(minutes=2))  # a: -30, account +70
        (alert,) = tracker.alerts.active()
        assert ("max_drawdown", {"strategy": "a"}, Decimal(30)) == (
            alert.rule,
            alert.scope,
            alert.actual,
        )
        tracker.mark_price("X", "99", T0 + timedelta(minutes=3))  # a: -10 <= 25 x 0.95
        assert [] == tracker.alerts.active()


class TestAlertJournal:
    """The alert journal survives store failures and restores without duplicates."""

    def test_a_failing_store_delays_the_line_but_not_the_event(self):
        class Flaky(MemoryStore):
            failing = False

            def append(self, key: str, data: bytes) -> None:
                if self.failing and key.endswith(".jsonl") and "alerts" in key:
                    raise errors.StoreError("disk full")
                super().append(key, data)

        store = Flaky()
        tracker = pt.Tracker("1000", store=store, targets=pt.Targets(max_loss_streak=1))
        store.failing = True
        with structlog.testing.capture_logs() as logs:
            close(tracker, 0, False)
            close(tracker, 1, False)  # raises the alert; its line cannot be written
        assert 2 == tracker.summary().trades
        assert "perftrack.alert_journal_failed" in [e["event"] for e in logs]
        assert [] == journal_lines(store)
        store.failing = False
        tracker.save_snapshot()  # writes what was kept back
        assert ["raised"] == [line["action"] for line in journal_lines(store)]

    def test_acknowledgement_is_not_journaled_again_by_a_restore(self):
        store = MemoryStore()
        targets = pt.Targets(max_loss_streak=1)
        tracker = pt.Tracker("1000", store=store, targets=targets)
        close(tracker, 0, False)
        close(tracker, 1, False)
        tracker.alerts.acknowledge(tracker.alerts.active()[0].id, by="ops")
        tracker.close()
        for _ in range(2):
            pt.Tracker.restore(store, targets=targets).close()
        assert ["raised", "acknowledged"] == [line["action"] for line in journal_lines(store)]


class TestTimezone:
    """PERFTRACK_TIMEZONE (or Targets.timezone) sets the day of the daily loss limit."""

    def _two_losses(self, targets: pt.Targets) -> list[str]:
        tracker = pt.Tracker("1000", targets=targets)  # the tracker's days are UTC days
        for hour in (14, 16):  # 23:00 and 01:00 in Tokyo: one UTC day, two Tokyo days
            when = T0.replace(hour=hour)
            tracker.record_trade("X", "long", 10, "100", "99", when, when)
        return [a.rule for a in tracker.alerts.active()]

    def test_daily_loss_day_in_the_targets_zone(self, monkeypatch):
        assert ["max_daily_loss"] == self._two_losses(pt.Targets(max_daily_loss="15"))
        assert [] == self._two_losses(pt.Targets(max_daily_loss="15", timezone="Asia/Tokyo"))
        monkeypatch.setenv("PERFTRACK_TIMEZONE", "Asia/Tokyo")
        assert [] == self._two_losses(pt.Targets(max_daily_loss="15"))

    def test_bad_zone(self, monkeypatch):
        with pytest.raises(errors.ConfigError, match="'timezone'"):
            pt.Targets(timezone="Mars/Olympus")
        monkeypatch.setenv("PERFTRACK_TIMEZONE", "Mars/Olympus")
        with pytest.raises(errors.ConfigError, match="PERFTRACK_TIMEZONE"):
            pt.Targets()
        pt.Tracker("1000")  # a tracker without targets does not read it


class TestTargetsConfig:
    """Targets come from code, TOML and the environment; bad keys and values are named."""

    def test_from_toml_with_strategies_and_env(self, tmp_path, monkeypatch):
        path = tmp_path / "targets.toml"
        path.write_text(
            "[targets]\nmin_win_rate = 0.55\nmax_daily_loss = '500'\n"
            "[targets.strategy.breakout]\nmax_loss_streak = 4\n[review]\nmin_sample = 5\n"
        )
        monkeypatch.setenv("PERFTRACK_ALERT_ROLLING_WINDOW", "30")
        monkeypatch.setenv("PERFTRACK_TIMEZONE", "Europe/Paris")
        targets = pt.Targets.from_toml(path)
        assert (0.55, Decimal(500), 30, "Europe/Paris") == (
            targets.min_win_rate,
            targets.max_daily_loss,
            targets.rolling_window,
            targets.timezone,
        )
        assert {"strategy": "breakout"} == targets.per_strategy["breakout"].scope
        assert pt.ReviewThresholds(min_sample=5) == targets.review

    @pytest.mark.parametrize(
        ("text", "name"),
        [
            ("[targets]\nmin_winrate = 0.5\n", "min_winrate"),
            ("[targets]\nmin_win_rate = 1.5\n", "min_win_rate"),
            ("[targets]\nmax_daily_loss = '-5'\n", "max_daily_loss"),
            ("[targets]\nmax_loss_streak = 0\n", "max_loss_streak"),
            ("[alerts]\n", "alerts"),
            ("[review]\nmin_smaple = 3\n", "min_smaple"),
            ("[review]\nmin_sample = 0\n", "review.min_sample"),
            ("[review]\nweak_edge_win_rate = 1.4\n", "review.weak_edge_win_rate"),
            ("[review]\nhigh_confidence = 3\n", "review.high_confidence"),
        ],
    )
    def test_bad_file(self, tmp_path, text, name):
        path = tmp_path / "t.toml"
        path.write_text(text)
        with pytest.raises(errors.ConfigError, match=f"'{name}'"):
            pt.Targets.from_toml(path)

    @pytest.mark.parametrize("value", ["many", "0", "-3"])
    def test_bad_env(self, monkeypatch, value):
        monkeypatch.setenv("PERFTRACK_ALERT_ROLLING_WINDOW", value)
        with pytest.raises(errors.ConfigError, match="PERFTRACK_ALERT_ROLLING_WINDOW"):
            pt.Targets.from_env()
        with pytest.raises(errors.ConfigError, match="PERFTRACK_ALERT_ROLLING_WINDOW"):
            pt.Targets(min_win_rate=0.5)
        pt.Tracker("1000")  # a tracker without targets does not read it

    def test_window_default_and_overrides(self, tmp_path, monkeypatch):
        assert 20 == pt.Targets().rolling_window
        path = tmp_path / "t.toml"
        path.write_text(
            "[targets]\nrolling_window = 40\n[targets.strategy.a]\nrolling_window = 8\n"
        )
        assert (40, 8) == (
            pt.Targets.from_toml(path).rolling_window,
            pt.Targets.from_toml(path).per_strategy["a"].rolling_window,
        )
        monkeypatch.setenv("PERFTRACK_ALERT_ROLLING_WINDOW", "30")
        assert 30 == pt.Targets().rolling_window  # the default in code
        assert 10 == pt.Targets(rolling_window=10).rolling_window  # explicit code wins
        targets = pt.Targets.from_toml(path)  # the environment overrides the file
        assert (30, 30) == (targets.rolling_window, targets.per_strategy["a"].rolling_window)

    @pytest.mark.parametrize(
        ("text", "name"),
        [
            ("[targets.strategy.a]\nmax_los_streak = 2\n", "max_los_streak"),
            ("[targets.strategy.a]\nmin_win_rate = 'high'\n", "min_win_rate"),
            ("[targets]\nhysteresis = 2\n", "hysteresis"),
            ("[targets]\nrolling_window = 'x'\n", "rolling_window"),
            ("[targets]\ntimezone = 'Nowhere/City'\n", "timezone"),
            ("[targets]\nstrategy = 'a'\n", "strategy"),
        ],
    )
    def test_bad_strategy_tables_and_values(self, tmp_path, text, name):
        path = tmp_path / "t.toml"
        path.write_text(text)
        with pytest.raises(errors.ConfigError, match=f"'{name}'"):
            pt.Targets.from_toml(path)

    def test_per_strategy_targets_built_in_code_are_scoped_to_their_strategy(self, raised):
        targets = pt.Targets(max_loss_streak=5, per_strategy={"a": pt.Targets(max_loss_streak=1)})
        assert {"strategy": "a"} == targets.per_strategy["a"].scope
        tracker = pt.Tracker("10000", targets=targets)
        assert ["max_loss_streak[]", "max_loss_streak[strategy=a]"] == list(tracker.alerts._by_key)
        for n in range(2):
            close(tracker, n, False, strategy="b")
        assert [] == raised  # b's losses are not a's
        for n in range(2, 4):
            close(tracker, n, False, strategy="a")
        assert [{"strategy": "a"}] == [a.scope for a in raised]

    def test_per_strategy_targets_scoped_to_another_strategy(self):
        nested = pt.Targets(max_loss_streak=1, scope={"strategy": "b"})
        with pytest.raises(errors.ConfigError, match=r"'per_strategy' table 'a'.*'b'"):
            pt.Targets(per_strategy={"a": nested})
        with pytest.raises(errors.ConfigError, match=r"'per_strategy' values.*'a'"):
            pt.Targets(per_strategy={"a": {"max_loss_streak": 1}})  # type: ignore[dict-item]


def _history(tracker: pt.Tracker) -> list[tuple[Any, ...]]:
    return [
        (a.id, a.rule, a.actual, a.target, a.raised_at, a.resolved_at, a.context)
        for a in tracker.alerts.history()
    ]


class TestEvaluationShortcut:
    """Skipping the checks that cannot move an alert changes no alert."""

    @settings(max_examples=300, deadline=None)
    @given(
        moves=st.lists(
            st.tuples(st.sampled_from([-2, -1, 0, 1, 1, 2]), st.sampled_from([0, 0, 0, 0, 1])),
            max_size=40,
        ),
        win_rate=st.sampled_from([0.25, 0.4, 0.5, 0.6]),
        ratio=st.sampled_from([0.5, 1.0, 1.5, 2.0]),
        hysteresis=st.sampled_from([0.0, 0.05, 0.5]),
        drawdown_pct=st.sampled_from([0.001, 0.002, 0.003]),
    )
    def test_same_alerts_as_checking_every_rule_on_every_event(
        self,
        moves: list[tuple[int, int]],
        win_rate: float,
        ratio: float,
        hysteresis: float,
        drawdown_pct: float,
    ):
        # Small integer P&L against round targets: metrics land exactly on their targets and
        # bands often, where a shortcut that was not exact would show.
        targets = pt.Targets(
            min_win_rate=win_rate,
            min_risk_reward=ratio,
            min_profit_factor=ratio,
            max_drawdown_pct=drawdown_pct,
            max_drawdown="2",
            max_daily_loss="3",
            max_loss_streak=2,
            rolling_window=4,
            risk_reward_window=4,
            profit_factor_window=5,
            hysteresis=hysteresis,
        )

        def run() -> list[tuple[Any, ...]]:
            tracker = pt.Tracker("1000", targets=targets)
            when = T0
            for pnl, days in moves:
                when += timedelta(days=days, minutes=1)
                tracker.record_trade("X", "long", 1, "100", str(100 + pnl), when, when)
            return _history(tracker)

        def always(self: Any, trade: pt.Trade, active: bool) -> bool:
            self.on_trade(trade)
            return True

        fast = run()
        with ExitStack() as stack:
            for rule in (_alerts._WinRate, _alerts._Payoff, _alerts._ProfitFactor):
                stack.enter_context(patch.object(rule, "step", always))
            stack.enter_context(patch.object(_alerts._LossStreak, "step", always))
            step_day = _alerts._DailyLoss.step_day

            def every_day(self: Any, tracker: pt.Tracker, active: bool) -> bool:
                step_day(self, tracker, active)
                return tracker._clock is not None

            stack.enter_context(patch.object(_alerts._DailyLoss, "step_day", every_day))
            stack.enter_context(
                patch.object(_alerts._Drawdown, "may_flip_live", lambda self, p, d, a: True)
            )
            # No floor: every drawdown rule is checked on every event.
            stack.enter_context(
                patch.object(
                    _alerts._Drawdown, "breach_floor", lambda self, p: Decimal("-Infinity")
                )
            )
            slow = run()
        assert slow == fast


def _window_of(trades: list[pt.Trade], size: int) -> tuple[Any, ...]:
    """A rule window's figures, recomputed from the raw trades."""
    nets = [t.net_pnl for t in trades][-size:]
    return (
        nets,
        sum(n > 0 for n in nets),
        sum(n < 0 for n in nets),
        sum((n for n in nets if n > 0), Decimal(0)),
        sum((n for n in nets if n < 0), Decimal(0)),
    )


class TestSharedWindows:
    """The windowed rules of one scope and size share one window, updated once a close."""

    TARGETS = pt.Targets(
        min_win_rate=0.1,
        min_risk_reward=0.1,
        min_profit_factor=0.1,
        rolling_window=5,
        risk_reward_window=5,
        profit_factor_window=3,
        per_strategy={
            "a": pt.Targets(
                min_win_rate=0.1, min_risk_reward=0.1, rolling_window=5, risk_reward_window=5
            )
        },
    )

    def _rules(self, tracker: pt.Tracker) -> dict[str, Any]:
        return {k: r for k, r in tracker.alerts._by_key.items() if hasattr(r, "trades")}

    def _check(self, tracker: pt.Tracker) -> None:
        trades = tracker.trades()
        for key, rule in self._rules(tracker).items():
            scoped = [t for t in trades if rule.applies(t)]
            w = rule.trades
            got = (list(w.nets), w.wins, w.losses, w.win_sum, w.loss_sum)
            expected = _window_of(scoped, rule.window)
            if not w.sums:  # a window only win rates read keeps no sums
                expected = (*expected[:2], 0, Decimal(0), Decimal(0))
            assert got == expected, key

    def test_one_window_per_scope_and_size(self):
        tracker = pt.Tracker("10000", targets=self.TARGETS)
        windows = {id(r.trades): r.trades for r in self._rules(tracker).values()}
        # win rate + risk-reward share one (5), profit factor its own (3), strategy a one.
        assert sorted((w.size, w.sums) for w in windows.values()) == [
            (3, True),
            (5, True),
            (5, True),
        ]

    @settings(max_examples=60, deadline=None)
    @given(
        moves=st.lists(
            st.tuples(st.sampled_from([-2, -1, 0, 1, 2]), st.sampled_from(["a", "b"])),
            max_size=25,
        ),
        stop=st.integers(0, 25),
    )
    def test_windows_match_the_raw_trades_across_a_restore(self, moves, stop):
        store = MemoryStore()
        tracker = pt.Tracker("10000", store=store, targets=self.TARGETS)
        for n, (pnl, strategy) in enumerate(moves):
            when = T0 + timedelta(minutes=n)
            tracker.record_trade(
                "X", "long", 1, "100", str(100 + pnl), when, when, strategy=strategy
            )
            if n == stop:
                tracker.save_snapshot()  # restore = this snapshot + the journal after it
        self._check(tracker)
        tracker.close()
        again = pt.Tracker.restore(store, targets=self.TARGETS)
        self._check(again)  # loaded once per window, not once per rule that shares it

    def test_a_win_rate_window_alone_counts_only_wins(self):
        tracker = pt.Tracker("10000", targets=pt.Targets(min_win_rate=0.1, rolling_window=3))
        for n in range(5):
            close(tracker, n, n % 2 == 0)
        (rule,) = self._rules(tracker).values()
        assert not rule.trades.sums
        self._check(tracker)


# -- what a custom rule returns, acknowledge's 'by', ratio targets -------------------


@pytest.mark.parametrize(
    "breach",
    [
        pt.Breach("k", "m", 1, 2, context=5),  # type: ignore[arg-type]
        pt.Breach("k", "m", 1, 2, context={"x": object()}),
        pt.Breach("k", "m", object(), 2),  # type: ignore[arg-type]
        pt.Breach("k", "m", float("nan"), 2),
        pt.Breach(["k"], "m", 1, 2),  # type: ignore[arg-type]
    ],
    ids=["context-int", "context-object", "actual-object", "actual-nan", "key-list"],
)
@pytest.mark.parametrize("with_store", [False, True])
def test_a_malformed_breach_fails_as_its_rule_not_the_event(
    breach: pt.Breach, with_store: bool
) -> None:
    """
    The event that ran the rule is booked and journaled already: a malformed Breach used to
    raise TypeError out of record_trade (a bot retrying without a trade_id books it twice),
    with the equity-changed and trade-closed signals lost and the event's bookings left for
    the next event's rules.
    """
    store = MemoryStore() if with_store else None
    tracker = pt.Tracker("10000", store=store, targets=pt.Targets(custom=(lambda view: [breach],)))
    got: list[Any] = []

    def on_closed(sender: Any, **kw: Any) -> None:
        got.append(kw["trade"])

    signals.trade_closed.connect(on_closed, sender=tracker)
    trade = tracker.record_trade("X", "long", 1, "100", "110", T0, T0 + timedelta(hours=1))
    assert got == [trade]
    assert tracker._booked == []
    assert tracker.alerts.history() == []
    assert tracker.verify() == []
    if store is not None:
        tracker.close()
        assert len(pt.Tracker.restore(store, read_only=True).trades()) == 1


def test_acknowledge_checks_by() -> None:
    tracker = pt.Tracker("10000", store=MemoryStore(), targets=pt.Targets(max_daily_loss="5"))
    tracker.record_trade("X", "long", 1, "100", "90", T0, T0 + timedelta(hours=1))
    (alert,) = tracker.alerts.active()
    for bad in ["", "  ", 5, ["ops"], object()]:
        with pytest.raises(errors.InvalidInputError, match="'by'"):
            tracker.alerts.acknowledge(alert.id, by=bad)  # type: ignore[arg-type]
        assert tracker.alerts.active()[0].acknowledged_by is None
    assert tracker.alerts.acknowledge(alert.id, by=" ops ").acknowledged_by == "ops"


@pytest.mark.parametrize("name", ["min_risk_reward", "min_profit_factor"])
@pytest.mark.parametrize("value", [float("inf"), "inf", Decimal("1e999999"), 10**400])
def test_ratio_targets_must_be_finite(name: str, value: object) -> None:
    with pytest.raises(errors.ConfigError, match=name):
        pt.Targets(**{name: value})


def test_fraction_target_of_a_huge_int_is_a_config_error() -> None:
    with pytest.raises(errors.ConfigError, match="min_win_rate"):
        pt.Targets(min_win_rate=10**400)


def test_from_toml_of_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_bytes(b"[targets]\nmin_win_rate = 0.5 # \xff\n")
    with pytest.raises(errors.ConfigError, match="'path'"):
        pt.Targets.from_toml(path)


@pytest.mark.parametrize(
    ("field", "value"),
    [("scope", 5), ("custom", 5), ("custom", print), ("per_strategy", 5)],
)
def test_targets_of_the_wrong_shape_are_config_errors(field: str, value: object) -> None:
    with pytest.raises(errors.ConfigError, match=f"'{field}'"):
        pt.Targets(**{field: value})


def test_a_listener_that_mutates_its_alert_changes_neither_the_tracker_nor_other_listeners():
    """AlertEvent is frozen, but its scope and context were the very dicts the
    tracker keeps in alerts.history(): a listener that wrote into them (then raised) changed
    the tracker's alerts, what later listeners received, and the alert journal's resolution."""
    tracker = pt.Tracker("10000", targets=pt.Targets(max_loss_streak=1))
    got: list[Any] = []

    def meddler(sender: object, *, alert: Any, **extra: object) -> None:
        with suppress(TypeError):
            alert.context["injected"] = True
        with suppress(TypeError):
            alert.scope["strategy"] = "hacked"
        raise RuntimeError("listener bug")

    def reader(sender: object, *, alert: Any, **extra: object) -> None:
        got.append((dict(alert.scope), dict(alert.context)))

    signals.alert_raised.connect(meddler, sender=tracker)
    signals.alert_raised.connect(reader, sender=tracker)
    close(tracker, 0, False)
    close(tracker, 1, False)
    assert [({}, {})] == got
    [alert] = tracker.alerts.history()
    assert {} == dict(alert.scope)
    assert {} == dict(alert.context)
    assert "injected" not in json.dumps(alert.to_dict())


# -- boundaries of the hysteresis band ------------------------------------------------


def _pnl(tracker: pt.Tracker, n: int, pnl: str, **kw: Any) -> pt.Trade:
    when = T0 + timedelta(minutes=n)
    exit_price = str(Decimal(100) + Decimal(pnl))
    return tracker.record_trade("X", "long", 1, "100", exit_price, when, when, **kw)


def test_win_rate_alert_resolves_exactly_at_the_band():
    # min_win_rate 0.8, hysteresis 5 %: resolves at >= 0.84 (21 of 25); 0.8 * 1.05 in floats
    # is 0.8400000000000001, which 21 / 25 (0.84) is below.
    tracker = pt.Tracker("10000", targets=pt.Targets(min_win_rate=0.8, rolling_window=25))
    for n in range(25):
        _pnl(tracker, n, "1" if n >= 6 else "-1")  # 19 of 25: breached
    assert ["min_win_rate"] == [a.rule for a in tracker.alerts.active()]
    _pnl(tracker, 25, "1")
    _pnl(tracker, 26, "1")  # 21 of 25 = 0.84
    assert 0.84 == tracker.rolling(25).win_rate
    assert [] == tracker.alerts.active()


def test_payoff_alert_resolves_exactly_at_the_band():
    # min_risk_reward 1.5: resolves at >= 1.575 (1.5 * 1.05 is 1.5750000000000002 in floats).
    tracker = pt.Tracker("10000", targets=pt.Targets(min_risk_reward=1.5, risk_reward_window=2))
    _pnl(tracker, 0, "10")
    _pnl(tracker, 1, "-10")
    assert ["risk_reward_breach"] == [a.rule for a in tracker.alerts.active()]
    _pnl(tracker, 2, "15.75")
    _pnl(tracker, 3, "-10")  # payoff 15.75 / 10 = 1.575
    assert [] == tracker.alerts.active()


def test_drawdown_pct_alert_resolves_exactly_at_the_band():
    # max_drawdown_pct 0.12: resolves at <= 0.114 (0.12 * 0.95 is 0.11399999999999999).
    tracker = pt.Tracker("10000", targets=pt.Targets(max_drawdown_pct=0.12))
    tracker.open_trade("o", symbol="X", side="long", quantity=100, price="100", time=T0)
    tracker.mark_price("X", "87", T0 + timedelta(minutes=1))  # 13 %
    assert ["max_drawdown_pct"] == [a.rule for a in tracker.alerts.active()]
    tracker.mark_price("X", "88.6", T0 + timedelta(minutes=2))  # 11.4 %
    assert 0.114 == tracker.live.drawdown_pct
    assert [] == tracker.alerts.active()


def test_high_win_rate_target_alert_can_resolve():
    # min_win_rate 0.98: target x 1.05 is 1.029, a win rate no window reaches; the alert must
    # resolve once every trade of the window wins, or it can never be raised again.
    tracker = pt.Tracker("10000", targets=pt.Targets(min_win_rate=0.98, rolling_window=5))
    for n in range(5):
        _pnl(tracker, n, "-1" if n == 0 else "1")
    assert ["min_win_rate"] == [a.rule for a in tracker.alerts.active()]
    for n in range(5, 10):
        _pnl(tracker, n, "1")
    assert 1.0 == tracker.rolling(5).win_rate
    assert [] == tracker.alerts.active()
    _pnl(tracker, 10, "-1")
    assert 2 == len(tracker.alerts.history())


def test_daily_loss_alert_resolves_when_a_mark_starts_the_next_day():
    # The daily loss is that of the newest event's day: a mark in the next day starts a day
    # with nothing lost (a bot that stops trading on the alert only sends marks).
    tracker = pt.Tracker("10000", targets=pt.Targets(max_daily_loss="15"))
    tracker.open_trade("o", symbol="Y", side="long", quantity=1, price="100", time=T0)
    _pnl(tracker, 1, "-20")
    assert ["max_daily_loss"] == [a.rule for a in tracker.alerts.active()]
    tracker.mark_price("Y", "100", T0 + timedelta(hours=2))  # same day: still breached
    assert ["max_daily_loss"] == [a.rule for a in tracker.alerts.active()]
    tracker.mark_price("Y", "100", T0 + timedelta(days=1))
    assert [] == tracker.alerts.active()
    (alert,) = tracker.alerts.history()
    assert T0 + timedelta(days=1) == alert.resolved_at


def test_daily_loss_alert_restored_mid_breach_resolves_on_a_mark_in_the_next_day():
    store = MemoryStore()
    targets = pt.Targets(max_daily_loss="15")
    tracker = pt.Tracker("10000", store=store, targets=targets)
    tracker.open_trade("o", symbol="Y", side="long", quantity=1, price="100", time=T0)
    _pnl(tracker, 1, "-20")
    tracker.save_snapshot()
    tracker.close()
    again = pt.Tracker.restore(store, targets=targets)
    assert ["max_daily_loss"] == [a.rule for a in again.alerts.active()]
    again.mark_price("Y", "100", T0 + timedelta(days=1))
    assert [] == again.alerts.active()
    assert ["raised", "resolved"] == [line["action"] for line in journal_lines(store)]


def test_daily_loss_alert_actual_is_the_loss_compared_with_the_target():
    # The metric is minus the day's realized P&L (as the summary report's daily_loss row):
    # a 20 loss against a 15 limit reads actual 20 > target 15, not -20.
    tracker = pt.Tracker("10000", targets=pt.Targets(max_daily_loss="15"))
    _pnl(tracker, 0, "-20")
    (alert,) = tracker.alerts.active()
    assert (Decimal(20), Decimal(15)) == (alert.actual, alert.target)
    assert alert.actual > alert.target
    _pnl(tracker, 1, "10")  # a 10 loss: <= 15 x 0.95
    (resolved,) = tracker.alerts.history()
    assert "10" == resolved.context["recovered_to"]

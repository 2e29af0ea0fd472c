"""
Targets and alerts: tell the operator the moment performance falls behind.

    targets = pt.Targets(min_win_rate=0.55, max_drawdown_pct=0.10, max_daily_loss="500")
    tracker = pt.Tracker("10000", targets=targets)
    tracker.alerts.active()

Rules are evaluated as trades close and prices move. An alert is raised on the transition into
breach (not again while the breach lasts), resolved once the metric recovers past the target by
the hysteresis band, and raised again only after that. Each alert goes to the blinker signals
``alert-raised`` / ``alert-resolved``, to a WARN log entry ``perftrack.alert``, and, when the
tracker has a store, to the JSON-lines alert journal ``<account>/performance-alerts.jsonl``.
Definitions of every rule are in docs/howto-alerts.md.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal, localcontext
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import attrs

from perftrack import signals
from perftrack._convert import to_decimal, to_name
from perftrack._log import log
from perftrack._model import MONEY_CONTEXT, Trade, json_safe
from perftrack._periods import Calendar
from perftrack._review import ReviewThresholds, to_thresholds
from perftrack.errors import (
    ConfigError,
    InvalidInputError,
    MissingKeyError,
    StoreError,
    UnknownTradeError,
)

if TYPE_CHECKING:
    from perftrack._tracker import Tracker

__all__ = ["AlertEvent", "Alerts", "Breach", "Targets", "TrackerView"]


ALERT_JOURNAL: Final = "performance-alerts.jsonl"
SEVERITIES: Final = ("warning", "critical")
_SCOPES: Final = ("strategy", "symbol", "tag")


@attrs.frozen
class Breach:
    """
    What a custom rule returns for each breached target.

    ``key`` identifies the breach across evaluations (an alert is raised when a key appears and
    resolved when it disappears).
    """

    key: str
    metric: str
    actual: float | Decimal
    target: float | Decimal
    severity: str = "warning"
    window: int | None = None
    context: Mapping[str, Any] = attrs.field(factory=dict)


def _check_breach(breach: object) -> None:
    """
    Raise TypeError unless ``breach`` is a Breach an alert can be made of: the event that ran
    the rule is applied and journaled already, so a malformed one must fail as its rule does
    (logged, ignored), not later in the alert's construction or its journal line.
    """
    if not isinstance(breach, Breach):
        msg = f"a custom rule must return Breach objects (got {breach!r})"
        raise TypeError(msg)
    problems = []
    for name in ("key", "metric", "severity"):
        value = getattr(breach, name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name}={value!r}")
    for name in ("actual", "target"):
        value = getattr(breach, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float, Decimal))
            or not math.isfinite(value)
        ):
            problems.append(f"{name}={value!r}")
    if breach.window is not None and (
        isinstance(breach.window, bool) or not isinstance(breach.window, int)
    ):
        problems.append(f"window={breach.window!r}")
    if not isinstance(breach.context, Mapping):
        problems.append(f"context={breach.context!r}")
    else:
        try:
            json.dumps(json_safe(dict(breach.context)), allow_nan=False)
        except (TypeError, ValueError):
            problems.append(f"context={breach.context!r} (not JSON values)")
    if problems:
        msg = f"a custom rule returned a malformed Breach ({', '.join(problems)})"
        raise TypeError(msg)


def _read_only_copy(value: Mapping[str, Any]) -> Mapping[str, Any]:
    # An alert is shared: the tracker's history and every listener of its signals hold the
    # same object, so its mappings are read-only copies (a listener cannot change them).
    return MappingProxyType(dict(value))


@attrs.frozen
class AlertEvent:
    """
    One alert: raised when a target was breached, resolved when it recovered. ``scope`` and
    ``context`` are read-only mappings.
    """

    id: str
    rule: str
    metric: str
    scope: Mapping[str, str] = attrs.field(converter=_read_only_copy)
    window: int | None
    actual: float | Decimal
    target: float | Decimal
    severity: str
    raised_at: datetime | None
    resolved_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    context: Mapping[str, Any] = attrs.field(factory=dict, converter=_read_only_copy)

    @property
    def active(self) -> bool:
        """
        Raised and not resolved yet.
        """
        return self.resolved_at is None

    def to_dict(self) -> dict[str, Any]:
        """
        Every field as JSON-safe values (Decimals as strings, times in ISO 8601).
        """
        return {f.name: json_safe(getattr(self, f.name)) for f in attrs.fields(AlertEvent)}


ENV_WINDOW: Final = "PERFTRACK_ALERT_ROLLING_WINDOW"
ENV_TIMEZONE: Final = "PERFTRACK_TIMEZONE"


def _env_window(default: int) -> int:
    """
    The win-rate window from ``PERFTRACK_ALERT_ROLLING_WINDOW``, else ``default``.
    """
    text = os.environ.get(ENV_WINDOW)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        msg = f"{ENV_WINDOW!r} must be a positive int (got {text!r})"
        raise ConfigError(msg)
    return value


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        msg = f"{name!r} must be a positive int (got {value!r})"
        raise ConfigError(msg)
    return value


def _fraction(name: str, value: object, *, above_one: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        msg = f"{name!r} must be a number (got {value!r})"
        raise ConfigError(msg)
    try:
        number = float(value)
    except (ValueError, OverflowError):
        msg = f"{name!r} must be a number (got {value!r})"
        raise ConfigError(msg) from None
    # Finite: an infinite (or 1e999999) minimum ratio is a rule that always fires.
    if not math.isfinite(number) or not (number >= 0 and (above_one or number <= 1)):
        where = "finite and >= 0" if above_one else "between 0 and 1"
        msg = f"{name!r} must be {where} (got {value!r})"
        raise ConfigError(msg)
    return number


def _rules_tuple(value: object) -> tuple[Any, ...]:
    if callable(value) or isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        msg = f"'custom' must be a sequence of callables (got {value!r})"
        raise ConfigError(msg)
    return tuple(value)


def _money(name: str, value: object) -> Decimal | None:
    if value is None:
        return None
    return to_decimal(name, value, error=ConfigError)


def _streak(name: str, value: object) -> int | None:
    return None if value is None else _positive_int(name, value)


#: The target of ``min_risk_reward=True``: average win as large as the average loss.
_DEFAULT_RISK_REWARD: Final = 1.0

_RULE_FIELDS: Final = (
    "min_win_rate",
    "min_risk_reward",
    "max_drawdown_pct",
    "max_drawdown",
    "max_daily_loss",
    "max_loss_streak",
    "min_profit_factor",
)


@attrs.frozen(kw_only=True)
class Targets:
    """
    The operator's targets. A rule whose target is None is off.

    Args:
        min_win_rate: Lowest acceptable win rate (fraction) over the last ``rolling_window``
            closed trades.
        min_risk_reward: Lowest acceptable payoff ratio (avg win / |avg loss|) over the last
            ``risk_reward_window`` closed trades; its alert is ``risk_reward_breach``. Like
            every rule it is opt-in; ``True`` switches it on at its default target,
            1.0 (wins as large as losses).
        max_drawdown_pct: Largest acceptable fall of live equity below its peak (fraction).
        max_drawdown: Largest acceptable fall of live equity below its peak (money).
        max_daily_loss: Largest acceptable realized loss in the current session day (money).
        max_loss_streak: Longest acceptable run of losing trades.
        min_profit_factor: Lowest acceptable profit factor over the last
            ``profit_factor_window`` closed trades.
        rolling_window: Trades in the win-rate window (default
            ``PERFTRACK_ALERT_ROLLING_WINDOW``, else 20).
        min_sample: Closed trades a trade-based rule needs in its window before it can fire
            (default: the whole window).
        hysteresis: How far past the target, as a fraction of it, a metric must recover before
            its alert resolves (default 0.05: a 60 % win-rate alert resolves at 63 %).
        scope: Restrict every rule to one strategy, symbol or tag, e.g. {"strategy": "a"}.
        per_strategy: Further Targets for single strategies (scoped to them).
        custom: Callables taking a read-only view of the tracker (``TrackerView``: its
            queries only) and returning an iterable of ``Breach``.
        timezone: The IANA time zone whose midnight starts the ``max_daily_loss`` day
            (default: ``PERFTRACK_TIMEZONE``, else the tracker's own time zone).
        review: The thresholds of the weekly ideas review (``ReviewThresholds``, or a mapping
            of them: the ``[review]`` table of a targets file).
    """

    min_win_rate: float | None = None
    min_risk_reward: float | bool | None = None
    max_drawdown_pct: float | None = None
    max_drawdown: Decimal | None = None
    max_daily_loss: Decimal | None = None
    max_loss_streak: int | None = None
    min_profit_factor: float | None = None
    rolling_window: int = attrs.field(factory=lambda: _env_window(20))
    risk_reward_window: int = 10
    profit_factor_window: int = 20
    min_sample: int | None = None
    hysteresis: float = 0.05
    scope: dict[str, str] = attrs.field(factory=dict)
    per_strategy: dict[str, Targets] = attrs.field(factory=dict)
    custom: tuple[Callable[[Any], Iterable[Breach]], ...] = ()
    timezone: str | None = attrs.field(factory=lambda: os.environ.get(ENV_TIMEZONE) or None)
    review: ReviewThresholds = attrs.field(factory=ReviewThresholds, converter=to_thresholds)

    def __attrs_post_init__(self) -> None:
        # Normalise and check every value once (strings from TOML or env become numbers);
        # frozen, hence object.__setattr__.
        fixed: dict[str, object] = {
            "min_win_rate": _fraction("min_win_rate", self.min_win_rate),
            "min_risk_reward": _fraction(
                "min_risk_reward",
                # True: on, at the issue-defined default (an operator who only says "watch
                # risk-reward" gets wins as large as losses).
                _DEFAULT_RISK_REWARD if self.min_risk_reward is True else self.min_risk_reward,
                above_one=True,
            ),
            "max_drawdown_pct": _fraction("max_drawdown_pct", self.max_drawdown_pct),
            "max_drawdown": _money("max_drawdown", self.max_drawdown),
            "max_daily_loss": _money("max_daily_loss", self.max_daily_loss),
            "max_loss_streak": _streak("max_loss_streak", self.max_loss_streak),
            "min_profit_factor": _fraction(
                "min_profit_factor", self.min_profit_factor, above_one=True
            ),
            "rolling_window": _positive_int("rolling_window", self.rolling_window),
            "risk_reward_window": _positive_int("risk_reward_window", self.risk_reward_window),
            "profit_factor_window": _positive_int(
                "profit_factor_window", self.profit_factor_window
            ),
            "min_sample": _streak("min_sample", self.min_sample),
            "hysteresis": _fraction("hysteresis", self.hysteresis) or 0.0,
            "custom": _rules_tuple(self.custom),
        }
        for name, value in fixed.items():
            object.__setattr__(self, name, value)
        if self.timezone is not None:
            try:
                Calendar(self.timezone)
            except InvalidInputError as e:
                msg = f"{e} (from the targets' 'timezone' or {ENV_TIMEZONE})"
                raise ConfigError(msg) from None
        for rule in self.custom:
            if not callable(rule):
                msg = f"'custom' rules must be callables (got {rule!r})"
                raise ConfigError(msg)
        # Tables for single strategies are scoped to them, whether they came from TOML or
        # were built in code without a scope (they would otherwise watch every trade, under
        # the same rule keys as the top-level targets).
        scoped: dict[str, Targets] = {}
        if not isinstance(self.per_strategy, Mapping):
            msg = f"'per_strategy' must map strategies to Targets (got {self.per_strategy!r})"
            raise ConfigError(msg)
        for name, given in self.per_strategy.items():
            if not isinstance(given, Targets):
                msg = f"'per_strategy' values must be Targets (got {name!r}: {given!r})"
                raise ConfigError(msg)
            strategy = given.scope.get("strategy")
            if strategy is not None and strategy != name:
                msg = f"'per_strategy' table {name!r} is scoped to strategy {strategy!r}"
                raise ConfigError(msg)
            scoped[name] = (
                given
                if strategy is not None
                else attrs.evolve(given, scope={**given.scope, "strategy": name})
            )
        object.__setattr__(self, "per_strategy", scoped)

    @scope.validator
    def _check_scope(self, _attribute: object, value: dict[str, str]) -> None:
        if not isinstance(value, Mapping):
            msg = f"'scope' must be a mapping such as {{'strategy': 'a'}} (got {value!r})"
            raise ConfigError(msg)
        for key, name in value.items():
            if key not in _SCOPES or not isinstance(name, str) or not name:
                msg = f"'scope' keys are {_SCOPES} with a name (got {key!r}: {name!r})"
                raise ConfigError(msg)

    @classmethod
    def from_env(cls, **values: Any) -> Targets:
        """
        Targets from keyword values, with ``PERFTRACK_ALERT_ROLLING_WINDOW`` and
        ``PERFTRACK_TIMEZONE`` applied on top.
        """
        if os.environ.get(ENV_WINDOW) is not None:
            values["rolling_window"] = _env_window(20)
        zone = os.environ.get(ENV_TIMEZONE)
        if zone:
            values["timezone"] = zone
        return cls(**values)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Targets:
        """
        Targets from a TOML file: a ``[targets]`` table, optional ``[targets.strategy.NAME]``
        tables for single strategies, an optional ``[review]`` table; environment overrides on
        top.

        Raises:
            ConfigError: For an unreadable file, an unknown key (named) or an invalid value.
        """
        try:
            doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, TypeError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            msg = f"'path' is not a readable TOML file ({path}): {e}"
            raise ConfigError(msg) from e
        unknown = set(doc) - {"targets", "review"}
        if unknown:
            msg = f"unknown table {sorted(unknown)[0]!r} in {path}"
            raise ConfigError(msg)
        table = dict(doc.get("targets", {}))
        strategies = table.pop("strategy", {})
        if not isinstance(strategies, dict) or not all(
            isinstance(t, dict) for t in strategies.values()
        ):
            msg = f"'strategy' must hold one [targets.strategy.NAME] table per strategy in {path}"
            raise ConfigError(msg)
        allowed = {f.name for f in attrs.fields(cls)} - {"per_strategy", "custom", "review"}
        for where, keys in [
            ("[targets]", table),
            *((f"[targets.strategy.{name}]", t) for name, t in strategies.items()),
        ]:
            for key in keys:
                if key not in allowed:
                    msg = f"unknown target {key!r} in {where} of {path}"
                    raise ConfigError(msg)
        # The environment overrides the file, in the per-strategy tables too.
        per_strategy = {
            name: cls.from_env(**{**values, "scope": {"strategy": name}})
            for name, values in strategies.items()
        }
        review = ReviewThresholds.from_mapping(doc.get("review", {}), where=str(path))
        return cls.from_env(**table, per_strategy=per_strategy, review=review)

    def rules(self, timezone: str | None = None) -> list[_Rule]:
        """
        The built-in rules these targets switch on, scoped ones included (``timezone``: the
        zone of the daily-loss session day when these targets name none).
        """
        zone = self.timezone if self.timezone is not None else timezone
        out: list[_Rule] = []
        sample = self.min_sample
        scope = dict(self.scope)
        if self.min_win_rate is not None:
            out.append(
                _WinRate(self.min_win_rate, scope, self.rolling_window, sample, self.hysteresis)
            )
        if self.min_risk_reward is not None:
            out.append(
                _Payoff(
                    self.min_risk_reward, scope, self.risk_reward_window, sample, self.hysteresis
                )
            )
        if self.min_profit_factor is not None:
            out.append(
                _ProfitFactor(
                    self.min_profit_factor,
                    scope,
                    self.profit_factor_window,
                    sample,
                    self.hysteresis,
                )
            )
        if self.max_loss_streak is not None:
            out.append(_LossStreak(self.max_loss_streak, scope))
        drawdown = _ScopedDrawdown if scope else _Drawdown
        if self.max_drawdown_pct is not None:
            out.append(drawdown("max_drawdown_pct", self.max_drawdown_pct, scope, self.hysteresis))
        if self.max_drawdown is not None:
            out.append(drawdown("max_drawdown", self.max_drawdown, scope, self.hysteresis))
        if self.max_daily_loss is not None:
            out.append(_DailyLoss(self.max_daily_loss, scope, self.hysteresis, zone))
        for nested in self.per_strategy.values():
            out += nested.rules(zone if nested.timezone is None else nested.timezone)
        return out


# -- rules -------------------------------------------------------------------------------------

#: How far (relative) the bounds of the cheap comparisons are widened: far beyond the
#: rounding of a 50-digit quotient to a float, and of the products compared instead.
_DEC_MARGIN: Final = Decimal("1e-9")
_ZERO: Final = Decimal(0)
_NEVER: Final = Decimal("Infinity")


def _band(target: float, hysteresis: float, sign: int) -> float:
    """
    ``target x (1 + sign x hysteresis)`` exactly (from the floats' shortest decimal forms, as
    the operator wrote them), rounded once to a float.
    """
    exact = Decimal(repr(float(target))) * (1 + sign * Decimal(repr(float(hysteresis))))
    return float(exact)


class _Rule:
    """
    A built-in rule: its state is updated by events; ``check`` says whether it is breached now
    (True), recovered past its band (False) or neither / not evaluable (None).
    """

    name: str
    metric: str
    severity = "warning"
    window: int | None = None

    def __init__(self, target: Any, scope: dict[str, str]) -> None:
        self.target = target
        self.scope = scope
        self.actual: Any = None

    def applies(self, trade: Any) -> bool:
        scope = self.scope
        if not scope:
            return True
        return (
            scope.get("strategy", trade.strategy) == trade.strategy
            and scope.get("symbol", trade.symbol) == trade.symbol
            and ("tag" not in scope or scope["tag"] in trade.tags)
        )

    def key(self) -> str:
        scope = ",".join(f"{k}={v}" for k, v in sorted(self.scope.items()))
        return f"{self.name}[{scope}]"

    def on_trade(self, trade: Trade) -> None:
        """
        A closed trade in this rule's scope.
        """

    def check(self, tracker: Tracker) -> bool | None:
        raise NotImplementedError

    def may_flip(self, active: bool) -> bool:
        """
        Whether ``check`` could now move the rule's alert: into breach when it is not
        ``active``, out of it when it is. Never False when ``check`` would move it; True when
        unsure (``check`` then decides). It lets the event path skip ``check`` and the work of
        ``actual`` while nothing can change, which is almost always.
        """
        return True

    def step(self, trade: Trade, active: bool) -> bool:
        """
        ``on_trade`` then ``may_flip``, in one call (the event path runs it on every close).
        """
        self.on_trade(trade)
        return self.may_flip(active)

    def state(self) -> list[Any]:
        return []

    def load(self, state: list[Any]) -> None:
        """
        Restore what ``state`` returned.
        """


class _TradeRule(_Rule):
    """
    A rule over the scope's closed trades: checked when one of them closes.
    """


class _TradeWindow:
    """
    The last ``size`` closed trades of one scope, as running counts and sums. The windowed
    rules of one scope and size share one (``Alerts`` binds them), so a close updates the
    window once, not once per rule. Guarded by the tracker's lock.
    """

    __slots__ = ("loss_sum", "losses", "nets", "size", "sums", "win_sum", "wins")

    def __init__(self, size: int, *, sums: bool = True) -> None:
        self.size = size
        #: Whether the P&L sums are kept; a window only win rates read counts its wins.
        self.sums = sums
        self.nets: deque[Decimal] = deque(maxlen=size)
        self.wins = 0
        self.losses = 0
        self.win_sum = Decimal(0)
        self.loss_sum = Decimal(0)

    def push(self, net: Decimal) -> None:
        """
        One more closed trade's net P&L; the oldest leaves a full window.
        """
        _push((self,), net)

    def load(self, state: list[Any]) -> None:
        """
        Refill an empty window from a rule's saved nets. The rules that share the window
        saved the same nets, so the first to load fills it and the others change nothing.
        """
        if not self.nets:
            for value in state:
                self.push(Decimal(value))


def _push(windows: tuple[_TradeWindow, ...], net: Decimal) -> None:
    """
    ``push`` into each of ``windows``: one call for a scope's windows on the event path.
    """
    for window in windows:
        nets = window.nets
        if not window.sums:
            if len(nets) == window.size and nets[0] > _ZERO:
                window.wins -= 1
            nets.append(net)
            if net > _ZERO:
                window.wins += 1
            continue
        if len(nets) == window.size:
            old = nets[0]
            if old > _ZERO:
                window.wins -= 1
                window.win_sum -= old
            elif old < _ZERO:
                window.losses -= 1
                window.loss_sum -= old
        nets.append(net)
        if net > _ZERO:
            window.wins += 1
            window.win_sum += net
        elif net < _ZERO:
            window.losses += 1
            window.loss_sum += net


class _Windowed(_TradeRule):
    """
    A minimum over the last ``window`` closed trades of the scope, read from the
    ``_TradeWindow`` that ``Alerts`` binds (shared with the scope's other windowed rules of
    that size) and pushes every close of the scope into before ``step``.
    """

    #: Whether the rule reads the window's P&L sums (not only its counts).
    needs_sums = True
    #: The highest value the metric can take, when it has one: the band never exceeds it.
    band_cap: float | None = None

    def __init__(
        self,
        target: float,
        scope: dict[str, str],
        window: int,
        sample: int | None,
        hysteresis: float,
    ) -> None:
        super().__init__(target, scope)
        self.window = window
        self.sample = min(window, sample) if sample is not None else window
        # target x (1 + hysteresis) worked out exactly, then rounded once: the float product
        # can land above it (0.8 x 1.05 = 0.8400000000000001), and a metric exactly at the
        # band would not resolve.
        self.band = _band(target, hysteresis, 1)
        if self.band_cap is not None and self.band > self.band_cap:
            self.band = self.band_cap
        # The bounds the exact quotient is compared with by cross-multiplying (no 50-digit
        # division, no float conversion), widened far beyond the rounding of the float figure.
        self.target_hi = Decimal(target) * (1 + _DEC_MARGIN)
        self.band_lo = Decimal(self.band) * (1 - _DEC_MARGIN)
        self.trades = _TradeWindow(window, sums=self.needs_sums)

    def on_trade(self, trade: Trade) -> None:
        """
        Nothing of its own: ``Alerts`` pushes the trade into the shared window.
        """

    def metric_now(self) -> float | None:
        raise NotImplementedError

    def check(self, tracker: Tracker) -> bool | None:
        if len(self.trades.nets) < self.sample:
            return None
        value = self.metric_now()
        self.actual = value
        if value is None:
            return None
        if value < self.target:
            return True
        return False if value >= self.band else None

    def state(self) -> list[Any]:
        return [str(n) for n in self.trades.nets]

    def load(self, state: list[Any]) -> None:
        self.trades.load(state)


class _WinRate(_Windowed):
    name = metric = "min_win_rate"
    needs_sums = False

    # A win rate is at most 1: a band above it (0.98 x 1.05) would never resolve, and the
    # alert could never be raised again.
    band_cap = 1.0

    def metric_now(self) -> float | None:
        return self.trades.wins / len(self.trades.nets)

    def step(self, trade: Trade, active: bool) -> bool:
        trades = self.trades
        n = len(trades.nets)
        if n < self.sample:
            return False
        value = trades.wins / n  # exactly metric_now, cheap
        return value >= self.band if active else value < self.target


class _Payoff(_Windowed):
    name = "risk_reward_breach"
    metric = "payoff_ratio"

    def metric_now(self) -> float | None:
        trades = self.trades
        if not trades.wins or not trades.losses:
            return None
        return float((trades.win_sum / trades.wins) / (-trades.loss_sum / trades.losses))

    def step(self, trade: Trade, active: bool) -> bool:
        trades = self.trades
        wins, losses = trades.wins, trades.losses
        if len(trades.nets) < self.sample or not wins or not losses:
            return False
        # (win_sum / wins) / (-loss_sum / losses) against a bound, cross-multiplied.
        num = trades.win_sum * losses
        den = trades.loss_sum * -wins
        return num >= self.band_lo * den if active else num <= self.target_hi * den


class _ProfitFactor(_Windowed):
    name = "min_profit_factor"
    metric = "profit_factor"

    def metric_now(self) -> float | None:
        trades = self.trades
        return None if not trades.loss_sum else float(trades.win_sum / -trades.loss_sum)

    def step(self, trade: Trade, active: bool) -> bool:
        trades = self.trades
        if len(trades.nets) < self.sample or not trades.loss_sum:
            return False
        # win_sum / -loss_sum against a bound, cross-multiplied.
        num, den = trades.win_sum, -trades.loss_sum
        return num >= self.band_lo * den if active else num <= self.target_hi * den


class _LossStreak(_TradeRule):
    name = "max_loss_streak"
    metric = "loss_streak"

    def __init__(self, target: int, scope: dict[str, str]) -> None:
        super().__init__(target, scope)
        self.streak = 0

    def on_trade(self, trade: Trade) -> None:
        self.streak = self.streak + 1 if trade.net_pnl < 0 else 0

    def check(self, tracker: Tracker) -> bool | None:
        self.actual = self.streak
        if self.streak > self.target:
            return True
        return False if self.streak == 0 else None

    def may_flip(self, active: bool) -> bool:
        return self.streak == 0 if active else self.streak > self.target

    def step(self, trade: Trade, active: bool) -> bool:
        streak = self.streak = self.streak + 1 if trade.net_pnl < _ZERO else 0
        return streak == 0 if active else streak > self.target

    def state(self) -> list[Any]:
        return [self.streak]

    def load(self, state: list[Any]) -> None:
        self.streak = int(state[0])


class _Drawdown(_Rule):
    """
    The fall of live (marked-to-market) equity below its peak, now; account-wide.
    """

    severity = "critical"

    def __init__(self, metric: str, target: Any, scope: dict[str, str], hysteresis: float) -> None:
        super().__init__(target, scope)
        self.name = self.metric = metric
        self.band = (
            target * (1 - Decimal(str(hysteresis)))
            if isinstance(target, Decimal)
            else _band(target, hysteresis, -1)
        )
        self.money = metric == "max_drawdown"
        if not self.money:
            # drawdown / peak past a fraction, as drawdown past fraction x peak: Decimal
            # products instead of a 50-digit division and its float conversion. The bounds
            # are widened far beyond the float rounding of the exact figure.
            self.target_lo = Decimal(target) * (1 - _DEC_MARGIN)
            self.band_hi = Decimal(self.band) * (1 + _DEC_MARGIN)

    def may_flip_live(self, peak: Decimal, drawdown: Decimal, active: bool) -> bool:
        """
        ``may_flip`` for this peak and current drawdown of live equity.
        """
        if self.money:
            moved: bool = drawdown <= self.band if active else drawdown > self.target
            return moved
        if not peak > _ZERO:
            return False
        if active:
            return drawdown <= self.band_hi * peak
        return drawdown > self.target_lo * peak

    def breach_floor(self, peak: Decimal) -> Decimal:
        """
        A drawdown at or below which ``may_flip_live`` is False for this ``peak`` while the
        rule's alert is not active: no smaller than the exact bound (infinite: none flips).
        """
        if self.money:
            floor: Decimal = self.target
            return floor
        return self.target_lo * peak if peak > _ZERO else _NEVER

    def check(self, tracker: Tracker) -> bool | None:
        return self.check_live(tracker._live.figures())

    def check_live(self, figures: tuple[Decimal, Decimal, Decimal, Decimal]) -> bool | None:
        peak, _max_dd, _max_pct, drawdown = figures
        if self.metric == "max_drawdown":
            value: Any = drawdown
        else:
            value = float(drawdown / peak) if peak > 0 else None
        self.actual = value
        if value is None:
            return None
        if value > self.target:
            return True
        return False if value <= self.band else None


class _ScopedDrawdown(_Drawdown):
    """
    The fall below its peak of a scope's own equity: the starting equity plus the P&L the
    scope realized plus the unrealized P&L of its open trades, as of each event.
    """

    def __init__(self, metric: str, target: Any, scope: dict[str, str], hysteresis: float) -> None:
        super().__init__(metric, target, scope, hysteresis)
        self.realized = Decimal(0)
        self.peak: Decimal | None = None

    def check(self, tracker: Tracker) -> bool | None:
        for _when, amount, source in tracker._booked:
            if self.applies(source):
                self.realized += amount
        unrealized = Decimal(0)
        for pos in tracker._open.values():
            if self.applies(pos):
                unrealized += (tracker._symbols[pos.symbol].mark * pos.qty - pos.cost) * pos.sign
        equity = tracker._start + self.realized + unrealized
        # Like the account's path, the scope's starts at the starting equity.
        peak = max(tracker._start if self.peak is None else self.peak, equity)
        self.peak = peak
        return self.check_live((peak, Decimal(0), Decimal(0), peak - equity))

    def state(self) -> list[Any]:
        return [str(self.realized), None if self.peak is None else str(self.peak)]

    def load(self, state: list[Any]) -> None:
        self.realized = Decimal(state[0])
        self.peak = None if state[1] is None else Decimal(state[1])


class _DailyLoss(_Rule):
    """
    The realized P&L of the current session day (the day of the tracker's newest event) in the
    rule's scope, kept from what each event realized.
    """

    name = metric = "max_daily_loss"
    severity = "critical"

    def __init__(
        self, target: Decimal, scope: dict[str, str], hysteresis: float, zone: str | None
    ) -> None:
        super().__init__(target, scope)
        self.band = target * (1 - Decimal(str(hysteresis)))
        self.neg_target, self.neg_band = -target, -self.band
        self.zone = zone
        self.calendar: Calendar | None = None  # set by Alerts: the targets' zone, if any
        self.day: int | None = None
        self.pnl = Decimal(0)
        # The UTC bounds of ``day``: an instant inside them is in it, without a zone lookup.
        self.start: datetime | None = None
        self.end: datetime | None = None

    def check(self, tracker: Tracker) -> bool | None:
        if not self.update(tracker):
            return None
        return self.verdict()

    def update(self, tracker: Tracker) -> bool:
        """
        Add what the event realized in the current session day; False before any event.
        """
        if tracker._clock is None:
            return False
        self.step_day(tracker, False)
        return True

    def verdict(self) -> bool | None:
        """
        ``check`` after ``update``.
        """
        # The metric is the day's loss, minus its P&L (what the target limits).
        self.actual = _ZERO - self.pnl  # (not -0 for a day with nothing realized)
        if -self.pnl > self.target:
            return True
        return False if -self.pnl <= self.band else None

    def may_flip(self, active: bool) -> bool:
        return -self.pnl <= self.band if active else -self.pnl > self.target

    def step_day(self, tracker: Tracker, active: bool) -> bool:
        """
        ``update`` then ``may_flip``, in one call (the event path runs it on every event).
        """
        clock = tracker._clock
        if clock is None:
            return False
        start, end = self.start, self.end
        if start is None or end is None or not start <= clock < end:
            calendar = self.calendar or tracker._calendar
            today = calendar.session_of(clock)
            if today != self.day:
                self.day, self.pnl = today, Decimal(0)
            self.start, self.end = start, end = calendar.session_bounds(today)
        scoped = bool(self.scope)
        for when, amount, source in tracker._booked:
            if start <= when < end and (not scoped or self.applies(source)):
                self.pnl += amount
        # may_flip, with the signs moved to the constants: -pnl <= band is pnl >= -band.
        return self.pnl >= self.neg_band if active else self.pnl < self.neg_target

    def state(self) -> list[Any]:
        return [self.day, str(self.pnl)]

    def load(self, state: list[Any]) -> None:
        self.day, self.pnl = state[0], Decimal(state[1])


# -- the manager -------------------------------------------------------------------------------


class Alerts:
    """
    The tracker's alerts: ``tracker.alerts``. Thread-safe (it works under the tracker's lock).
    """

    def __init__(self, tracker: Tracker, targets: Targets) -> None:
        self._tracker = tracker
        self.targets = targets
        # The rules' exact bounds (Decimal(target) x (1 + margin)) in the money context, not
        # the constructing thread's (a prec of 3 ate the margin; a FloatOperation trap
        # refused Decimal(float)).
        with localcontext(MONEY_CONTEXT):  # the rules' bounds are money
            self._rules = targets.rules()
        self._by_key: dict[str, _Rule] = {r.key(): r for r in self._rules}
        self._trade_groups = _share_windows(
            [(k, r) for k, r in self._by_key.items() if isinstance(r, _TradeRule)]
        )
        self._day_rules = [(k, r) for k, r in self._by_key.items() if isinstance(r, _DailyLoss)]
        for _key, daily in self._day_rules:
            if daily.zone is not None and daily.zone != tracker.timezone:
                # PERFTRACK_TIMEZONE / the targets' timezone: the operator's day for the
                # daily loss limit, when it is not the day the tracker's summaries use.
                daily.calendar = Calendar(daily.zone, tracker.calendar)
        self._equity_rules = [
            (k, r)
            for k, r in self._by_key.items()
            if isinstance(r, _Drawdown) and not isinstance(r, _ScopedDrawdown)
        ]
        self._equity_peak: Decimal | None = None  # the peak _equity_trigger was worked out for
        self._equity_trigger = -_NEVER
        self._scoped_equity_rules = [
            (k, r) for k, r in self._by_key.items() if isinstance(r, _ScopedDrawdown)
        ]
        self._custom_rules = list(_custom_rules(targets))
        self._has_custom = bool(self._custom_rules)
        self._view = TrackerView(tracker)
        self._custom_found: dict[int, dict[str, tuple[str, dict[str, str]]]] = {}
        self._unwritten: list[bytes] = []  # alert-journal lines a failing store kept back
        self._active: dict[str, AlertEvent] = {}  # rule key -> alert
        self._custom_active: dict[str, AlertEvent] = {}
        self._history: list[AlertEvent] = []
        self._count = 0
        self._delivered: set[str] | None = None  # ids already in the alert journal (restore)
        # The journal ends inside a line (a crash cut an append): the next append starts on
        # a line of its own, so that the cut line stays one bad line and the new one whole.
        # None: unknown (a failed append may have left part of its lines), read before the next.
        self._cut_tail: bool | None = False
        tracker._components["alerts"] = self
        if self._rules or self._has_custom:
            # Without rules there is nothing to observe: keep the event path lean.
            tracker._observers.append(self._observe)

    # -- public ------------------------------------------------------------------------------

    def active(self) -> list[AlertEvent]:
        """
        The alerts raised and not resolved, oldest first. Thread-safe.
        """
        with self._tracker._lock:
            return [a for a in self._history if a.active]

    def history(self) -> list[AlertEvent]:
        """
        Every alert raised, oldest first, with its latest state. Thread-safe.
        """
        with self._tracker._lock:
            return list(self._history)

    def acknowledge(self, alert_id: str, by: str | None = None) -> AlertEvent:
        """
        Mark an alert as seen by an operator (journaled). Thread-safe.

        Raises:
            UnknownTradeError: When no alert has that id.
        """
        tracker = self._tracker
        if not isinstance(alert_id, str):
            msg = f"'alert_id' must be a string (got {alert_id!r})"
            raise InvalidInputError(msg)
        if by is not None:
            by = to_name("by", by, error=InvalidInputError)
        with tracker._lock:
            if not any(a.id == alert_id for a in self._history):
                msg = f"'alert_id' names no alert (got {alert_id!r})"
                raise UnknownTradeError(msg)
            when = tracker._clock
            tracker._write_ahead(
                "alerts.apply_acknowledgement", {"alert_id": alert_id, "by": by, "at": when}
            )
            return self.apply_acknowledgement(alert_id, by, when)

    def apply_acknowledgement(self, alert_id: str, by: str | None, at: Any) -> AlertEvent:
        """
        Record an acknowledgement (used directly by journal replay).
        """
        when = datetime.fromisoformat(at) if isinstance(at, str) else at
        for i, alert in enumerate(self._history):
            if alert.id == alert_id:
                updated = attrs.evolve(alert, acknowledged_at=when, acknowledged_by=by)
                self._history[i] = updated
                for table in (self._active, self._custom_active):
                    for key, value in table.items():
                        if value.id == alert_id:
                            table[key] = updated
                if not self._delivered_before(updated, "acknowledged"):
                    self._journal(updated, "acknowledged")
                return updated
        msg = f"'alert_id' names no alert (got {alert_id!r})"
        raise UnknownTradeError(msg)

    # -- evaluation (under the tracker's lock) -------------------------------------------------

    def _observe(
        self, kind: str, event: dict[str, Any] | None, result: object, pending: list[Any]
    ) -> None:
        # Check only what the event can have moved: trade rules on a close, the daily loss on
        # a realization, drawdowns on any change of equity. And check a rule (working out its
        # ``actual``) only when its cheap ``step`` / ``may_flip`` says its alert could move:
        # the same transitions, in the same order, at a fraction of the cost.
        tracker = self._tracker
        active = self._active
        if isinstance(result, Trade):
            for scoped, windows, rules in self._trade_groups:
                if scoped is not None and not scoped.applies(result):
                    continue
                if windows:
                    _push(windows, result.net_pnl)
                for key, rule in rules:
                    if rule.step(result, key in active):
                        self._transition(key, rule, rule.check(tracker), pending)
        if self._day_rules:
            # A mark realizes nothing, but one past the end of a rule's day (or the first with
            # no bounds worked out yet, as after a restore) starts the next day (the newest
            # event's), where the day's loss starts again at nothing. One comparison a rule
            # while the mark stays inside the day.
            mark, clock = kind == "mark_price", tracker._clock
            for key, daily in self._day_rules:
                if mark and (clock is None or (daily.end is not None and clock < daily.end)):
                    continue
                if daily.step_day(tracker, key in active):
                    self._transition(key, daily, daily.verdict(), pending)
        if self._equity_rules:
            # While no drawdown alert is active, one comparison of live equity with the level
            # below which any of them could breach stands for them all. The level moves only
            # with the path's peak: equity above the peak is no drawdown at all, and below it
            # the drawdown is peak - equity.
            live = tracker._live
            if live.peak is not self._equity_peak:
                self._equity_peak = live.peak
                self._equity_trigger = _breach_level(live.peak, self._equity_rules)
            if live.equity < self._equity_trigger or (
                active and any(key in active for key, _rule in self._equity_rules)
            ):
                peak, now = live.drawdown_now()
                for key, drawdown in self._equity_rules:
                    if drawdown.may_flip_live(peak, now, key in active):
                        figures = (peak, _ZERO, _ZERO, now)  # check_live reads only these
                        self._transition(key, drawdown, drawdown.check_live(figures), pending)
        for key, scoped in self._scoped_equity_rules:
            self._transition(key, scoped, scoped.check(tracker), pending)
        if self._has_custom:
            self._check_custom(pending)

    def _transition(self, key: str, rule: _Rule, state: bool | None, pending: list[Any]) -> None:
        if state is True:
            if key not in self._active:
                self._raise(
                    key,
                    rule.name,
                    rule.metric,
                    rule.scope,
                    rule.window,
                    rule.actual,
                    rule.target,
                    rule.severity,
                    {},
                    self._active,
                    pending,
                )
        elif state is False and key in self._active:
            self._resolve(key, rule.actual, self._active, pending)

    def _check_custom(self, pending: list[Any]) -> None:
        found: dict[str, tuple[Breach | None, str, dict[str, str]]] = {}
        for n, (rule, scope) in enumerate(self._custom_rules):
            try:
                breaches = list(rule(self._view))
                for breach in breaches:
                    _check_breach(breach)
            except Exception:
                # A broken rule must not fail the event (already applied and journaled) nor
                # resolve its alerts: what it found last time stands until it works again.
                log.exception("perftrack.rule_failed", rule=repr(rule))
                for key, (name, labels) in self._custom_found.get(n, {}).items():
                    found[key] = (None, name, labels)
                continue
            mine: dict[str, tuple[str, dict[str, str]]] = {}
            where = ",".join(f"{k}={v}" for k, v in sorted(scope.items()))
            for breach in breaches:
                key = f"custom:{breach.key}" + (f"[{where}]" if where else "")
                found[key] = (breach, breach.key, scope)
                mine[key] = (breach.key, scope)
            self._custom_found[n] = mine
        for key, (hit, name, labels) in found.items():
            if hit is not None and key not in self._custom_active:
                self._raise(
                    key,
                    name,
                    hit.metric,
                    labels,
                    hit.window,
                    hit.actual,
                    hit.target,
                    hit.severity,
                    dict(hit.context),
                    self._custom_active,
                    pending,
                )
        for key in [k for k in self._custom_active if k not in found]:
            self._resolve(key, None, self._custom_active, pending)

    def _raise(
        self,
        key: str,
        rule: str,
        metric: str,
        scope: dict[str, str],
        window: int | None,
        actual: Any,
        target: Any,
        severity: str,
        context: dict[str, Any],
        table: dict[str, AlertEvent],
        pending: list[Any],
    ) -> None:
        self._count += 1
        alert = AlertEvent(
            id=f"alert-{self._count}",
            rule=rule,
            metric=metric,
            scope=dict(scope),
            window=window,
            actual=actual,
            target=target,
            severity=severity,
            raised_at=self._tracker._clock,
            context=context,
        )
        table[key] = alert
        self._history.append(alert)
        self._deliver(alert, "raised", signals.alert_raised, pending)

    def _resolve(
        self, key: str, actual: Any, table: dict[str, AlertEvent], pending: list[Any]
    ) -> None:
        alert = table.pop(key)
        resolved = attrs.evolve(
            alert,
            resolved_at=self._tracker._clock,
            context={**alert.context, "recovered_to": json_safe(actual)},
        )
        self._history[self._history.index(alert)] = resolved
        self._deliver(resolved, "resolved", signals.alert_resolved, pending)

    def _delivered_before(self, alert: AlertEvent, action: str) -> bool:
        if self._tracker._replaying and (
            self._delivered is None or f"{alert.id}:{action}" in self._delivered
        ):
            return True  # delivered before the restart
        # A read-only restore is a reader's copy: the process that owns the account delivers.
        return bool(self._tracker._read_only)

    def _deliver(self, alert: AlertEvent, action: str, signal: Any, pending: list[Any]) -> None:
        if self._delivered_before(alert, action):
            return
        # Log and journal first, under the lock: a listener that raises cannot stop them.
        log.warning("perftrack.alert", action=action, **alert.to_dict())
        self._journal(alert, action)
        pending.append((signal, {"alert": alert}))

    def _journal(self, alert: AlertEvent, action: str) -> None:
        if self._tracker._store is None:
            return
        line = (
            json.dumps(
                {"event": "performance.alert", "action": action, **alert.to_dict()},
                separators=(",", ":"),
            ).encode()
            + b"\n"
        )
        self._unwritten.append(line)
        self.flush()

    def flush(self) -> None:
        """
        Write the alert-journal lines a failing store kept back (under the tracker's lock;
        also called before each snapshot). A store failure is logged, not raised: the event
        that raised the alert is applied already, and the lines wait for the next attempt.
        """
        store = self._tracker._store
        if store is None or not self._unwritten:
            return
        data = b"".join(self._unwritten)
        key = f"{self._tracker._persistence.account}/{ALERT_JOURNAL}"
        try:
            append = getattr(store, "append", None)
            if callable(append):
                if self._cut_tail is None:
                    # A failed append may have left part of its lines: look at the tail.
                    try:
                        tail = store.get(key)
                    except MissingKeyError:
                        tail = b""
                    self._cut_tail = _ends_inside_a_line(tail)
                try:
                    append(key, (b"\n" + data) if self._cut_tail else data)
                except StoreError:
                    self._cut_tail = None  # some of the bytes may be in the journal now
                    raise
            else:
                try:
                    old = store.get(key)
                except MissingKeyError:
                    old = b""
                store.put(key, old + (b"\n" if _ends_inside_a_line(old) else b"") + data)
        except StoreError as e:
            log.warning(
                "perftrack.alert_journal_failed", key=key, lines=len(self._unwritten), error=str(e)
            )
            return
        self._unwritten.clear()
        self._cut_tail = False

    # -- persistence ---------------------------------------------------------------------------

    def snapshot_state(self) -> dict[str, Any]:
        return {
            "count": self._count,
            "history": [a.to_dict() for a in self._history],
            "active": {k: a.id for k, a in self._active.items()},
            "custom_active": {k: a.id for k, a in self._custom_active.items()},
            "rules": {k: r.state() for k, r in self._by_key.items()},
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        self._count = state["count"]
        self._history = [_alert_from_dict(d) for d in state["history"]]
        by_id = {a.id: a for a in self._history}
        self._active = {k: by_id[i] for k, i in state["active"].items() if i in by_id}
        self._custom_active = {k: by_id[i] for k, i in state["custom_active"].items() if i in by_id}
        for key, rule_state in state["rules"].items():
            if key in self._by_key:
                self._by_key[key].load(rule_state)

    def load_delivered(self) -> None:
        """
        Read which alert actions the alert journal already holds, so a replay delivers only
        what the crash kept from being delivered. A writable restore (which holds the
        account's lock) also rewrites a journal holding lines that are not whole alerts (a
        crash cut an append), keeping the whole ones, as the trade journal is repaired.
        """
        store = self._tracker._store
        self._delivered = set()
        if store is None:
            return
        key = f"{self._tracker._persistence.account}/{ALERT_JOURNAL}"
        try:
            data = store.get(key)
        except KeyError:
            return
        lines, records, self._cut_tail = _journal_lines(data)
        kept = []
        # A line that is no whole alert (a cut one): its alert was not delivered, and the
        # replay delivers it.
        for line, record in zip(lines, records, strict=True):
            if record is not None:
                self._delivered.add(f"{record.get('id')}:{record.get('action')}")
                kept.append(line + b"\n")
        if len(kept) == len(lines) or self._tracker._read_only:
            return
        try:
            store.put(key, b"".join(kept))
        except StoreError as e:
            log.warning("perftrack.alert_journal_failed", key=key, error=str(e))
            return  # left as it is: the next append still starts a line of its own
        log.warning(
            "perftrack.alert_journal_repaired", key=key, dropped_lines=len(lines) - len(kept)
        )
        self._cut_tail = False


def _ends_inside_a_line(data: bytes) -> bool:
    """
    Whether a journal's bytes end inside a line (an append cut short): then the next line
    must start with a newline of its own.
    """
    return bool(data) and not data.endswith(b"\n")


def _journal_lines(data: bytes) -> tuple[list[bytes], list[dict[str, Any] | None], bool]:
    """
    The lines of an alert journal (without their newlines), each one's record when it is a
    whole ``performance.alert`` object (else None), and whether the last line has no
    newline (an append cut short).
    """
    lines = data.split(b"\n")
    cut = _ends_inside_a_line(data)
    if not cut:
        lines.pop()  # the empty string after the last newline
    records: list[dict[str, Any] | None] = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        whole = isinstance(record, dict) and record.get("event") == "performance.alert"
        records.append(record if whole else None)
    return lines, records, cut


def _journal_problems(key: str, data: bytes) -> list[str]:
    """
    One line per line of an alert journal that is not a whole ``performance.alert`` object
    (``perftrack verify``): a line a crash cut short, or damage.
    """
    lines, records, cut = _journal_lines(data)
    return [
        f"{key} line {n}: "
        + ("cut short" if cut and n == len(lines) else "not a performance.alert object")
        for n, record in enumerate(records, 1)
        if record is None
    ]


_QUERIES: Final = frozenset(
    {
        "breakdown",
        "calendar",
        "clock",
        "daily_returns",
        "equity_curve",
        "live",
        "max_drawdown_period",
        "open_trades",
        "periods",
        "periods_per_year",
        "rolling",
        "starting_equity",
        "summary",
        "timezone",
        "trades",
    }
)


def _breach_level(peak: Decimal, rules: list[tuple[str, _Drawdown]]) -> Decimal:
    """
    The live equity at or above which no drawdown rule of ``rules`` can breach while the
    path's peak is ``peak``: peak minus the smallest drawdown that could, lowered by far more
    than the rounding of the figures the rules compare (so it errs on the side of checking).
    """
    floor = min(rule.breach_floor(peak) for _key, rule in rules)
    if floor == _NEVER:
        return -_NEVER
    return peak - floor * (1 - _DEC_MARGIN)


def _share_windows(
    rules: list[tuple[str, _TradeRule]],
) -> list[tuple[_Rule | None, tuple[_TradeWindow, ...], list[tuple[str, _TradeRule]]]]:
    """
    The trade rules grouped by scope, in order, each group with the trade windows its
    windowed rules share (one per window size): what the event path walks on a close.
    The first element of a group is a rule to ask ``applies`` (None: every trade counts).
    """
    groups: dict[
        tuple[tuple[str, str], ...],
        tuple[_Rule | None, dict[int, _TradeWindow], list[tuple[str, _TradeRule]]],
    ] = {}
    for key, rule in rules:
        scope = tuple(sorted(rule.scope.items()))
        group = groups.setdefault(scope, (rule if scope else None, {}, []))
        if isinstance(rule, _Windowed):
            windows, size = group[1], rule.trades.size
            window = windows.get(size)
            if window is None:
                window = windows[size] = _TradeWindow(size, sums=False)
            window.sums = window.sums or rule.needs_sums
            rule.trades = window
        group[2].append((key, rule))
    return [(scoped, tuple(windows.values()), group) for scoped, windows, group in groups.values()]


class TrackerView:
    """
    What a custom rule receives: the tracker's queries (``summary``, ``rolling``,
    ``breakdown``, ``periods``, ``live``, ``trades``, ``open_trades``, ``clock``, ...) and
    nothing that changes it. A rule runs under the tracker's lock while an event is being
    applied; recording events from there would interleave them with it.
    """

    __slots__ = ("_TrackerView__tracker",)

    def __init__(self, tracker: Tracker) -> None:
        object.__setattr__(self, "_TrackerView__tracker", tracker)

    def __getattr__(self, name: str) -> Any:
        if name in _QUERIES:
            return getattr(self.__tracker, name)
        msg = (
            f"a custom rule gets a read-only view of the tracker: {name!r} is not one of its "
            f"queries ({', '.join(sorted(_QUERIES))})"
        )
        raise AttributeError(msg)

    def __setattr__(self, name: str, value: object) -> None:
        msg = f"a custom rule gets a read-only view of the tracker (cannot set {name!r})"
        raise AttributeError(msg)

    def __repr__(self) -> str:
        return f"TrackerView({self.__tracker!r})"


def _custom_rules(
    targets: Targets,
) -> Iterator[tuple[Callable[[Any], Iterable[Breach]], dict[str, str]]]:
    """
    Every custom rule of ``targets`` and of its per-strategy targets, with its scope.
    """
    for rule in targets.custom:
        yield rule, dict(targets.scope)
    for nested in targets.per_strategy.values():
        yield from _custom_rules(nested)


def _alert_from_dict(data: dict[str, Any]) -> AlertEvent:
    def when(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    def number(value: Any) -> Any:
        return Decimal(value) if isinstance(value, str) else value

    return AlertEvent(
        id=data["id"],
        rule=data["rule"],
        metric=data["metric"],
        scope=data["scope"],
        window=data["window"],
        actual=number(data["actual"]),
        target=number(data["target"]),
        severity=data["severity"],
        raised_at=when(data["raised_at"]),
        resolved_at=when(data["resolved_at"]),
        acknowledged_at=when(data["acknowledged_at"]),
        acknowledged_by=data["acknowledged_by"],
        context=data["context"],
    )

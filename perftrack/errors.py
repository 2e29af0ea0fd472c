"""
Every error perftrack raises on purpose.

Each error subclasses the builtin that fits it, so callers may catch either::

    PerftrackError
     ├── InvalidInputError (ValueError)       a bad argument to a public call
     │    ├── InvalidTradeError               a bad trade event (price, quantity, time, side, ...)
     │    ├── InvalidIdeaError                a bad trade idea or price bar
     │    └── ConfigError                     a bad target, rule or configuration key
     ├── UnknownTradeError (KeyError)         no open or closed trade with that id
     │    └── UnknownIdeaError                no idea with that id
     ├── DuplicateTradeError (ValueError)     an id reused with different content
     └── StoreError (OSError)                 an object store failed or holds bad data
          ├── MissingKeyError (KeyError)      no object under that key
          ├── InvalidKeyError (ValueError)    a key that could escape the store
          ├── CorruptDataError                a checksum or format check failed
          └── LockedError                     another live tracker holds the account

Messages name the field and the value received, e.g.
``'quantity' must be > 0 (got Decimal('-1'))``. A call that raises one of these leaves the
tracker exactly as it was.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CorruptDataError",
    "DuplicateTradeError",
    "InvalidIdeaError",
    "InvalidInputError",
    "InvalidKeyError",
    "InvalidTradeError",
    "LockedError",
    "MissingKeyError",
    "PerftrackError",
    "StoreError",
    "UnknownIdeaError",
    "UnknownTradeError",
]


class PerftrackError(Exception):
    """
    Base class of every error perftrack raises on purpose.
    """


class InvalidInputError(PerftrackError, ValueError):
    """
    A public call received an argument it cannot accept (an unknown period, dimension or time
    zone, a bad window, ...).
    """


class InvalidTradeError(InvalidInputError):
    """
    A trade event is invalid: a non-positive, non-finite or non-numeric quantity or price, a
    naive datetime, an exit before its entry, an unknown side, a stop on the wrong side of the
    entry, closing more than is open, ...
    """


class InvalidIdeaError(InvalidInputError):
    """
    A trade idea or a price bar is invalid (confidence out of range, stop or target on the wrong
    side of the entry, a bar whose low is above its high, ...).
    """


class ConfigError(InvalidInputError):
    """
    A configuration value is invalid: an unknown target key, a bad threshold, a malformed TOML
    file or environment override.
    """


class UnknownTradeError(PerftrackError, KeyError):
    """
    No open (or, where it applies, closed) trade has the given id.
    """

    def __str__(self) -> str:
        # KeyError.__str__ shows repr() of the message, which quotes it once more.
        return str(self.args[0]) if self.args else ""


class UnknownIdeaError(UnknownTradeError):
    """
    No trade idea has the given id.
    """


class DuplicateTradeError(PerftrackError, ValueError):
    """
    An id (trade, idea or event id) was reused for an event whose content differs from the one
    already applied. Re-sending an identical event is not an error: it is a no-op.
    """


class StoreError(PerftrackError, OSError):
    """
    An object store could not complete an operation (permission denied, disk full, network or
    S3 errors), or what it holds cannot be used.
    """


class MissingKeyError(StoreError, KeyError):
    """
    A store holds no object under the key asked for.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidKeyError(StoreError, ValueError):
    """
    An object key could escape the store: absolute, with '..', a backslash, NUL or an empty part.
    """


class CorruptDataError(StoreError):
    """
    Stored data failed its checksum or format check (a truncated journal, a damaged snapshot).
    """


class LockedError(StoreError):
    """
    Another live tracker holds the account's lock, so this one may not write its journal.
    """

"""
A simulated trading bot that reports through perftrack (``make demo``).

Seeded and deterministic: three strategies trade four symbols, long and short, with scale-ins,
partial exits, fees and price marks, over about three months of New York sessions, persisting
to ./perftrack-data. It then prints the day, week, month and per-strategy summaries and writes
the reports, exactly as ``perftrack demo`` does.

    python examples/demo_bot.py [--data DIR] [--days 90] [--seed 7]
"""

from __future__ import annotations

import sys

from perftrack.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))

"""
The benchmark suite runs end to end in its quick mode, so it never rots.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


class TestQuickBenchmarks:
    """python -m benchmarks --quick prints the table and writes its JSON."""

    def test_quick_run(self):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks", "--quick"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "| record_trade median | <= 10 µs |" in done.stdout
        rows = json.loads((ROOT / "benchmarks/results/quick.json").read_text())["rows"]
        assert any(r["figure"].startswith("summary all") for r in rows)

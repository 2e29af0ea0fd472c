"""
Every script in examples/ runs to completion, so the examples never rot.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


class TestExamples:
    """Each example exits 0 and prints something."""

    @pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
    def test_runs(self, script, tmp_path):
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip()

"""
The public surface: every name in __all__ exists, and nothing private leaks into it.
"""

from __future__ import annotations

import perftrack as pt


class TestExports:
    """perftrack.__all__ is complete, sorted and public."""

    def test_every_name_exists(self):
        for name in pt.__all__:
            assert hasattr(pt, name), name

    def test_no_private_names(self):
        assert [n for n in pt.__all__ if n.startswith("_")] == []

    def test_version(self):
        assert isinstance(pt.__version__, str)

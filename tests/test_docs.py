"""
The documentation cannot silently fall behind the code.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import attrs
import pytest

import perftrack as pt

DOCS = Path(__file__).parent.parent / "docs"


class TestMetricsDoc:
    """docs/metrics.md defines every field of Summary, LiveStats and Trade."""

    def test_every_field_is_defined(self):
        text = (DOCS / "metrics.md").read_text()
        for cls in (pt.Summary, pt.LiveStats, pt.Trade):
            for field in attrs.fields(cls):
                if field.name in (
                    "period",
                    "start",
                    "end",
                    "scope",
                    "time",
                    "booked_whole",
                    "starting_equity",
                    "trade_id",
                    "symbol",
                    "strategy",
                    "side",
                    "entry_time",
                    "exit_time",
                    "stop_price",
                    "target_price",
                    "tags",
                    "idea_id",
                ):
                    continue  # labels and inputs, not metrics
                assert f"`{field.name}`" in text, f"{cls.__name__}.{field.name}"


class TestIdeasDoc:
    """docs/ideas.md defines every field of Idea and IdeaSummary."""

    def test_every_field_is_defined(self):
        text = (DOCS / "ideas.md").read_text()
        for cls in (pt.Idea, pt.IdeaSummary):
            for field in attrs.fields(cls):
                assert f"`{field.name}`" in text, f"{cls.__name__}.{field.name}"


ROOT = DOCS.parent
PUBLIC_MODULES = ["errors", "signals", "stores", "importers", "reports", "alerts", "cli"]


def python_blocks(name: str) -> list[str]:
    path = ROOT / name if name == "README.md" else DOCS / name
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


class TestRunnableDocs:
    """The README, the tutorial and the bot how-to run, block after block, as one script."""

    @pytest.mark.parametrize("name", ["README.md", "tutorial.md", "howto-bot.md"])
    def test_code_blocks_run_in_order(self, name, tmp_path, monkeypatch, capsys):
        monkeypatch.chdir(tmp_path)
        blocks = python_blocks(name)
        assert blocks
        namespace: dict[str, object] = {"__name__": f"docs_{name}"}
        for i, block in enumerate(blocks):
            exec(compile(block, f"{name} block {i + 1}", "exec"), namespace)
        assert capsys.readouterr().out.strip()


def mentioned(text: str, name: str) -> bool:
    """
    Whether ``name`` appears as code: `name`, `name(...)`, `pt.name` or `Tracker.name`.
    """
    return re.search(rf"`(?:pt\.|Tracker\.)?{re.escape(name)}[`(]", text) is not None


class TestReference:
    """docs/reference.md names every public name, Tracker member and value-type field."""

    @pytest.fixture(name="text")
    def _text(self):
        return (DOCS / "reference.md").read_text()

    def test_every_exported_name(self, text):
        missing = [n for n in pt.__all__ if not mentioned(text, n)]
        assert [] == missing, "add these to docs/reference.md"

    @pytest.mark.parametrize("module", PUBLIC_MODULES)
    def test_every_name_of_each_public_module(self, text, module):
        mod = importlib.import_module(f"perftrack.{module}")
        assert f"`perftrack.{module}`" in text
        missing = [n for n in mod.__all__ if not mentioned(text, n)]
        assert [] == missing, f"add these perftrack.{module} names to docs/reference.md"

    def test_every_tracker_member(self, text):
        members = [n for n in dir(pt.Tracker) if not n.startswith("_")]
        missing = [n for n in members if not mentioned(text, n)]
        assert [] == missing, "add these Tracker members to docs/reference.md"

    @pytest.mark.parametrize("cls", [pt.Summary, pt.Trade, pt.OpenTrade, pt.LiveStats])
    def test_every_field_of_the_value_types(self, text, cls):
        fields = [f.name for f in attrs.fields(cls) if f.repr]
        assert [] == [f for f in fields if f"`{f}`" not in text], cls.__name__


class TestReadme:
    """The README's quick start is the two commands, and every link in the docs resolves."""

    def test_quick_start_is_exactly_two_commands(self):
        readme = (ROOT / "README.md").read_text()
        quick = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
        commands = [line.split("#", 1)[0].strip() for line in quick.splitlines()]
        assert ["make demo", "make test"] == [c for c in commands if c]

    def test_links_the_tutorial_reference_and_bot_guide(self):
        readme = (ROOT / "README.md").read_text()
        for name in ("docs/tutorial.md", "docs/reference.md", "docs/howto-bot.md"):
            assert f"]({name})" in readme, name

    @pytest.mark.parametrize(
        "page", ["README.md", *sorted(f"docs/{p.name}" for p in DOCS.glob("*.md"))]
    )
    def test_relative_links_resolve(self, page):
        path = ROOT / page
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (path.parent / target).exists(), f"{page} links to missing {target}"

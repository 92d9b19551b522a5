"""SVG snapshots of each main screen on the fixed small brand (pytest-textual-snapshot).

Update after an intended visual change with: pytest tests/tui_snapshots --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest

from insight.core.db import open_db
from tui.app import InsightApp
from tui_snapshots.brand import add_theme_tree, build_small_brand, settle

SIZE = (160, 48)


@pytest.fixture
def app(tmp_path: Path) -> InsightApp:
    path = tmp_path / "brand.db"
    build_small_brand(path).conn.close()
    return InsightApp(path, briefs_dir=tmp_path / "briefs")


def steps(*keys: str, before=None):
    """A run_before that presses keys, letting workers finish after each."""

    async def run(pilot) -> None:
        await settle(pilot)
        if before is not None:
            before(pilot.app)
            await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


def test_overview(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps())


def test_empty_state(snap_compare, tmp_path):
    open_db(tmp_path / "new.db").conn.close()  # the TUI's readers never create a database
    assert snap_compare(InsightApp(tmp_path / "new.db", briefs_dir=tmp_path / "briefs"), terminal_size=SIZE, run_before=steps())


def test_themes(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("2", "down"))


def tree_app(tmp_path: Path) -> InsightApp:
    path = tmp_path / "tree.db"
    build_small_brand(path).conn.close()
    add_theme_tree(path)
    return InsightApp(path, briefs_dir=tmp_path / "briefs")


def test_theme_tree(snap_compare, tmp_path):
    """Parents with a branch open (its sub-themes drawn under it, one moved from another parent), the cursor
    on a sub-theme."""
    assert snap_compare(tree_app(tmp_path), terminal_size=SIZE,
                        run_before=steps("2", "down", "down", "right", "down", "down"))


def test_parent_theme_detail(snap_compare, tmp_path):
    """A parent's screen: its sub-themes beside its trend, its quotes from every sub-theme in turn."""
    assert snap_compare(tree_app(tmp_path), terminal_size=SIZE, run_before=steps("2", "enter"))


def test_theme_detail(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("2", "enter"))


def test_segments(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("3"))


def test_segment_detail(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("3", "down", "enter"))


def test_search(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("4", *"shipping", "enter"))


def test_document(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps(before=lambda a: a.open_document(1, 4)))


def test_help(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("question_mark"))

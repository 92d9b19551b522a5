"""The command palette's own commands: places, themes by label, segments, brief export."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from insight.analysis import queries
from tui.navigation import Navigator

PLACES = (("overview", "Overview"), ("themes", "Themes"), ("segments", "Segments"), ("search", "Search"))


class InsightCommands(Provider):
    async def _items(self) -> list[tuple[str, Callable[[], Any], str]]:
        app = cast(Navigator, self.app)  # this provider is registered by InsightApp only
        items: list[tuple[str, Callable[[], Any], str]] = [
            (f"Go to {label}", partial(app.switch_mode, mode), f"show the {label} screen") for mode, label in PLACES
        ]
        items.append(("Help: keys", app.action_help, "every key on every screen"))
        data = app.data
        db = data.read()
        for segment in queries.segment_names(db):
            items.append((f"Segment: {segment}", partial(app.open_segment, segment), "open the segment"))
            items.append((f"Export brief: {segment}", partial(app.export_brief, segment), f"write to {data.briefs_dir}/"))
        for row in queries.list_themes(db, limit=200).rows:
            level = " · parent theme" if row.level == "parent" else ""
            items.append((f"Theme: {row.label}", partial(app.open_theme, row.id), f"#{row.id} · {row.scope}{level}"))
        return items

    async def discover(self) -> Hits:
        for text, command, help_text in (await self._items())[:12]:
            yield DiscoveryHit(text, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in await self._items():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, help=help_text)

"""The help screen: every key, per place, and where the data comes from."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# insight: keys

| Anywhere | |
|---|---|
| `1` `2` `3` `4` | Overview · Themes · Segments · Search |
| `ctrl+p` | command palette: jump to a theme or segment, export a brief |
| `?` | this help · `q` quit · `esc` back |

| Themes | |
|---|---|
| `enter` | open the highlighted theme (a parent theme or a sub-theme) |
| `→` / `←` | show / hide a parent theme's sub-themes (`▸` closed, `▾` open); `←` on a sub-theme goes to its parent |
| `/` | filter by label; `tab` to the source / question / window / segment filters |
| `s` / `d` | cycle the sort column / flip ascending-descending (or click a column header) |
| `r` `m` `x` | rename · merge another theme into this one · split into k themes |

| A theme | |
|---|---|
| `enter` / `o` | open the whole document behind the highlighted quote · `c` copy it |
| `a` | all quotes, or only those matching the list's filters |
| `r` `m` `x` | rename · merge · split |

| Segments | |
|---|---|
| `enter` | open a segment (RFM table) or a theme in a segment (heat map cell) |
| `b` | the segment's persona brief · `e` export it as Markdown (segment screen) |

| Search | |
|---|---|
| `/` | type words, `"a phrase"`, or `prefix*`; `enter` to search |
| `f` | quotes similar to the highlighted one (cached embeddings, no model load) |

| Document | |
|---|---|
| `n` / `p` | next / previous passage · `c` copy the highlighted passage |

Lift = how much more often a segment's customers raise a theme than all linked customers do;
`*` = significant after Benjamini-Hochberg correction. Quotes are PII-redacted.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss(None)

"""insight's terminal UI (Textual)."""

import os

# Textual draws at most MAX_FPS frames a second, and a change waits for the next frame: at its default of 60
# an answer that needs three small repaints (rows, then the preview, then a scrollbar) waits ~50 ms for
# frames alone. 120 cut the median answer of a cursor move in a quote list from 51 to 30 ms and of opening a
# theme from 99 to 68 ms (bench/tui_speed.py); frames are only drawn when something changed, so an idle UI
# costs nothing more. Set TEXTUAL_FPS yourself to choose another rate.
os.environ.setdefault("TEXTUAL_FPS", "120")

"""Text from customers and files made safe to draw on a terminal.

A survey answer can hold escape sequences (an OSC that sets the window title, `ESC[2J ESC[H` that clears the
screen); drawn as-is they act on the user's terminal. `printable` removes them and every other C0/C1 control
character, keeping line breaks and tabs.
"""

from __future__ import annotations

import re

# ESC sequences (7-bit and their 8-bit C1 forms): OSC/DCS/SOS/PM/APC strings up to their terminator, CSI
# with parameters, and two-character escapes.
_SEQUENCES = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI
    r"|\x1b[ -/]*[0-~]?"  # other escapes (ESC c, ESC ( B, ...)
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` without escape sequences and control characters other than newline and tab."""
    if not text:
        return text
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))

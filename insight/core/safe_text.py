"""Customer text made safe to show on a terminal: one function every human-facing output uses.

Customer text (a survey answer, a quote, a file name) may carry terminal escape sequences: an OSC sequence
(ESC ] ... BEL) sets the window title, ESC[2J ESC[H clears the screen. Printed raw, they act on the user's
terminal. `printable` removes them, so the text shows as text.
"""

from __future__ import annotations

import re
import unicodedata

# A whole escape sequence first (so its parameters do not stay behind as visible junk):
#   CSI  ESC [ params final        (or the 8-bit CSI, U+009B)
#   OSC/DCS/SOS/PM/APC  ESC ] ... terminated by BEL, ESC \ or ST (U+009C); unterminated: to the end
#   any other two-byte ESC sequence (ESC 7, ESC c, ...)
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)
# What is left: C0 controls except tab and newline, DEL, C1 controls, and Unicode format/bidi controls that
# reorder or hide text (U+202E RIGHT-TO-LEFT OVERRIDE makes 'gpj.exe' read 'exe.jpg').
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def printable(text: str) -> str:
    """`text` without terminal control: escape sequences (CSI, OSC, DCS, other ESC pairs) are removed
    whole; other C0 controls except newline and tab, DEL, C1 controls (U+0080-U+009F) and the bidirectional
    override/isolate marks are removed; a carriage return becomes a newline (a lone CR would let a line
    overwrite itself), CRLF one newline. Lone surrogates (from a file name that is not valid UTF-8) become
    U+FFFD so the text can always be encoded. Everything else, accents and emoji included, is kept.
    """
    if not text:
        return text if isinstance(text, str) else str(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _CONTROL.sub("", text)
    if any(unicodedata.category(ch) == "Cs" for ch in text):
        text = "".join("\ufffd" if unicodedata.category(ch) == "Cs" else ch for ch in text)
    return text


def printable_line(text: str) -> str:
    """`printable` on one line: newlines and tabs become spaces (a file name, a table cell)."""
    return re.sub(r"[\n\t]+", " ", printable(text))

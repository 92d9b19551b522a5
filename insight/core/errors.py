"""The one exception base for problems a user can act on.

Commands turn an `InsightError` into one line (or one JSON object) and exit 1; they never catch `ValueError`
wholesale, so a `ValueError` from a bug stays a traceback a developer sees instead of a vague message.
"""

from __future__ import annotations


class InsightError(Exception):
    """A problem told in one line: nothing to compute yet, a file that cannot be used, a refused edit."""


class InvalidValue(InsightError, ValueError):
    """A value the user gave (a window, a date, a format, a parameter) that is not one of the accepted forms.
    Still a ValueError, as Python's own parsers raise for a bad value."""

"""Size limits for what an import reads: past them a file is refused, or a record rejected, with a message.

Why: a 5 MB cell reached spaCy (E088, over nlp.max_length) and crashed the import; a small .docx that inflates
to gigabytes, or JSON nested 10,000 deep, crashed or ran for minutes. Real exports stay far below these.
"""

from __future__ import annotations

# A whole file read into memory (CSV, JSON, HTML, transcript). Bigger: refused.
MAX_FILE_BYTES = 256 * 1024 * 1024
# One field: a CSV cell, a JSON string, a transcript cue, a review body, a ticket message. Longer: that record
# is rejected (a transcript, one document, is refused). spaCy needs ~1 GB per 100,000 characters for NER.
MAX_FIELD_CHARS = 100_000
# A raw field that is markup (an HTML email body) may be larger before its tags are stripped.
MAX_MARKUP_CHARS = 1_000_000
# All text of one document (a ticket's messages, a transcript's turns). Longer: rejected / refused.
MAX_DOCUMENT_CHARS = 1_000_000
# CSV columns. More: refused (real exports have tens, Qualtrics a few hundred).
MAX_COLUMNS = 2_000
# JSON nesting (real exports nest under 20 levels). Deeper: refused (a JSON-LD block: skipped with a warning).
MAX_JSON_DEPTH = 100
# A .docx: only word/document.xml is read, and only if it inflates to at most this.
MAX_DOCX_XML_BYTES = 20 * 1024 * 1024
# ...and at most this many times its compressed size (a zip bomb inflates 1000x and more).
MAX_DOCX_RATIO = 200


def too_long(text: str, limit: int = MAX_FIELD_CHARS) -> str | None:
    """Why `text` is over the limit, or None."""
    if len(text) <= limit:
        return None
    return f"{len(text):,} characters, over the limit of {limit:,}"

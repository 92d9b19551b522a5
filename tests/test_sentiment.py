"""Sentiment per mention: the shipped head, the star prior, training a head, reading labels, the VADER fallback."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from insight.analysis.embed import DEFAULT_MODEL_NAME, HashingEmbedder, normalise_rows
from insight.analysis.sentiment import LABELS, Sentiment, SentimentHead, fallback_sentiment, with_star_prior
from insight.analysis.sentiment_train import LabelsError, embed_texts, read_labels, train_head
from insight.cli import cli

POSITIVE = ["great", "love", "excellent", "perfect", "wonderful", "happy", "fast", "lovely"]
NEGATIVE = ["awful", "broken", "terrible", "slow", "hate", "refund", "rude", "late"]
NEUTRAL = ["tuesday", "blue", "box", "ordered", "size", "colour", "monday", "address"]
FAST_C = (1.0, 8.0)  # two values of C keep the cross-validation quick
FILLER = ["the", "it", "was", "really", "order", "item", "this", "very"]


@pytest.fixture(autouse=True)
def no_user_head(monkeypatch):
    monkeypatch.delenv("INSIGHT_SENTIMENT_HEAD", raising=False)


def fake_labelled(n_per_class: int = 30, seed: int = 0) -> list[tuple[str, str]]:
    """Sentences whose label is carried by their words: three sentiment words plus filler."""
    rng = np.random.default_rng(seed)
    rows = []
    for label, words in (("positive", POSITIVE), ("negative", NEGATIVE), ("neutral", NEUTRAL)):
        for _ in range(n_per_class):
            text = " ".join([*rng.choice(words, 3), *rng.choice(FILLER, 3)])
            rows.append((text, label))
    return rows


def test_shipped_head_loads_offline_for_the_default_model_only(capsys):
    head = SentimentHead.load()
    assert head is not None
    assert head.dim == 384 and set(head.classes) <= set(LABELS) and 0 <= head.band < 1
    assert SentimentHead.load(model_name="all-MiniLM-L6-v2") is not None  # an alias of the same model
    assert SentimentHead.load(model_name="intfloat/e5-small") is None
    assert "trained on sentence-transformers/all-MiniLM-L6-v2" in capsys.readouterr().err


def test_a_head_file_that_is_not_one_gives_none_with_a_message(tmp_path, capsys):
    path = tmp_path / "head.json"
    path.write_text(json.dumps({"format": "something else"}))
    assert SentimentHead.load(path) is None
    assert "unusable" in capsys.readouterr().err


def test_score_returns_one_labelled_sentiment_per_vector_in_range():
    head = SentimentHead.load()
    vectors = normalise_rows(np.random.default_rng(1).standard_normal((50, head.dim)))
    texts = ["ok", "love it", "not good at all", "it came on tuesday", "terrible"] * 10
    results = head.score(vectors, texts)
    assert len(results) == 50
    assert all(r.label in LABELS and -1 <= r.score <= 1 for r in results)
    for r in results:  # the label is read from the score with the band
        assert (r.label == "neutral") == (abs(r.score) < head.band) or abs(abs(r.score) - head.band) < 1e-3
    assert head.score(np.zeros((0, head.dim), dtype=np.float32), []) == []
    with pytest.raises(ValueError, match="expects 384-d"):
        head.score(np.ones((2, 64), dtype=np.float32))


def test_star_prior_pulls_a_one_mention_review_towards_its_stars():
    flat = Sentiment("neutral", 0.0)
    assert with_star_prior(flat, 5, band=0.3) == Sentiment("positive", 0.5)
    assert with_star_prior(flat, 1, band=0.3) == Sentiment("negative", -0.5)
    assert with_star_prior(Sentiment("positive", 0.8), 3, band=0.3) == Sentiment("positive", 0.4)
    # stars and text disagree: the two halves cancel out
    assert with_star_prior(Sentiment("positive", 0.9), 1, band=0.3).label == "neutral"
    assert with_star_prior(flat, None) is flat
    assert with_star_prior(flat, 0) is flat  # outside 1..5: not a star rating


def test_training_on_a_tiny_labelled_set_gives_a_head_that_loads_and_scores(tmp_path, db, monkeypatch):
    rows = fake_labelled()
    embedder = HashingEmbedder(dim=32)
    vectors = embed_texts([t for t, _ in rows], embedder, db)
    assert db.execute("SELECT COUNT(*) FROM embeddings WHERE model = ?", [embedder.name]).fetchone()[0] > 0
    head, report = train_head(vectors, [label for _, label in rows], embedder.name, c_grid=FAST_C)
    assert report.c in FAST_C and report.n == {"negative": 30, "neutral": 30, "positive": 30}
    assert report.accuracy > 0.8 and report.band == head.band
    path = head.save(tmp_path / "head.json")
    loaded = SentimentHead.load(path, model_name=embedder.name)
    assert loaded is not None and loaded.classes == ("negative", "neutral", "positive")
    test = ["love it, excellent and perfect", "awful and broken, terrible", "ordered on tuesday, blue box"]
    assert [s.label for s in loaded.score(embedder.encode(test))] == ["positive", "negative", "neutral"]
    assert SentimentHead.load(path) is None  # trained on the hashing embedder, not all-MiniLM-L6-v2
    monkeypatch.setenv("INSIGHT_SENTIMENT_HEAD", str(path))  # the user's head replaces the shipped one
    user = SentimentHead.load(model_name=embedder.name)
    assert user is not None and np.array_equal(user.coef, loaded.coef)


def test_binary_labels_train_a_two_class_head_with_the_fixed_band():
    rows = [r for r in fake_labelled() if r[1] != "neutral"]
    embedder = HashingEmbedder(dim=32)
    vectors = embedder.encode([t for t, _ in rows])
    head, report = train_head(vectors, [label for _, label in rows], embedder.name, c_grid=FAST_C)
    assert head.classes == ("negative", "positive") and report.band == pytest.approx(1 / 3)
    positive, negative = head.score(embedder.encode(["great love excellent", "awful terrible broken"]))
    assert positive.label == "positive" and negative.label == "negative" and positive.score > 0 > negative.score


def test_a_head_with_lexicon_features_reads_the_text_and_round_trips(tmp_path):
    rows = fake_labelled()
    embedder = HashingEmbedder(dim=32)
    texts = [t for t, _ in rows]
    head, _ = train_head(embedder.encode(texts), [label for _, label in rows], embedder.name, c_grid=FAST_C,
                         texts=texts)
    assert head.lexicon_scale > 0 and head.dim == 32 and head.coef.shape[1] == 36
    loaded = SentimentHead.load(head.save(tmp_path / "head.json"), model_name=embedder.name)
    assert loaded is not None and loaded.lexicon_scale == head.lexicon_scale
    test = ["love it, excellent and perfect", "awful and broken, terrible"]
    assert [s.label for s in loaded.score(embedder.encode(test), test)] == ["positive", "negative"]
    with pytest.raises(ValueError, match="texts"):
        loaded.score(embedder.encode(test))


def test_training_needs_both_polarities():
    with pytest.raises(LabelsError, match="negative and positive"):
        train_head(np.eye(10, dtype=np.float32), ["positive"] * 10, "m")


def test_read_labels_tsv_without_header_and_csv_with_header(tmp_path):
    tsv = tmp_path / "labels.tsv"
    tsv.write_text('"You\'ll love it!  \t1\nIt is\u0085 broken.\t0\n\nNot great, not bad\t0\n', encoding="utf-8")
    assert [(r.text, r.label) for r in read_labels(tsv)] == [
        ("\"You'll love it!", "positive"), ("It is\u0085 broken.", "negative"), ("Not great, not bad", "negative"),
    ]
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text('id,Sentiment,Text\n1,Positive,"Fast, friendly"\n2,neutral,Arrived Monday\n3,NEG,Late\n')
    assert [(r.text, r.label) for r in read_labels(csv_path)] == [
        ("Fast, friendly", "positive"), ("Arrived Monday", "neutral"), ("Late", "negative"),
    ]
    signed = tmp_path / "signed.tsv"
    signed.write_text("good\t1\nmeh\t0\nbad\t-1\n")
    assert [r.label for r in read_labels(signed)] == ["positive", "neutral", "negative"]


def test_read_labels_names_the_file_and_line_of_a_bad_label(tmp_path):
    path = tmp_path / "labels.tsv"
    path.write_text("text\tlabel\ngood\t1\nbad\tmaybe\n")
    with pytest.raises(LabelsError, match=r"labels.tsv: line 3: label 'maybe'"):
        read_labels(path)


def test_cli_train_writes_a_head_and_caches_vectors(tmp_path, db_path, monkeypatch):
    import insight.commands.sentiment as command

    monkeypatch.setattr(command, "_embedder", lambda model: HashingEmbedder(dim=32))
    labels = tmp_path / "labels.csv"
    labels.write_text("text,label\n" + "".join(f"{t},{label}\n" for t, label in fake_labelled(10)))
    out = tmp_path / "mine.json"
    from insight.core.db import open_db

    open_db(db_path).conn.close()  # the database whose embedding cache is used (a missing one is an error)
    result = CliRunner().invoke(cli, ["--db", str(db_path), "sentiment", "train", str(labels), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["n"] == {"negative": 10, "neutral": 10, "positive": 10} and payload["model"] == "hashing-bow"
    assert SentimentHead.load(out, model_name="hashing-bow") is not None
    assert open_db(db_path).execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 30


def test_cli_train_reports_a_bad_file_in_one_line(tmp_path):
    labels = tmp_path / "labels.tsv"
    labels.write_text("fine\t1\nodd\tperhaps\n")
    result = CliRunner().invoke(cli, ["sentiment", "train", str(labels)])
    assert result.exit_code != 0 and "line 2: label 'perhaps'" in result.output and "Traceback" not in result.output


def test_fallback_uses_the_vader_lexicon(capsys):
    pytest.importorskip("vaderSentiment", reason="vaderSentiment is a dependency: pip install -e .")
    results = fallback_sentiment(["I love this, it is wonderful.", "This is awful and broken.", "The box is blue."])
    assert [r.label for r in results] == ["positive", "negative", "neutral"]
    assert results[0].score > 0 > results[1].score and results[2].score == 0


@pytest.mark.slow
def test_shipped_head_reads_obvious_sentences_right():
    from insight.analysis.embed import load_embedder

    embedder = load_embedder()
    head = SentimentHead.load(model_name=embedder.name)
    assert embedder.name == DEFAULT_MODEL_NAME and head is not None
    texts = [
        "Absolutely love it, works perfectly and arrived early.",
        "Terrible quality, it broke after two days and support never answered.",
        "What time does the store open on Sunday?",
        "I ordered it on Tuesday.",
        "The battery died after a week and nobody replied to my emails.",
        "Fast delivery and the fabric is lovely.",
    ]
    assert [s.label for s in head.score(embedder.encode(texts), texts)] == [
        "positive", "negative", "neutral", "neutral", "negative", "positive"]



def test_an_answer_that_says_nothing_stopped_them_is_neutral():
    from insight.analysis.sentiment import says_nothing

    assert says_nothing("Nothing, I was always going to buy")
    assert says_nothing("nope") and says_nothing("N/A")
    assert not says_nothing("Nothing but the price")
    assert not says_nothing("The price was nothing special")
    assert says_nothing("No.") and says_nothing("nothing really, I was always going to buy")
    assert says_nothing("nothing stopped me lol") and says_nothing("No, I was always going to buy")
    for complaint_or_praise in ("No bass sound at all.", "None of the techs knew what they were doing.",
                                "No viruses!", "no sticky feeling"):
        assert not says_nothing(complaint_or_praise)

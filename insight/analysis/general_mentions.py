"""Low-information mentions: "Love it!", "Great product, will buy again", "Very happy".

Clustered with the rest, they either form a theme of their own that says nothing or dilute every theme they
touch. They are gathered instead in one explicit general theme per scope (`themes.kind = 'general'`). A
mention is low-information when nothing is left once praise and complaint words, generic nouns ("product",
"item"), intensifiers and stop words are taken away. A mention that names anything ("Love this serum",
"great quality", "fast shipping") or answers with a negation ("Nothing", "not really") keeps its meaning and
is clustered as usual.
"""

from __future__ import annotations

import re

from spacy.lang.en.stop_words import STOP_WORDS

# Evaluative words that carry a sentiment but no topic.
_EVALUATIVE = {
    "love", "loved", "loving", "loves", "like", "liked", "likes", "great", "good", "amazing", "awesome", "excellent",
    "perfect", "nice", "lovely", "fantastic", "wonderful", "brilliant", "superb", "outstanding", "incredible",
    "best", "fabulous", "gorgeous", "beautiful", "cool", "fine", "ok", "okay", "decent", "happy", "pleased",
    "satisfied", "delighted", "impressed", "recommend", "recommended", "recommending", "bad", "terrible",
    "awful", "horrible", "poor", "worst", "disappointed", "disappointing", "disappointment", "useless", "rubbish",
    "hate", "hated", "meh", "wow", "yay", "yes", "thanks", "thank", "glad", "super", "favourite", "favorite",
    "fave", "obsessed", "exceeded", "expectations", "star", "stars", "five", "5", "10", "a+", "10/10", "5/5",
    # season's greetings and cheering on: "Merry Christmas guys!", "Keep it up team"
    "merry", "christmas", "xmas", "holidays", "holiday", "festive", "season", "guys", "team", "folks", "cheers",
    "congrats", "congratulations", "luck", "keep", "up", "wishes", "rock", "rocks", "legend", "legends",
}
_GENERIC_NOUNS = {"product", "products", "item", "items", "thing", "things", "stuff", "purchase", "buy", "bought",
                  "one", "it", "this", "again", "overall", "experience", "everything", "job"}
_INTENSIFIERS = {"very", "really", "so", "absolutely", "totally", "highly", "truly", "definitely", "super", "just",
                 "simply", "pretty", "quite", "extremely", "lol", "xx", "x", "much", "lot", "lots"}
_NEGATION = {"not", "no", "nothing", "none", "never", "nope", "n't", "without"}
_WORD = re.compile(r"[a-z0-9+/']+")


def is_low_information(text: str) -> bool:
    words = _WORD.findall(text.lower().replace("’", "'"))
    if not words or any(w in _NEGATION or w.endswith("n't") for w in words):
        return False
    left = [w for w in words if w not in _EVALUATIVE and w not in _GENERIC_NOUNS and w not in _INTENSIFIERS
            and w not in STOP_WORDS and w.strip("'") not in STOP_WORDS]
    return not left and len(words) <= 12

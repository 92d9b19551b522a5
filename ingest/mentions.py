"""Splitting what a customer wrote or said into mentions: the unit that is embedded, themed, searched, quoted.

A review like "Great moisturiser but ordering took 3 weeks" talks about two things; as one unit it could sit
in only one theme. Each passage (a survey answer, a review, a ticket message, an interview passage) becomes:

- its sentences (spaCy's parser, or a rule-based sentencizer when the pipeline has none), with lines that
  stand apart ("Cheers,\\nHolly") kept apart;
- inside a sentence, clauses where it joins two topics: before a contrast ("…, but…", "although", "however"),
  after a semicolon, before "and also…", before a coordinated clause with its own subject ("…and the pump
  leaks"), and between verbless phrases with their own nouns ("Slow shipping, good sunscreen.");
- a piece too short to stand alone ("but pricey", "Ok.") is merged back into its neighbour;
- greetings, sign-offs, thanks-only pieces and empty fragments are kept as context (`context` says which),
  not analysed.

Splitting is deterministic for a pipeline; `MENTIONS_VERSION` is stored on each document, so a database
written by an older splitter is re-derived (`rederive_mentions`) without re-importing anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span, Token

MENTIONS_VERSION = 3

GREETING, SIGN_OFF, THANKS, FRAGMENT = "greeting", "sign-off", "thanks", "fragment"

_CONTRAST = {"but", "however", "although", "though", "whereas", "except", "yet", "unfortunately", "sadly"}
_CONTENT_POS = {"NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM"}
_PLACEHOLDER = re.compile(r"\[(?:NAME|EMAIL|PHONE|CARD)\]")
_GREETING_WORDS = re.compile(
    r"^(?:hi|hello|hey|hiya|heya|howdy|dear|greetings|good (?:morning|afternoon|evening|day)|morning|afternoon|"
    r"evening|yo)\b", re.I,
)
# What may follow a greeting word and still be only a greeting: "Hi there", "Hello team", "Dear Fernleaf team".
_GREETED = re.compile(
    r"^(?:there|all|everyone|everybody|team|folks|guys|support|sir|madam|sir or madam|friends|again|"
    r"customer (?:service|support|care)|\[name\])$", re.I,
)
_SIGN_OFF = re.compile(
    r"^(?:best|best wishes|best regards|kind regards|warm regards|warmest regards|regards|many thanks|cheers|"
    r"sincerely|yours sincerely|yours truly|yours|all the best|take care|talk soon|speak soon|love|xx+|x|"
    r"have a (?:nice|good|great|lovely) (?:day|weekend|one|evening)|sent from my \w+(?: \w+)?|"
    r"get outlook for \w+|thanks again|thanks so much|thank you so much|thanks a lot|thank you again)$", re.I,
)
_THANKS = re.compile(
    r"\b(?:thank(?:s| you)?|thx|ty|tysm|appreciated?|much appreciated|appreciate (?:it|that|you|your help)|"
    r"in advance|for (?:your|the) (?:help|time|support|assistance|quick (?:reply|response)|reply|response)|"
    r"so much|very much|a lot|a bunch|again|kindly|really|guys|team|all|everyone)\b", re.I,
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
MIN_CLAUSE_CONTENT = 2  # content words a clause needs to stand alone ("slow shipping")
SHORT_LINE_WORDS = 4  # a line this short stands apart from the next ("Hi team,", "Cheers,", "Holly")


@dataclass(frozen=True)
class Mention:
    text: str
    context: str | None = None  # greeting | sign-off | thanks | fragment; None: analysed


@dataclass
class MentionSplitter:
    """Splits passages into mentions with a spaCy pipeline (given, or loaded on first use).

    With no pipeline, or one without a parser, sentences come from spaCy's rule-based sentencizer and
    clauses only from contrast words and semicolons (no parse to find subjects and verbs).
    """

    nlp: Language | None = None
    loader: Callable[[], Language | None] | None = None
    batch_size: int = 256
    _rules: Language | None = field(default=None, repr=False)

    def _pipeline(self) -> Language:
        if self.nlp is None and self.loader is not None:
            self.nlp = self.loader()
            self.loader = None
        if self.nlp is not None and (self.nlp.has_pipe("parser") or self.nlp.has_pipe("senter")):
            return self.nlp
        if self._rules is None:
            self._rules = spacy.blank("en")
            self._rules.add_pipe("sentencizer")
        return self._rules

    def split_many(self, texts: Sequence[str]) -> list[list[Mention]]:
        """Mentions of each text, in order; a text with nothing to split is one mention."""
        texts = list(texts)
        if not texts:
            return []
        nlp = self._pipeline()
        keep = {"tok2vec", "tagger", "attribute_ruler", "parser", "senter", "sentencizer"}
        disable = [name for name in nlp.pipe_names if name not in keep]
        lines = [_lines(text) for text in texts]
        flat = [line for parts in lines for line in parts]
        docs = iter(nlp.pipe(flat, batch_size=self.batch_size, disable=disable))
        out: list[list[Mention]] = []
        for text, parts in zip(texts, lines, strict=True):
            pieces: list[str] = []
            for _ in parts:
                pieces.extend(split_doc(next(docs)))
            out.append(classify(pieces) if pieces else [Mention(text.strip(), FRAGMENT)])
        return out


def _lines(text: str) -> list[str]:
    """Hard breaks: blank lines, and short lines that stand apart ("Hi team,", "Cheers,", "Holly").

    A long line wrapped by an email client joins the next one, so sentences are not cut at line ends.
    """
    parts: list[str] = []
    pending = ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            if pending:
                parts.append(pending)
            pending = ""
            continue
        short = len(line.split()) <= SHORT_LINE_WORDS
        if short and pending and not _ends_sentence(pending):
            # "it arrived on time and\nit works" is one sentence; a lone "Holly" after a full stop is not.
            if not _looks_standalone(line):
                pending = f"{pending} {line}"
                continue
        if pending and (short or _ends_sentence(pending) or len(pending.split()) <= SHORT_LINE_WORDS):
            parts.append(pending)
            pending = line
        else:
            pending = f"{pending} {line}".strip()
    if pending:
        parts.append(pending)
    return parts or [text.strip()]


def _ends_sentence(text: str) -> bool:
    return text.rstrip()[-1:] in ".!?:;,)" or text.rstrip().endswith("...")


def _looks_standalone(line: str) -> bool:
    words = line.strip(" ,.!").split()
    return bool(_GREETING_WORDS.match(line)) or bool(_SIGN_OFF.match(line.strip(" ,.!"))) or (
        0 < len(words) <= 2 and all(w[:1].isupper() or _PLACEHOLDER.fullmatch(w) for w in words)
    )


def split_doc(doc: Doc) -> list[str]:
    """The mentions of one parsed line: sentences, split into clauses, short pieces merged back."""
    out: list[str] = []
    filler = ""  # a leading "Ok." waiting for the sentence it belongs to
    parsed = doc.has_annotation("DEP")
    tagged = doc.has_annotation("TAG") or doc.has_annotation("POS")
    for sent in doc.sents:
        if not sent.text.strip():
            continue
        bounds = _clause_starts(sent, parsed, tagged)
        pieces = [sent.doc[a:b] for a, b in zip(bounds, [*bounds[1:], sent.end], strict=True)]
        merged = _merge_short(pieces, tagged)
        if _is_filler(sent, tagged) and context_of(sent.text) is None:
            if out and context_of(out[-1]) is None:
                out[-1] = f"{out[-1]} {' '.join(merged)}"
            else:
                filler = f"{filler} {' '.join(merged)}".strip()
            continue
        if filler and merged:
            merged[0] = f"{filler} {merged[0]}"
            filler = ""
        out.extend(merged)
    if filler:
        out.append(filler)
    return _merge_empty_sentences(out)


def _is_filler(sent: Span, tagged: bool) -> bool:
    """'Ok.', 'Hmm!', '...': a sentence of two words at most with nothing in it."""
    return len([t for t in sent if not t.is_punct]) <= 2 and content_words(sent, tagged) == 0


def _clause_starts(sent: Span, parsed: bool, tagged: bool) -> list[int]:
    """Token indices where a new clause starts inside a sentence (the sentence start first)."""
    starts = {sent.start}
    joined: set[int] = set()  # starts at "but" / "and <clause>": kept only where the clause brings a topic
    coordinated: dict[int, Token] = {}  # an "and <clause>" start -> the clause's verb
    contrasts: set[int] = set()
    tokens = list(sent)
    for position, token in enumerate(tokens):
        if position == 0:
            continue
        previous = tokens[position - 1]
        lower = token.lower_
        if previous.text == ";":
            starts.add(token.i)
        elif lower in _CONTRAST and _contrast_here(token, previous, tagged):
            contrasts.add(_with_joiner(token, sent))
        elif lower == "also" and previous.lower_ in {"and", ","}:
            starts.add(_with_joiner(previous, sent))
        elif parsed and _starts_coordinated_clause(token):
            start = _with_joiner(token.left_edge, sent)
            joined.add(start)
            coordinated.setdefault(start, token)
    joined |= contrasts
    for start in contrasts:
        coordinated.pop(start, None)
    if tagged:
        starts |= _verbless_list_starts(sent)
        joined = _bringing_a_topic(sent, starts, joined, coordinated)
    starts |= joined
    starts |= _courtesy_prefix(sent)
    return sorted(starts)


def _bringing_a_topic(sent: Span, starts: set[int], joined: set[int],
                      coordinated: dict[int, Token] | None = None) -> set[int]:
    """The joined clauses that name a thing of their own: "Great moisturizer | but ordering took 3 weeks".

    A clause that only goes on about what the sentence already named ("I loaded Windows via Bootcamp and it
    works flawlessly", "The battery doesn't last long but an upgrade battery would solve that") is the same
    topic qualified, not a second one: it stays with its sentence, so the opinion is read whole.
    An "and <clause>" (`coordinated`: its start -> its verb) is held to more: its subject must be that new
    thing ("The serum is great | and the pump leaks"). A pronoun subject refers back ("…and it works like a
    charm", "…and I take it everywhere"): the sentence goes on about its topic, whatever nouns follow. "But"
    marks the turn itself, so a contrast needs only a new noun somewhere in its clause.
    """
    kept: set[int] = set()
    bounds = sorted(starts | joined)
    for index, start in enumerate(bounds):
        if start not in joined or start in starts:
            continue
        end = bounds[index + 1] if index + 1 < len(bounds) else sent.end
        before = {_topic_word(t) for t in sent.doc[sent.start:start] if _is_topic(t)}
        verb = (coordinated or {}).get(start)
        if verb is not None:
            subject = _subject_of(verb)
            own = {_topic_word(subject)} if subject is not None and _is_topic(subject) else set()
        else:
            own = {_topic_word(t) for t in sent.doc[start:end] if _is_topic(t)}
        if own - before:
            kept.add(start)
    return kept


def _subject_of(verb: Token) -> Token | None:
    """What a clause is about: its subject, or after an expletive ("there was nothing on the screen") the
    noun the verb introduces."""
    children = list(verb.children)
    for child in children:
        if child.dep_ in {"nsubj", "nsubjpass"}:
            return child
    if any(child.dep_ == "expl" for child in children):
        return next((child for child in children if child.dep_ in {"attr", "dobj"}), None)
    return None


def _is_topic(token: Token) -> bool:
    return token.pos_ in {"NOUN", "PROPN"} and token.is_alpha and not token.is_stop


def _topic_word(token: Token) -> str:
    """Its lemma where the pipeline lemmatises ("batteries" is "battery"), else its lower-case form."""
    return (token.lemma_ or token.lower_).lower()


def _courtesy_prefix(sent: Span) -> set[int]:
    """'Hello team, my order…' / 'Thanks for the quick reply, the new one…': the courtesy stands apart."""
    for token in sent:
        if token.text == ",":
            if token.i + 1 < sent.end and context_of(sent.doc[sent.start:token.i].text) in {GREETING, THANKS}:
                return {token.i + 1}
            return set()
    return set()


def _contrast_here(token: Token, previous: Token, tagged: bool) -> bool:
    """'but'/'however' joining two parts, not "all but one" or "though" ending a sentence."""
    if token.i >= token.sent.end - 2:
        return False
    if token.lower_ in {"unfortunately", "sadly", "however"}:
        return previous.text in {",", "and", "-", "–", "—"}
    if token.lower_ == "yet":
        return previous.text == ","
    return not tagged or token.pos_ in {"CCONJ", "SCONJ", "ADV", "ADP"}


def _starts_coordinated_clause(token: Token) -> bool:
    """A verb coordinated to an earlier one with a subject of its own: "…and the pump leaks"."""
    if token.dep_ != "conj" or token.pos_ not in {"VERB", "AUX"}:
        return False
    if not any(child.dep_ in {"nsubj", "nsubjpass", "expl"} for child in token.children):
        return False
    return token.left_edge.i > token.sent.start


def _with_joiner(token: Token, sent: Span) -> int:
    """Start a clause at its joining words: ', but ordering took…' starts at 'but', '…and the pump' at 'and'."""
    index = token.i
    while index - 1 > sent.start and sent.doc[index - 1].lower_ in _JOINERS:
        index -= 1
    while index < token.i and sent.doc[index].text in {",", "-", "–", "—"}:
        index += 1
    return index


_JOINERS = {"and", "or", "so", "but", "then", "plus", ",", "-", "–", "—"}


def _verbless_list_starts(sent: Span) -> set[int]:
    """Commas between phrases that have no verb but a noun each: "Slow shipping, good sunscreen.\""""
    if any(t.pos_ in {"VERB", "AUX"} for t in sent):
        return set()
    segments: list[list[Token]] = [[]]
    for token in sent:
        if token.text == ",":
            segments.append([])
        else:
            segments[-1].append(token)
    if len(segments) < 2:
        return set()
    good = [
        len([t for t in seg if not t.is_punct]) >= 2 and any(t.pos_ in {"NOUN", "PROPN"} for t in seg)
        and seg[0].pos_ not in {"ADP", "SCONJ"}
        for seg in segments
    ]
    if not all(good):
        return set()
    return {seg[0].i for seg in segments[1:] if seg}


def content_words(span: Span | Doc, tagged: bool) -> int:
    if tagged:
        return sum(1 for t in span if t.pos_ in _CONTENT_POS and t.is_alpha and not t.is_stop)
    return sum(1 for t in span if t.is_alpha and not t.is_stop)


def _weight(piece: Span, tagged: bool) -> int:
    """How much a clause says: its content words, or enough when it is a clause with a verb of its own."""
    words = content_words(piece, tagged)
    has_verb = tagged and any(t.pos_ in {"VERB", "AUX"} for t in piece)
    if has_verb and len([t for t in piece if t.is_alpha]) >= 4:
        return max(words, MIN_CLAUSE_CONTENT)
    return words


def _merge_short(pieces: list[Span], tagged: bool) -> list[str]:
    """Clauses too short to stand alone join the previous clause (or the next, for the first one).

    A courtesy ("Hello team", "Thanks for the quick reply") stays apart: it is context, not a topic.
    """
    texts: list[str] = []
    weights: list[int] = []
    for piece in pieces:
        text = piece.text.strip()  # verbatim, separators kept: the passage reads back from its mentions
        if not text:
            continue
        courtesy = context_of(text) is not None
        words = MIN_CLAUSE_CONTENT if courtesy else _weight(piece, tagged)
        if texts and not courtesy and not (context_of(texts[-1]) is not None) and (
            words < MIN_CLAUSE_CONTENT or weights[-1] < MIN_CLAUSE_CONTENT
        ):
            texts[-1] = f"{texts[-1]}{'' if text[:1] in ',;.' else ' '}{text}"
            weights[-1] += words
        else:
            texts.append(text)
            weights.append(words)
    if len(texts) > 1 and weights[-1] < MIN_CLAUSE_CONTENT and context_of(texts[-2]) is None:
        texts[-2] = f"{texts[-2]} {texts.pop()}"
    return texts


def _merge_empty_sentences(sentences: list[str]) -> list[str]:
    """A sentence with no word at all ("...", ":)") joins its neighbour unless it is all there is."""
    out: list[str] = []
    for sentence in sentences:
        if out and not any(c.isalnum() for c in sentence):
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    if len(out) > 1 and not any(c.isalnum() for c in out[0]):
        first = out.pop(0)  # (assigning to out[1] after the pop raised IndexError on two sentences)
        out[0] = f"{first} {out[0]}"
    return out


def classify(pieces: list[str]) -> list[Mention]:
    """Mark greetings, sign-offs, thanks-only pieces and empty fragments as context."""
    last = len(pieces) - 1
    return [Mention(text, context_of(text, is_last=i == last and last > 0)) for i, text in enumerate(pieces)]


def context_of(text: str, is_last: bool = False) -> str | None:
    """Why a piece is context only, or None when it says something to analyse."""
    bare = _PLACEHOLDER.sub(" [name] ", text)
    words = [w for w in _NON_WORD.split(bare.lower()) if w]
    if not any(ch.isalnum() for ch in text):
        return FRAGMENT
    stripped = " ".join(words)
    if _SIGN_OFF.match(stripped) or (_SIGN_OFF.match(_drop_trailing_name(text)) and len(words) <= 5):
        return SIGN_OFF
    greeting = _GREETING_WORDS.match(stripped)
    if greeting:
        rest = stripped[greeting.end():].strip()
        rest_words = rest.split()
        if not rest or _GREETED.match(rest) or (
            len(rest_words) <= 3 and _only_names(text, greeting_len=len(greeting.group().split()))
        ):
            return GREETING
    if _THANKS.search(text) and _only_names_left(_THANKS.sub(" ", _PLACEHOLDER.sub(" ", text))):
        return THANKS
    if is_last and _only_names(text, greeting_len=0) and len(words) <= 3:
        return SIGN_OFF
    return None


def _only_names_left(text: str) -> bool:
    """Nothing but punctuation and capitalised names is left ('Thanks, Holly!' once thanks is removed)."""
    words = [w for w in re.split(r"[\s,!.;:()\-]+", text) if w]
    return all(w[:1].isupper() and w[1:].islower() for w in words)


def _drop_trailing_name(text: str) -> str:
    """'Cheers, Holly' / 'Thanks, [NAME]!' -> 'cheers' / 'thanks' (the sign-off without its name)."""
    head, _, tail = text.rpartition(",")
    if head and _only_names(tail, greeting_len=0):
        return " ".join(w for w in _NON_WORD.split(head.lower()) if w)
    return " ".join(w for w in _NON_WORD.split(text.lower()) if w)


def _only_names(text: str, greeting_len: int) -> bool:
    """Every word after the first `greeting_len` is capitalised or a [NAME]: 'Hi Élise', 'Holly', '[NAME]'."""
    words = [w for w in re.split(r"[\s,!.;:]+", text.strip()) if w][greeting_len:]
    return bool(words) and all(_PLACEHOLDER.fullmatch(w) or (w[:1].isupper() and w[1:].islower()) for w in words)

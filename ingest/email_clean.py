"""Turning HTML and email bodies into the customer's own words.

Support messages arrive with the earlier thread quoted under them, a signature, sometimes an
auto-reply instead of a message, and often as HTML. Themes should be built from what the customer
wrote this time, so those parts are cut here. Review widgets need the same HTML-to-text step.
"""

from __future__ import annotations

import html
import re

from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

# Tags whose start begins a new line of text; everything else is inline and joins without a break.
_BLOCK_TAGS = frozenset(
    "p div br li ul ol dl dt dd tr td th table h1 h2 h3 h4 h5 h6 blockquote section article header footer "
    "pre hr address figure figcaption".split()
)
_INVISIBLE_PARENTS = frozenset({"script", "style", "template", "noscript", "head", "title"})
_NOT_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction)
_LOOKS_HTML = re.compile(r"<(?:/?[a-zA-Z][a-zA-Z0-9]*\b[^>]*|!--.*?--)>", re.S)

# HTML parts that hold earlier messages or signatures in the mail clients people use.
_QUOTE_SELECTORS = (
    "blockquote",
    ".gmail_quote",
    ".gmail_extra",
    ".gmail_signature",
    "[data-smartmail=gmail_signature]",
    ".moz-cite-prefix",
    ".moz-signature",
    "#appendonsend",
    "#divRplyFwdMsg",
    ".yahoo_quoted",
    ".zendesk_quote",
)

_QUOTE_HEADERS = [
    re.compile(r"^\s*on\b.{0,300}\bwrote:\s*$", re.I),  # Gmail/Apple Mail (after joining wrapped lines)
    re.compile(r"^\s*-{2,}\s*(original message|forwarded message)\s*-{2,}", re.I),
    re.compile(r"^\s*_{8,}\s*$"),  # Outlook's rule above the quoted header
    re.compile(r"^\s*le\b.{0,300}\ba écrit\s*:\s*$", re.I),
    re.compile(r"^\s*am\b.{0,300}\bschrieb\b.{0,200}:\s*$", re.I),
    re.compile(r"^\s*el\b.{0,300}\bescribió\s*:\s*$", re.I),
    re.compile(r"^\s*##-\s*please type your reply above this line\s*-##", re.I),
    re.compile(r"^\s*-{3,}\s*reply above this line\s*-{3,}", re.I),
]
_OUTLOOK_FROM = re.compile(r"^\s*\*?from:\*?\s+\S", re.I)
_OUTLOOK_FIELD = re.compile(r"^\s*\*?(sent|date|to|subject|cc):\*?\s", re.I)

_SIGNATURE_START = [
    re.compile(r"^--\s*$"),
    re.compile(r"^\s*sent from my (iphone|ipad|android|samsung|galaxy|pixel|mobile|phone|smartphone|blackberry)\b", re.I),
    re.compile(r"^\s*sent from (outlook|mail|yahoo mail|gmail|proton ?mail)\b", re.I),
    re.compile(r"^\s*get outlook for (ios|android)", re.I),
    re.compile(r"^\s*sent (via|with) (the )?\w+( \w+)? app\b", re.I),
]
_SIGN_OFF = re.compile(
    r"^\s*(best|best wishes|best regards|kind regards|warm regards|warmly|regards|cheers|thanks|thank you|"
    r"thanks again|thanks so much|many thanks|thx|sincerely|yours sincerely|all the best|take care|"
    r"talk soon|love|xo+|x+)\s*[,.!]*\s*$",
    re.I,
)
# "Thanks, Amira" / "cheers, Jo!" as the last line: a sign-off and a capitalised name on one line.
_SIGN_OFF_WITH_NAME = re.compile(
    r"^\s*(?i:thanks|thank you|many thanks|cheers|best|best wishes|regards|kind regards|best regards|love|xx?)"
    r"\s*[,!.]*\s+[A-Z][\w'’-]*(\s[A-Z][\w'’.-]*)?\s*[!.]?\s*$"
)
_SIGN_OFF_TAIL_LINES = 4  # a sign-off followed by at most this many short lines (name, title, phone)
_SIGN_OFF_TAIL_WIDTH = 60

_AUTO_REPLY = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|auto[- ]response|out of (the )?office|i am (currently )?out of "
    r"(the )?office|i'm (currently )?out of (the )?office|this is an automated (message|response|reply)|"
    r"thank you for (contacting|reaching out to|your email to) .{0,60}(we|we'll|we will) .{0,40}"
    r"(get back|respond|reply)|we('ve| have) received your (request|message|email)|"
    r"your request \(#?\d+\) has been received|please do not reply to this (email|message))",
    re.I,
)


def looks_like_html(text: str) -> bool:
    return bool(_LOOKS_HTML.search(text))


def element_text(element: Tag) -> str:
    """The visible text of an element: block tags become line breaks, inline tags join, scripts are dropped."""
    parts: list[str] = []
    for node in element.descendants:
        if isinstance(node, Tag):
            if node.name in _BLOCK_TAGS:
                parts.append("\n")
        elif isinstance(node, NavigableString) and not isinstance(node, _NOT_TEXT):
            if node.parent is not None and node.parent.name in _INVISIBLE_PARENTS:
                continue
            parts.append(str(node))
    return tidy_lines("".join(parts))


def tidy_lines(text: str) -> str:
    """One line per line of text: spaces collapsed, blank lines dropped (markup spacing differs page to page)."""
    lines = (" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def fragment_text(value: str) -> str:
    """Text of a value that may hold markup or entities (JSON-LD bodies often do)."""
    if "<" in value and looks_like_html(value):
        return element_text(BeautifulSoup(value, "lxml"))
    return tidy_lines(html.unescape(value))


def html_to_text(body: str, *, drop_quotes: bool = True) -> str:
    """An HTML email or chat body as text, without quoted earlier messages and marked-up signatures."""
    soup = BeautifulSoup(body, "lxml")
    if drop_quotes:
        for selector in _QUOTE_SELECTORS:
            for element in soup.select(selector):
                element.decompose()
    return element_text(soup)


def strip_quoted(text: str) -> str:
    """Cut the earlier thread: everything from a reply header on, and every '>' line."""
    lines = text.split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        joined = line if i + 1 >= len(lines) else f"{line} {lines[i + 1]}"
        if any(p.match(line) for p in _QUOTE_HEADERS) or (
            line.strip().lower().startswith("on ") and _QUOTE_HEADERS[0].match(joined)
        ):
            cut = i
            break
        if _OUTLOOK_FROM.match(line) and _outlook_header_follows(lines, i):
            cut = i
            break
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    return "\n".join(kept)


def _outlook_header_follows(lines: list[str], start: int) -> bool:
    """'From: …' counts as a quoted header only when Sent/Date/To/Subject lines follow it."""
    following = [line for line in lines[start + 1 : start + 5] if line.strip()]
    return sum(1 for line in following if _OUTLOOK_FIELD.match(line)) >= 2


def strip_signature(text: str) -> str:
    """Cut a signature: '--', 'Sent from my iPhone', or a sign-off ('Best,') followed only by a short name block."""
    lines = text.rstrip().split("\n")
    for i, line in enumerate(lines):
        if any(p.match(line) for p in _SIGNATURE_START):
            lines = lines[:i]
            break
    for i in range(max(0, len(lines) - _SIGN_OFF_TAIL_LINES - 1), len(lines)):
        if _SIGN_OFF.match(lines[i]):
            tail = [line for line in lines[i + 1 :] if line.strip()]
            if len(tail) <= _SIGN_OFF_TAIL_LINES and all(len(line) <= _SIGN_OFF_TAIL_WIDTH for line in tail):
                lines = lines[:i]
                break
    if lines and _SIGN_OFF_WITH_NAME.match(lines[-1]):
        lines = lines[:-1]
    return "\n".join(lines)


# Said anywhere in a short message, these mark it as generated ("Thank you for your email. I am out of the
# office until Tuesday ... This is an automated reply."): a sure sign, or being out of the office together with
# one of the usual phrases. A customer's own words rarely carry both.
_AUTO_REPLY_SURE = re.compile(
    r"\b(?:this is an automated (?:message|response|reply)|this (?:e-?mail|message) (?:was|is) (?:sent )?"
    r"automatically)\b",
    re.I,
)
_OUT_OF_OFFICE = re.compile(
    r"\b(?:i am|i'm) (?:currently )?(?:out of|away from) (?:the )?office (?:until|till|from|and|with)\b", re.I
)
_AUTO_REPLY_USUAL = [
    re.compile(p, re.I) for p in (
        r"\blimited access to (?:my )?e-?mail\b",
        r"\bfor (?:anything|something) urgent\b",
        r"\b(?:i will|i'll) (?:respond|reply|get back to you) (?:on my return|when i(?:'m| am) back)\b",
    )
]
AUTO_REPLY_MAX_WORDS = 80


def is_auto_reply(text: str) -> bool:
    """An out-of-office or 'we received your request' message: boilerplate, not what anyone said."""
    if _AUTO_REPLY.match(text[:300]):
        return True
    if len(text.split()) > AUTO_REPLY_MAX_WORDS:
        return False
    if _AUTO_REPLY_SURE.search(text):
        return True
    return _OUT_OF_OFFICE.search(text) is not None and any(p.search(text) for p in _AUTO_REPLY_USUAL)


# Text the help desk writes, not the customer: Zendesk messaging tickets' description 'Conversation with Ana
# Silva', and the line a follow-up ticket opens with, in the requester's language ('This is a follow-up to
# your previous request #796963 "Sync fails"', 'Este é um acompanhamento da sua solicitação anterior #796963
# "…"'): a first line ending in a request number and its quoted subject.
_PLACEHOLDER = re.compile(r"conversation with ([^\n]{1,120})", re.I)
_FOLLOW_UP_LINE = re.compile(r"[^\n]{0,160}#\d+\s*[\"“][^\"”\n]*[\"”]\s*(?:\n|$)")


def placeholder_name(text: str | None) -> str | None:
    """The name in Zendesk's messaging placeholder ('Conversation with Ana Silva' -> 'Ana Silva'), else None."""
    match = _PLACEHOLDER.fullmatch((text or "").strip())
    return match.group(1).strip() if match else None


def strip_help_desk_lines(text: str) -> str:
    """The message without the help desk's own placeholder or follow-up line ('' when that was all)."""
    if _PLACEHOLDER.fullmatch(text.strip()):
        return ""
    return _FOLLOW_UP_LINE.sub("", text, count=1) if _FOLLOW_UP_LINE.match(text) else text


def clean_message(body: str | None, *, is_html: bool | None = None) -> str:
    """The new words of one message: HTML, quoted thread, signature, auto-reply and the help desk's own
    placeholder / follow-up lines removed ('' if nothing is left)."""
    if not body or not body.strip():
        return ""
    if is_html is None:
        is_html = looks_like_html(body)
    text = html_to_text(body) if is_html else tidy_lines(body)
    if is_auto_reply(text):
        return ""
    text = strip_signature(strip_quoted(strip_help_desk_lines(text)))
    return tidy_lines(text)


# A follow-up that only acknowledges ("Perfect, thanks!", "Ok thanks, I'll wait a couple more days") says
# nothing new about the product; clustered, such replies made themes of their own ("perfect / thanks").
_ACKNOWLEDGES = re.compile(
    r"\b(?:thanks?|thank you|thx|ty|cheers|perfect|great|ok|okay|brilliant|awesome|amazing|lovely|appreciated?|"
    r"sounds good|got it|noted|will do|understood|no worries|much appreciated)\b",
    re.I,
)
_STILL_A_PROBLEM = re.compile(
    r"\?|\b(?:not|no|never|still|but|however|though|again|too|also|wrong|broken|missing|damaged|refund|cancel|"
    r"haven't|hasn't|didn't|doesn't|isn't|wasn't|won't|can't|cannot)\b|n't\b",
    re.I,
)
_SENTENCE = re.compile(r"[^.!?\n]+")
ACKNOWLEDGEMENT_MAX_WORDS = 12


def is_acknowledgement(text: str) -> bool:
    """A short reply that thanks or agrees in every sentence and raises nothing (no question, negation or
    problem word): "Ok thanks. It smells awful." has a sentence that only complains, so it is feedback."""
    words = text.split()
    sentences = [s for s in _SENTENCE.findall(text) if any(c.isalpha() for c in s)]
    return (
        0 < len(words) <= ACKNOWLEDGEMENT_MAX_WORDS
        and bool(sentences)
        and all(_ACKNOWLEDGES.search(s) for s in sentences)
        and _STILL_A_PROBLEM.search(text) is None
    )

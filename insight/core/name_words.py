"""Which capitalised words can be part of a person's name: the word classes name redaction checks.

A small NER model tags as PERSON many things that are not people: a common noun or verb opening a
sentence ("Box arrived crushed", "Stung"), an honorific on its own ("Madam"), a well-known app or brand
("Instagram", "Zoom", the shop's own name), a certification mark ("Leaping Bunny"), a product written with
a determiner ("the Cloud Moisturiser"). These classes are told apart here with real lexicons: English
words from the spaCy pipeline's own lemmatizer tables, given names from Faker's per-locale first-name lists
(MIT licensed; gender-guesser, used before, is GPLv3).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language

PLACEHOLDER_WORDS = frozenset({"EMAIL", "PHONE", "CARD", "NAME"})
PRONOUN_I = frozenset({"I", "I'm", "I’m", "I've", "I’ve", "I'd", "I’d", "I'll", "I’ll"})

# Forms of address: a name may follow one, but alone ("Madam", "Sir") they name nobody.
HONORIFICS = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "madame", "ma'am", "ma’am", "mister",
    "dame", "lady", "lord", "señor", "señora", "señorita", "sr", "sra", "monsieur", "mademoiselle", "herr",
    "frau", "pan", "pani",
})
# Greetings and valedictions: a line "Thanks" or "Cheers" closing a message is not a name.
SALUTATIONS = frozenset({"hi", "hello", "hey", "hiya", "dear", "thanks", "thank", "thx", "ty", "cheers", "best",
                         "regards", "love", "xx", "xo", "xoxo", "sincerely", "warmly", "bye", "ciao", "gracias",
                         "merci", "danke", "dzięki", "team", "everyone", "all", "there", "folks"})
# Words before a product or brand name ("the Cloud Moisturiser", "my Routine Set").
DETERMINERS = frozenset({"the", "a", "an", "my", "your", "our", "their", "his", "her", "this", "that", "these",
                         "those", "its"})
# Apps, platforms, mail providers, carriers, payment services and big retailers customers mention by name.
WELL_KNOWN = frozenset({
    "instagram", "insta", "tiktok", "facebook", "whatsapp", "messenger", "youtube", "pinterest", "snapchat",
    "twitter", "reddit", "linkedin", "threads", "discord", "telegram", "gmail", "hotmail", "outlook", "yahoo",
    "icloud", "aol", "protonmail", "zoom", "skype", "slack", "teams", "google", "meet", "facetime", "amazon",
    "ebay", "etsy", "shopify", "paypal", "venmo", "zelle", "klarna", "afterpay", "clearpay", "affirm", "stripe",
    "visa", "mastercard", "amex", "usps", "ups", "fedex", "dhl", "evri", "canada post", "royal mail",
    "sephora", "ulta", "target", "walmart", "costco", "boots", "trustpilot", "yelp", "iphone", "ipad", "android",
    "chrome", "safari", "firefox", "alexa", "siri", "netflix", "spotify", "uber", "doordash", "recharge",
    "typeform", "zendesk", "gorgias", "otter", "judge.me", "apple pay", "google pay", "shop pay", "apple",
    "microsoft", "samsung", "tesco", "asos", "nike", "adidas",
})
# Certification and trust marks printed on packaging.
CERTIFICATION_MARKS = frozenset({
    "leaping bunny", "cruelty free international", "peta", "fair trade", "fairtrade", "usda organic",
    "ecocert", "cosmos", "b corp", "vegan society", "ewg verified", "soil association", "natrue", "nsf",
    "energy star", "fsc", "rainforest alliance", "certified vegan", "cruelty free",
})


def fold(word: str) -> str:
    """'Siobhán' -> 'siobhan': the name list is mostly unaccented."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Faker locales whose first names are read (faker.providers.person.<locale>): the languages a shop's
# customers write in, across Europe, the Americas, Africa and Asia. Each holds a few hundred to 4,000 names.
NAME_LOCALES = (
    "en_US", "en_GB", "en_IE", "ga_IE", "en_NZ", "en_IN", "en_PK", "en_KE", "en_NG", "hi_IN", "gu_IN", "mr_IN",
    "ta_IN", "ne_NP", "bn_BD", "si_LK", "es_ES", "es_MX", "es_AR", "es_CL", "es_CO", "pt_BR", "pt_PT", "fr_FR",
    "fr_CA", "fr_BE", "fr_CH", "de_DE", "de_AT", "de_CH", "it_IT", "nl_NL", "nl_BE", "pl_PL", "cs_CZ", "sk_SK",
    "sl_SI", "hr_HR", "hu_HU", "ro_RO", "bg_BG", "mk_MK", "el_GR", "sv_SE", "da_DK", "no_NO", "fi_FI", "is_IS",
    "et_EE", "lv_LV", "lt_LT", "ru_RU", "uk_UA", "tr_TR", "az_AZ", "uz_UZ", "ka_GE", "hy_AM", "ar_AA", "ar_SA",
    "he_IL", "fa_IR", "yo_NG", "ig_NG", "ha_NG", "sw", "zu_ZA", "tw_GH", "id_ID", "th_TH", "vi_VN", "ja_JP",
    "zh_CN", "zh_TW", "ko_KR",
)
_NAME_ATTRIBUTES = ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary",
                    "first_romanized_names", "first_romanized_names_male", "first_romanized_names_female")


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Lower-cased first names of every NAME_LOCALES locale, with and without accents (~31,000).
    Read at first use: importing the lists takes a quarter of a second."""
    import importlib

    names: set[str] = set()
    for locale in NAME_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in _NAME_ATTRIBUTES:
            values = getattr(provider, attribute, ())
            if not isinstance(values, tuple | list | dict):  # a property built from the others (ar_SA)
                continue
            for name in values:  # a tuple, or a dict of names to weights
                lowered = name.lower()
                names.add(lowered)
                names.add(fold(lowered))
    return frozenset(names)


def known_first_name(word: str) -> bool:
    """A given name in Faker's first-name lists of many countries (`given_names`)."""
    names = given_names()
    lowered = word.lower()
    return lowered in names or fold(lowered) in names


def spacy_lexicon(nlp: Language | None) -> Callable[[str], bool]:
    """English words known to the pipeline's rule lemmatizer (WordNet's lemma lists, their irregular forms,
    and regular forms through the lemmatizer's own suffix rules). Without such tables: no word is known."""
    lookups = getattr(nlp.get_pipe("lemmatizer"), "lookups", None) if nlp is not None and nlp.has_pipe(
        "lemmatizer") else None
    if lookups is None or not lookups.has_table("lemma_index"):
        return lambda word: False
    return _lexicon_from_tables(lookups)


def _lexicon_from_tables(lookups: Any) -> Callable[[str], bool]:
    index_table = lookups.get_table("lemma_index")
    lemmas: set[str] = set()
    for key in index_table.keys():
        lemmas.update(index_table[key])
    if lookups.has_table("lemma_exc"):
        exc = lookups.get_table("lemma_exc")
        for key in exc.keys():
            for form, bases in exc[key].items():
                lemmas.add(form)
                lemmas.update(bases)
    rules: list[tuple[str, str]] = []
    if lookups.has_table("lemma_rules"):
        table = lookups.get_table("lemma_rules")
        rules = sorted({(old, new) for key in table.keys() for old, new in table[key]})

    @lru_cache(maxsize=65536)
    def is_word(word: str) -> bool:
        word = word.lower()
        if word in lemmas:
            return True
        return any(word.endswith(old) and len(word) > len(old) + 1 and word[: len(word) - len(old)] + new in lemmas
                   for old, new in rules if old)

    return is_word


@dataclass
class NameWords:
    """What a batch of texts and the lexicons say about its capitalised words."""

    common: set[str] = field(default_factory=set)        # written in lower case somewhere in the batch
    is_word: Callable[[str], bool] = lambda word: False  # an English dictionary word
    is_first_name: Callable[[str], bool] = known_first_name
    brands: set[str] = field(default_factory=set)        # lower-case: the shop's own and other brand words

    def is_brand(self, words: Iterable[str]) -> bool:
        lowered = [w.lower() for w in words]
        phrase = " ".join(lowered)
        return (phrase in WELL_KNOWN or phrase in CERTIFICATION_MARKS or phrase in self.brands
                or all(w in WELL_KNOWN or w in self.brands for w in lowered))

    def name_like(self, word: str) -> bool:
        """Could this word, standing alone (a greeting, a sign-off), be a person's name?"""
        if word in PRONOUN_I or word.strip("[]") in PLACEHOLDER_WORDS or not word[:1].isupper():
            return False
        lowered = word.lower()
        if lowered in HONORIFICS or lowered in SALUTATIONS or self.is_brand([word]):
            return False
        if self.is_first_name(word):
            return True
        return lowered not in self.common

    def signs_off(self, words: list[str]) -> bool:
        """Is a closing line made of these words a name? A given name first, or only words that are neither
        English words nor written in lower case ("Oluwaseun Adeyemi", not "Fernleaf Support")."""
        if not words or not all(self.name_like(w) for w in words):
            return False
        return self.is_first_name(words[0]) or not any(self.english(w) for w in words)

    def could_be_person(self, words: list[str]) -> bool:
        """Words NER took for a person (determiners already dropped): false for honorifics alone, brands,
        marks, and phrases of dictionary words with no given name ("Box arrived crushed", "Precision
        Cooker", "Tidy Jar Refillery"); true with an honorific before a name ("Mr Hall")."""
        if not words or self.is_brand(words):
            return False
        rest = [w for w in words if w.lower().rstrip(".") not in HONORIFICS]
        if not rest:
            return False
        if len(rest) < len(words):
            return True
        if any(self.is_first_name(w) for w in rest):
            return True
        if all(self.english(w) or w.lower() in self.brands for w in rest):
            return False
        return not (len(rest) > 1 and self.english(rest[0]))

    def english(self, word: str) -> bool:
        return self.is_word(word.lower())

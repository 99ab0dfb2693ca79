"""English wording for messages a person reads: "needs an ID card", not "needs a ID card"."""

from __future__ import annotations

import re

# letters whose English name starts with a vowel sound: an ID, an X-ray, an SMS, an F-form
_VOWEL_SOUND_LETTERS = frozenset("AEFHILMNORSX")
# vowel letters sounded as consonants: a unit, a user, a usual, a one-off, a European
_CONSONANT_SOUND_STARTS = ("uni", "use", "usu", "uti", "ure", "one", "once", "eu")
# consonant letters sounded as vowels: an hour, an honest, an heir
_VOWEL_SOUND_STARTS = ("hour", "honest", "honour", "honor", "heir")
_FIRST_WORD = re.compile(r"[A-Za-z]+")


def article(phrase: str) -> str:
    """`a` or `an` for `phrase`, by the sound of its first word (identifiers such as
    `id_card` are read as words): an ID card, an id_card, an emergency, a referral, a user."""
    found = _FIRST_WORD.search(phrase)
    if found is None:
        return "a"
    word = found.group()
    if word.isupper():  # an acronym or a letter (an X-ray), read letter by letter
        return "an" if word[0] in _VOWEL_SOUND_LETTERS else "a"
    lower = word.lower()
    if lower.startswith(_VOWEL_SOUND_STARTS):
        return "an"
    if lower.startswith(_CONSONANT_SOUND_STARTS):
        return "a"
    return "an" if lower[0] in "aeiou" else "a"


def with_article(phrase: str) -> str:
    """`phrase` after its indefinite article: "an ID card", "a referral form"."""
    return f"{article(phrase)} {phrase}"

"""What leaderboards call a student: the display name they chose, else a pseudonym.

A student's id (``SIDHI_…``) names them across the whole platform, so it is never shown to
other students. A display name is checked here (length, characters, nothing that passes
for an id or a pseudonym); its uniqueness is the unique index on ``prefs.name_key``
(``app.training.queries.meta``), compared through ``name_key``. The pseudonym is an HMAC of
the id under a server-side key: stable, and no one can compute it back to the id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from app.errors import InvalidParameter

MIN_LENGTH = 3
MAX_LENGTH = 24
PUNCTUATION = frozenset(" _-.")
MAX_MARKS = 2  # combining marks on one letter: enough for Indic vowel signs, not for "Zalgo"
PSEUDONYM_PREFIX = "Learner-"
# 8 hex digits (32 bits): with 6, two of 10,000 students would already share one.
PSEUDONYM_DIGITS = 8
# Keys (see ``name_key``) that would read as someone's id or as a pseudonym.
_RESERVED = re.compile(r"^(sidhi[ _.\-]|learner[ _.\-]*[0-9a-f]+$)")


def pseudonym(student: str, *, key: bytes) -> str:
    """The stable pseudonym of ``student``, e.g. ``Learner-7F3A9C2E``."""
    digest = hmac.new(key, student.encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_DIGITS].upper()


def shown_name(student: str, display_name: object, *, key: bytes) -> str:
    """The name others see: the display name if one is set, else the pseudonym."""
    return display_name if isinstance(display_name, str) else pseudonym(student, key=key)


def name_key(name: str) -> str:
    """What two names are compared by: case- and compatibility-folded (so ``ADA``, in
    fullwidth letters or not, is ``ada``)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def _refuse(why: str) -> InvalidParameter:
    return InvalidParameter(f"display_name {why}")


def checked_display_name(raw: str) -> str:
    """``raw`` in NFC if it is an acceptable display name; else ``InvalidParameter``."""
    name = unicodedata.normalize("NFC", raw)
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        raise _refuse(f"must be {MIN_LENGTH} to {MAX_LENGTH} characters long")
    if name != name.strip(" ") or "  " in name:
        raise _refuse("must not start or end with a space or have two spaces in a row")
    marks, previous = 0, ""  # previous: category class of the last character not a mark
    for char in name:
        category = unicodedata.category(char)
        if category[0] == "M":
            # A mark belongs to the letter before it (Devanagari vowel signs, say).
            marks += 1
            if previous != "L" or marks > MAX_MARKS:
                raise _refuse("has a combining mark that is not on a letter")
            continue
        marks, previous = 0, category[0]
        if previous != "L" and category != "Nd" and char not in PUNCTUATION:
            raise _refuse(f"may only contain letters, digits, spaces and _ - . (not {char!r})")
    if not any(unicodedata.category(char)[0] == "L" for char in name):
        raise _refuse("must contain a letter")
    if _RESERVED.match(name_key(name)):
        raise _refuse("must not look like a student id or a pseudonym (SIDHI_…, Learner-…)")
    return name

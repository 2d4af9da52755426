"""What leaderboards call a student: the display name they chose, else a pseudonym.

A student's id (``SIDHI_…``) names them across the whole platform, so it is never shown to
other students. A display name is checked here (length, characters, one script, nothing
invisible, nothing that passes for an id or a pseudonym); its uniqueness is the unique
index on ``prefs.name_key`` (``app.training.queries.meta``), compared through ``name_key``:
the name's confusable skeleton (Unicode TS #39, ICU's ``SpoofChecker``), case-folded, so
look-alikes (``Ada`` with a Cyrillic A, ``rn`` for ``m``, ``1`` for ``l``) are one name. The
pseudonym is an HMAC of the id under a server-side key: stable, and no one can compute it
back to the id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

import icu

from app.errors import InvalidParameter

MIN_LENGTH = 3
MAX_LENGTH = 24
PUNCTUATION = frozenset(" _-.")
MAX_MARKS = 2  # combining marks on one letter: enough for Indic vowel signs, not for "Zalgo"
PSEUDONYM_PREFIX = "Learner-"
# 8 hex digits (32 bits): with 6, two of 10,000 students would already share one.
PSEUDONYM_DIGITS = 8
# UTS #39 checks (ICU): one script, or Latin with one other script except Cyrillic, Greek
# and Cherokee (moderately restrictive: "José हिन्दी" passes, "Ada" with a Cyrillic A
# does not), digits of one system, no mark repeated on a letter.
_SPOOF = icu.SpoofChecker()
_SPOOF.setChecks(
    icu.USpoofChecks.RESTRICTION_LEVEL | icu.USpoofChecks.MIXED_NUMBERS | icu.USpoofChecks.INVISIBLE
)
_SPOOF.setRestrictionLevel(icu.URestrictionLevel.MODERATELY_RESTRICTIVE)
# Code points that render as nothing (U+3164 HANGUL FILLER is a letter, U+17B4 a mark).
_IGNORABLE = icu.UnicodeSet("[:Default_Ignorable_Code_Point:]")
_SEPARATORS = "[ _.\\-]"


def pseudonym(student: str, *, key: bytes) -> str:
    """The stable pseudonym of ``student``, e.g. ``Learner-7F3A9C2E``."""
    digest = hmac.new(key, student.encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_DIGITS].upper()


def shown_name(student: str, display_name: object, *, key: bytes) -> str:
    """The name others see: the display name if one is set, else the pseudonym."""
    return display_name if isinstance(display_name, str) else pseudonym(student, key=key)


def _skeleton(text: str) -> str:
    return str(_SPOOF.getSkeleton(0, text))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def name_key(name: str) -> str:
    """What two names are compared by: their confusable skeleton (UTS #39), ignoring case.

    Case and look-alikes do not commute (``I`` looks like ``l``, ``i`` does not), so the
    name is folded, skeletonised, then skeletonised in capitals and folded again, until it
    stays: ``ADA``, and ``Ada`` in fullwidth letters or with a Cyrillic A, are ``ada``;
    ``Ali``, ``ALI``, ``All`` and ``A11`` one key; ``Emma`` and ``Ernrna`` too."""
    key = _fold(name)
    for _ in range(4):
        folded = _fold(_skeleton(_fold(_skeleton(key)).upper()))
        if folded == key:
            break
        key = folded
    return key


def _one_of(texts: set[str]) -> str:
    return "(?:" + "|".join(sorted((re.escape(t) for t in texts), key=len, reverse=True)) + ")"


# Keys that would read as a pseudonym (``Learner-`` and hex digits, whatever punctuation
# around them) or as a student id (``SIDHI`` then a separator, or then a run with digits).
_PSEUDONYM = re.compile(
    f"^{re.escape(name_key('learner'))}{_SEPARATORS}*"
    f"{_one_of({name_key(c) for c in '0123456789abcdef'})}+{_SEPARATORS}*$"
)
_STUDENT_ID = re.compile(f"^{re.escape(name_key('sidhi'))}")


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
    if any(_IGNORABLE.contains(char) for char in name):
        raise _refuse("must not contain invisible characters (default-ignorable code points)")
    if _SPOOF.check(name):
        raise _refuse(
            "must be written in one script (Latin may join one other, except Cyrillic, Greek "
            "or Cherokee), with digits of one system and no mark repeated"
        )
    key = name_key(name)
    looks_like_id = _STUDENT_ID.match(key) and (
        re.match(f"^.{{5}}{_SEPARATORS}", key) or any(c.isdigit() for c in name)
    )
    if _PSEUDONYM.match(key) or looks_like_id:
        raise _refuse("must not look like a student id or a pseudonym (SIDHI_…, Learner-…)")
    return name

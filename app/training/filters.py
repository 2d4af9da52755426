"""What a listing, a search and an order mean, defined once.

Each rule has its two forms side by side: a MongoDB filter (the uncached source) and a
predicate over an in-memory sample (the cached source). The catalog tests run the same
assertions against both sources, so the two forms cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Curriculum order, chapter then sample id, is MongoDB's: ``queries.samples.SAMPLE_ORDER``
# sorts every listing, and the cached source keeps the order it loaded.


@dataclass(frozen=True, slots=True)
class SampleFilter:
    """The optional filters of a listing; unset ones match everything."""

    chapter: int | None = None
    knowledge_area: str | None = None
    type: str | None = None
    difficulty: str | None = None

    @property
    def is_empty(self) -> bool:
        """True when no filter is set (the whole language)."""
        return self == _NO_FILTER

    def matches(self, sample: dict[str, Any]) -> bool:
        """Whether a sample passes every filter that is set."""
        return (
            (self.chapter is None or sample.get("chapter") == self.chapter)
            and (self.knowledge_area is None or sample.get("knowledge_area") == self.knowledge_area)
            and (self.type is None or sample.get("type") == self.type)
            and (self.difficulty is None or sample.get("difficulty") == self.difficulty)
        )

    def query(self, language: str) -> dict[str, Any]:
        """The MongoDB filter of this listing in ``language``."""
        query: dict[str, Any] = {"language": language}
        for name in ("chapter", "knowledge_area", "type", "difficulty"):
            value = getattr(self, name)
            if value is not None:
                query[name] = value
        return query

    @property
    def key(self) -> str:
        """A cache-key fragment naming this filter combination."""
        return f"{self.chapter}:{self.knowledge_area}:{self.type}:{self.difficulty}"


_NO_FILTER = SampleFilter()


def haystack(sample: dict[str, Any]) -> str:
    """The text a search looks in: question and answer, lowercased, never joined across."""
    return f"{sample.get('question', '')}\x00{sample.get('answer', '')}".lower()


def search_needle(text: str) -> str:
    """What a search looks for in a ``haystack``: ``text`` as a literal, lowercased (a
    sample matches when the needle is a substring of its haystack)."""
    return text.lower()


def search_query(language: str, text: str) -> dict[str, Any]:
    """The MongoDB filter of a literal, case-insensitive search in question or answer."""
    pattern = {"$regex": re.escape(text), "$options": "i"}
    return {"language": language, "$or": [{"question": pattern}, {"answer": pattern}]}

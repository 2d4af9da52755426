"""The curriculum: languages, their sample-id prefixes and chapter → knowledge-area maps."""

from __future__ import annotations

from typing import Final, Literal, get_args

Language = Literal["c", "cpp", "python"]
SampleType = Literal["program", "mcq", "theory", "debug"]
Difficulty = Literal["easy", "medium", "hard"]
LANGUAGES: Final[tuple[Language, ...]] = ("c", "cpp", "python")
# How each language is written in prose, e.g. in "Write a C++ program that ...".
LANGUAGE_NAMES: Final = {"c": "C", "cpp": "C++", "python": "Python"}

# Longest prefix first: "cpp_" must win over "c_" (the sketch tested "c_" first only by luck
# of dict order, since "cpp_..." does not start with "c_").
LANGUAGE_PREFIXES: Final = {"cpp_": "cpp", "py_": "python", "c_": "c"}

KNOWLEDGE_AREAS: Final[dict[str, dict[int, str]]] = {
    "c": {
        1: "basics",
        2: "control_flow",
        3: "functions",
        4: "arrays",
        5: "strings",
        6: "pointers",
        7: "structures",
        8: "file_io",
        9: "memory_management",
        10: "advanced",
    },
    "cpp": {
        1: "basics",
        2: "control_flow",
        3: "functions",
        4: "arrays",
        5: "strings",
        6: "pointers",
        7: "oop",
        8: "inheritance",
        9: "polymorphism",
        10: "stl",
        11: "templates",
        12: "exception_handling",
    },
    "python": {
        1: "basics",
        2: "control_flow",
        3: "functions",
        4: "data_structures",
        5: "strings",
        6: "file_io",
        7: "oop",
        8: "modules",
    },
}

# A chapter outside the curriculum map still gets an area; the sketch's choice, kept.
FALLBACK_AREA: Final = "general"
TYPES: Final[tuple[SampleType, ...]] = get_args(SampleType)
DIFFICULTIES: Final[tuple[Difficulty, ...]] = get_args(Difficulty)


def language_of(sample_id: str) -> str | None:
    """The language a sample id's prefix names, or None when the prefix is unknown."""
    for prefix, language in LANGUAGE_PREFIXES.items():
        if sample_id.startswith(prefix):
            return language
    return None


def knowledge_area_of(language: str, chapter: object) -> str:
    """The knowledge area of a chapter of a language (``general`` outside the map)."""
    if not isinstance(chapter, int):
        return FALLBACK_AREA
    return KNOWLEDGE_AREAS.get(language, {}).get(chapter, FALLBACK_AREA)

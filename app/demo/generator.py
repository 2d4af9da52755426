"""Deterministic demo catalog of programming training samples (pre-migration shape).

The templates are data, in the TOML files next to this module. ``common.toml`` holds the
question stems, the parameter pools, the type weights and the sample count per language;
``c.toml``, ``cpp.toml`` and ``python.toml`` hold one ``[[chapter]]`` per chapter of the
curriculum (:mod:`app.training.curriculum`), keyed by ``number``, each with:

* ``[[chapter.task]]`` code tasks (``difficulty``, ``goal``, ``fix``, ``code``, optional
  extra ``headers``), rendered as a ``program`` sample (the complete program is the answer)
  or a ``debug`` sample (buggy code in the question; fixed code and ``fix`` in the answer).
  ``@[buggy@|fixed@]`` marks where the two variants differ; a line holding only an empty
  side is dropped. For C and C++ a line ``---`` separates top-level declarations from the
  body of ``main``; the includes and the ``main`` wrapper are added when rendering;
* ``[[chapter.concept]]`` concepts (``difficulty``, ``topic``, ``correct``, three
  ``wrong`` options, ``explanation``), rendered as an ``mcq`` sample (options A-D,
  shuffled) or a ``theory`` sample (the explanation is the answer).

Text uses :class:`string.Template` placeholders (``$n``, ``$word``, ...: see
:func:`_draw_params`) filled from a private :class:`random.Random`, so a seed always yields
the same catalog. Draws are positional: reordering pools or templates changes the output.
"""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import count
from string import Template
from typing import Any

from app.training.curriculum import (
    DIFFICULTIES,
    KNOWLEDGE_AREAS,
    LANGUAGE_NAMES,
    LANGUAGE_PREFIXES,
    LANGUAGES,
    TYPES,
)

# Sample ids read "py_ch3_q_000042": the curriculum's prefix without its underscore.
_ID_PREFIXES = {lang: prefix.removesuffix("_") for prefix, lang in LANGUAGE_PREFIXES.items()}
_MAX_ATTEMPTS = 12  # re-draws per sample to avoid repeating a question
_MARKER = re.compile(r"@\[(.*?)@\|(.*?)@\]", re.DOTALL)
_GONE = "\x00"  # stands in for an empty marker side; lines left holding only it are dropped


@dataclass(frozen=True)
class _Task:
    difficulty: str
    goal: str
    fix: str
    code: str
    headers: Sequence[str] = ()


@dataclass(frozen=True)
class _Concept:
    difficulty: str
    topic: str
    correct: str
    wrong: Sequence[str]
    explanation: str


@dataclass(frozen=True)
class _Chapter:
    number: int
    tasks: Sequence[_Task]
    concepts: Sequence[_Concept]


@dataclass(frozen=True)
class _Pools:
    words: Sequence[str]
    sentences: Sequence[str]
    entities: Sequence[Sequence[str]]  # entity, text/numeric field, text/numeric value
    people: Sequence[str]
    animals: Sequence[Sequence[str]]  # class name, sound
    vehicles: Sequence[str]
    word_pairs: Sequence[Sequence[str]]  # anagrams
    files: Sequence[str]
    lights: Sequence[str]


@dataclass(frozen=True)
class _Demo:
    samples: Mapping[str, int]  # per language
    type_weights: Sequence[int]  # in the order of TYPES
    stems: Mapping[str, Sequence[str]]
    pools: _Pools
    chapters: Mapping[str, Sequence[_Chapter]]  # per language, in chapter order


def _read(name: str) -> dict[str, Any]:
    text = resources.files("app.demo").joinpath(name).read_text("utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:  # its message has the line but not the file
        raise ValueError(f"app/demo/{name}: {error}") from None


def _chapter(language: str, number: int, raw: dict[str, Any]) -> _Chapter:
    """One chapter of a language file, with its templates checked."""
    where = f"app/demo/{language}.toml, chapter {number} ({KNOWLEDGE_AREAS[language][number]})"
    try:
        tasks = [_Task(**task) for task in raw.get("task", [])]
        concepts = [_Concept(**concept) for concept in raw.get("concept", [])]
    except TypeError as error:  # a missing or misspelt key
        raise ValueError(f"{where}: {error}") from None
    levels = [task.difficulty for task in tasks] + [c.difficulty for c in concepts]
    problems = [f"unknown difficulty {level!r}" for level in levels if level not in DIFFICULTIES]
    problems += [f"{c.topic!r} needs 3 wrong options" for c in concepts if len(c.wrong) != 3]
    if not (tasks and concepts):
        problems.append("needs at least one task and one concept")
    if problems:
        raise ValueError(f"{where}: {'; '.join(problems)}")
    return _Chapter(number, tasks, concepts)


def _chapters(language: str) -> list[_Chapter]:
    """A language's chapters: exactly the curriculum's, so sample ids and areas line up."""
    raw = _read(f"{language}.toml").get("chapter", [])
    expected = list(range(1, len(KNOWLEDGE_AREAS[language]) + 1))
    numbers = [chapter.get("number") for chapter in raw]
    if numbers != expected:
        raise ValueError(
            f"app/demo/{language}.toml: the curriculum has {len(expected)} {language} chapters, "
            f"so the file must hold chapters numbered 1..{len(expected)} in order, not {numbers}"
        )
    return [_chapter(language, number, chapter) for number, chapter in enumerate(raw, start=1)]


@cache
def _load() -> _Demo:
    """Read and check every data file, once per process."""
    common = _read("common.toml")
    for table, keys in (("samples", LANGUAGES), ("type_weights", TYPES), ("stems", TYPES)):
        if set(common[table]) != set(keys):
            raise ValueError(f"app/demo/common.toml: [{table}] must have exactly {keys}")
    return _Demo(
        samples=common["samples"],
        type_weights=[common["type_weights"][qtype] for qtype in TYPES],
        stems=common["stems"],
        pools=_Pools(**common["pools"]),
        chapters={language: _chapters(language) for language in LANGUAGES},
    )


def _draw_params(rng: random.Random, pools: _Pools) -> dict[str, str]:
    """Draw one set of template parameters (the order of the draws is part of the output)."""
    a, b = rng.sample(range(2, 13), 2)
    c, c2 = rng.sample(range(20, 100), 2)
    n = rng.randint(5, 20)
    size = rng.randint(5, 8)
    values = rng.sample(range(1, 100), size)
    ordered = sorted(values)
    k = rng.randint(1, size - 2)
    i, j = sorted(rng.sample(range(size), 2))
    dup = values + rng.sample(values, 2)
    rng.shuffle(dup)
    word, word2 = rng.sample(pools.words, 2)
    ent, sfield, nfield, sval, nval = rng.choice(pools.entities)
    person, person2, person3 = rng.sample(pools.people, 3)
    animal, sound = rng.choice(pools.animals)
    ana1, ana2 = rng.choice(pools.word_pairs)
    fname = rng.choice(pools.files)
    f1, f2, f3 = (f"{rng.randint(100, 9999) / 10:.1f}" for _ in range(3))
    raw: dict[str, object] = {
        "a": a, "b": b, "c": c, "c2": c2, "over": c + c2, "n": n, "n_plus": n + 1, "n_minus": n - 1,
        "size": size, "size_plus": size + 1, "size_minus": size - 1, "size_bytes": 4 * size,
        "arr_c": "{" + ", ".join(map(str, values)) + "}", "arr_py": str(values),
        "sorted_c": "{" + ", ".join(map(str, ordered)) + "}", "target": rng.choice(ordered),
        "k": k, "k_plus": k + 1, "arr_k": values[k], "arr_k_next": values[k + 1],
        "arr_k_prev": values[k - 1], "arr0_plus_k": values[0] + k,
        "pair_sum": values[i] + values[j], "dup_py": str(dup), "dup_len": len(dup),
        "word": word, "word2": word2,
        "word_len": len(word), "word_len_plus": len(word) + 1, "word_len_minus": len(word) - 1,
        "word_first": word[0], "word_second": word[1], "word_last": word[-1],
        "ent": ent, "Ent": ent.capitalize(), "sfield": sfield, "nfield": nfield,
        "sval": sval, "nval": nval, "f1": f1, "f2": f2, "f3": f3,
        "person": person, "person2": person2, "person3": person3,
        "Animal": animal, "sound": sound, "Vehicle": rng.choice(pools.vehicles),
        "ana1": ana1, "ana2": ana2, "fname": fname, "bname": fname.replace(".txt", ".bin"),
        "csvname": f"{ent}s.csv", "jsonname": f"{ent}.json",
        "sentence": rng.choice(pools.sentences),
        "num": rng.randint(100, 99999), "year": rng.randint(1900, 2100),
        "temp": rng.randint(-20, 45), "radius": rng.randint(2, 15), "dim": rng.randint(3, 6),
        "light": rng.choice(pools.lights),
        "salary": rng.randint(30, 120) * 1000, "bonus": rng.randint(2, 20) * 500,
        "div_ab": a // b, "mod_ab": a % b, "fdiv_ab": f"{a / b:.2f}",
        "tern": a - b if a > b else a + b, "tern_other": a + b if a > b else a - b,
        "sq_bug": 2 * a + 1, "sq_ok": (a + 1) ** 2, "a_sq1": a * a + 1,
    }  # fmt: skip
    return {key: str(value) for key, value in raw.items()}


def _fill(text: str, params: dict[str, str]) -> str:
    # substitute(), not safe_substitute(): a placeholder without a parameter is a template bug.
    return Template(text).substitute(params)


def _resolve(code: str, fixed: bool) -> str:
    """Pick the buggy or the fixed side of every ``@[buggy@|fixed@]`` marker."""
    text = _MARKER.sub(lambda match: match.group(2 if fixed else 1) or _GONE, code.strip("\n"))
    lines = [line for line in text.split("\n") if line.strip() != _GONE]
    return "\n".join(lines).replace(_GONE, "")


def _render_code(language: str, task: _Task, params: dict[str, str], fixed: bool) -> str:
    """The complete source of a task, buggy or fixed."""
    code = _fill(_resolve(task.code, fixed), params)
    if language == "python":
        return code
    top, sep, body = code.partition("\n---\n")
    if not sep:
        top, body = "", code
    if language == "c":
        headers, preamble, main = ["stdio.h"], [], "int main(void) {"
    else:
        headers, preamble, main = ["iostream"], ["using namespace std;"], "int main() {"
    headers += task.headers
    parts = ["\n".join(f"#include <{header}>" for header in headers), *preamble]
    if top:
        parts.append(top)
    body_lines = [f"    {line}" if line else "" for line in body.split("\n")]
    parts.append("\n".join([main, *body_lines, "    return 0;", "}"]))
    return "\n\n".join(parts)


def _build(
    rng: random.Random, demo: _Demo, language: str, chapter: _Chapter, qtype: str
) -> tuple[str, str, str] | None:
    """One candidate (question, answer, base difficulty); None if the draw is unusable."""
    params = _draw_params(rng, demo.pools)
    lang = LANGUAGE_NAMES[language]
    if qtype in ("program", "debug"):
        task = rng.choice(chapter.tasks)
        goal = _fill(task.goal, params)
        solution = _render_code(language, task, params, fixed=True)
        stem = rng.choice(demo.stems[qtype]).format(lang=lang, goal=goal)
        if qtype == "program":
            return stem, solution, task.difficulty
        buggy = _render_code(language, task, params, fixed=False)
        answer = f"{solution}\n\nFix: {_fill(task.fix, params)}"
        return f"{stem}\n\n{buggy}", answer, task.difficulty
    concept = rng.choice(chapter.concepts)
    topic = _fill(concept.topic, params)
    explanation = _fill(concept.explanation, params)
    if qtype == "theory":
        question = rng.choice(demo.stems["theory"]).format(lang=lang, topic=topic)
        return question, explanation, concept.difficulty
    correct = _fill(concept.correct, params)
    options = [correct, *(_fill(wrong, params) for wrong in concept.wrong)]
    if len(set(options)) != len(options):  # parameters can make two options read the same
        return None
    rng.shuffle(options)
    letters = "ABCD"
    stem = rng.choice(demo.stems["mcq"]).format(lang=lang, topic=topic)
    labelled = zip(letters, options, strict=True)
    lines = [stem, *(f"{letter}) {option}" for letter, option in labelled)]
    answer = f"{letters[options.index(correct)]}) {correct} \u2014 {explanation}"
    return "\n".join(lines), answer, concept.difficulty


def _jitter(rng: random.Random, difficulty: str) -> str:
    """Usually the template's difficulty, sometimes one level easier or harder."""
    roll = rng.random()
    index = DIFFICULTIES.index(difficulty) + (-1 if roll < 0.15 else 1 if roll < 0.30 else 0)
    return DIFFICULTIES[min(max(index, 0), len(DIFFICULTIES) - 1)]


def _chapter_sizes(rng: random.Random, chapters: int, total: int) -> list[int]:
    """Split ``total`` over ``chapters``: roughly even, with a little deterministic jitter."""
    base = total // chapters
    spread = max(base // 8, 0)
    sizes = [base + rng.randint(-spread, spread) for _ in range(chapters)]
    diff = total - sum(sizes)
    for index in range(abs(diff)):
        sizes[index % chapters] += 1 if diff > 0 else -1
    return sizes


def _make_sample(
    rng: random.Random, demo: _Demo, language: str, chapter: _Chapter, seen: set[str]
) -> dict[str, object]:
    """A sample's type, difficulty, question and answer, avoiding questions in ``seen``."""
    qtype = rng.choices(TYPES, weights=demo.type_weights)[0]
    for attempt in range(1, 10 * _MAX_ATTEMPTS + 1):
        built = _build(rng, demo, language, chapter, qtype)
        # After _MAX_ATTEMPTS a repeated question is accepted rather than looping on.
        if built is not None and (built[0] not in seen or attempt >= _MAX_ATTEMPTS):
            break
    else:
        area = KNOWLEDGE_AREAS[language][chapter.number]
        raise RuntimeError(f"cannot build a {qtype} sample for {language}/{area}")
    question, answer, difficulty = built
    seen.add(question)
    difficulty = _jitter(rng, difficulty)
    return {"type": qtype, "difficulty": difficulty, "question": question, "answer": answer}


def generate_samples(seed: int = 42) -> list[dict[str, object]]:
    """Return the 5,000 demo samples, deterministic for a given seed.

    Each sample is a dict with exactly the pre-migration keys ``sample_id``, ``chapter``,
    ``type``, ``difficulty``, ``question`` and ``answer``. Sample ids look like
    ``c_ch6_q_000123``: the language prefix, the chapter, and a per-language running
    counter starting at 1. Only a private ``random.Random(seed)`` is used, so the output
    is identical across runs and processes.
    """
    demo = _load()
    rng = random.Random(seed)
    samples: list[dict[str, object]] = []
    for language in LANGUAGES:
        chapters, prefix, counter = demo.chapters[language], _ID_PREFIXES[language], count(1)
        seen: set[str] = set()
        sizes = _chapter_sizes(rng, len(chapters), demo.samples[language])
        for chapter, size in zip(chapters, sizes, strict=True):
            for _ in range(size):
                sample_id = f"{prefix}_ch{chapter.number}_q_{next(counter):06d}"
                sample = _make_sample(rng, demo, language, chapter, seen)
                samples.append({"sample_id": sample_id, "chapter": chapter.number, **sample})
    return samples

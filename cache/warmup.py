"""Warm-up: fill the catalog cache for every language and preload students' read sets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

from tqdm import tqdm


async def warm_catalog(languages: Iterable[str], load: Callable[[str], Awaitable[object]]) -> int:
    """Run ``load`` (a read-through call) for each language; return how many."""
    count = 0
    for language in languages:
        await load(language)
        count += 1
    return count


async def warm_students(
    pairs: Sequence[tuple[str, str]],
    load: Callable[[str, str], Awaitable[object]],
    *,
    show_progress: bool = True,
) -> int:
    """Preload the read set of each (student, language); return how many."""
    for student, language in tqdm(
        pairs, unit="set", desc="progress sets", disable=not show_progress
    ):
        await load(student, language)
    return len(pairs)

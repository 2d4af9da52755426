"""The events of a batch of visits, built inside the batch's transaction from what it read
back: each visit's totals are the batch's final ones less what the same student's later
visits in the batch added, so every event carries the totals right after its own visit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from app.events.schema import Event, Totals, new_id, visit_events
from app.timefmt import iso
from app.training.queries.reads import VisitWrite, points_of


def batch_totals(
    visits: Sequence[VisitWrite],
    firsts: Mapping[int, bool],
    written: Sequence[int],
    stats: Mapping[str, dict[str, Any]],
) -> dict[int, Totals]:
    """Per written visit (index into ``visits``, in batch order), the student's totals
    right after it. ``stats``: each student's stats document as the batch left it (total
    points and per language read and points; ``students.points_and_prefs``)."""
    later_points: Counter[str] = Counter()
    later_read: Counter[tuple[str, str]] = Counter()
    later_lang_points: Counter[tuple[str, str]] = Counter()
    out: dict[int, Totals] = {}
    for i in reversed(written):
        visit = visits[i]
        lang = str(visit.sample["language"])
        doc = stats.get(visit.student) or {}
        kept = (doc.get("languages") or {}).get(lang) or {}
        key = (visit.student, lang)
        out[i] = {
            "total_points": int(doc.get("total_points", 0)) - later_points[visit.student],
            "language_read": int(kept.get("read", 0)) - later_read[key],
            "language_points": int(kept.get("points", 0)) - later_lang_points[key],
        }
        if firsts[i]:
            later_points[visit.student] += points_of(visit)
            later_read[key] += 1
            later_lang_points[key] += points_of(visit)
    return out


def revisited_pairs(
    visits: Sequence[VisitWrite], firsts: Mapping[int, bool], written: Sequence[int]
) -> set[tuple[str, str]]:
    """The (student, sample) pairs whose visit count has to be read back: those revisited.
    Any other was first read once in this batch, so its count is 1."""
    return {(visits[i].student, visits[i].sample["sample_id"]) for i in written if not firsts[i]}


def batch_events(
    visits: Sequence[VisitWrite],
    firsts: Mapping[int, bool],
    totals: Mapping[int, Totals],
    visit_counts: Mapping[tuple[str, str], int],
) -> dict[str, Any]:
    """The outbox document of a batch: ``{_id, events}``, the events of the written visits
    (the keys of ``totals``) in batch order. ``visit_counts``: visits of each revisited
    pair as the batch left them."""
    batch_id = new_id()  # first, so it sorts before the next batch's, as its events do
    written = sorted(totals)
    later: Counter[tuple[str, str]] = Counter()
    counts: dict[int, int] = {}
    for i in reversed(written):
        pair = (visits[i].student, visits[i].sample["sample_id"])
        counts[i] = visit_counts.get(pair, 1) - later[pair]
        later[pair] += 1
    events: list[Event] = []
    for i in written:  # ids are made in this order, so they sort in the batch's order
        visit = visits[i]
        events += visit_events(
            student=visit.student,
            sample_id=str(visit.sample["sample_id"]),
            language=str(visit.sample["language"]),
            first_read=firsts[i],
            points=points_of(visit) if firsts[i] else 0,
            totals=totals[i],
            revisited_count=counts[i],
            time_spent=visit.time_spent,
            at=iso(visit.now),
        )
    return {"_id": batch_id, "events": events}

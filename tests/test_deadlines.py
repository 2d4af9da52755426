"""A connection's deadlines on one timer: each action runs once its deadline has passed,
never before it, never after it was cleared."""

from __future__ import annotations

import asyncio

from app.deadlines import Deadlines


def _recording(loop: asyncio.AbstractEventLoop) -> tuple[Deadlines, list[tuple[str, float]]]:
    ran: list[tuple[str, float]] = []
    deadlines = Deadlines(
        loop,
        {
            "headers": lambda: ran.append(("headers", loop.time())),
            "request": lambda: ran.append(("request", loop.time())),
        },
    )
    return deadlines, ran


async def test_each_action_runs_once_its_deadline_has_passed() -> None:
    loop = asyncio.get_running_loop()
    deadlines, ran = _recording(loop)
    start = loop.time()
    deadlines.set("request", 0.06)
    deadlines.set("headers", 0.02)  # earlier than the timer's wake: it wakes earlier
    await asyncio.sleep(0.12)
    assert [name for name, _ in ran] == ["headers", "request"]
    assert ran[0][1] >= start + 0.02 and ran[1][1] >= start + 0.06
    assert not deadlines.is_set("headers") and not deadlines.is_set("request")


async def test_a_cleared_or_moved_deadline_is_not_acted_on_at_its_old_time() -> None:
    loop = asyncio.get_running_loop()
    deadlines, ran = _recording(loop)
    deadlines.set("headers", 0.02)
    deadlines.set("request", 0.02)
    deadlines.clear("headers")
    moved_at = loop.time()
    deadlines.set("request", 0.08)  # later: the timer wakes for nothing, then sleeps on
    await asyncio.sleep(0.04)
    assert ran == []
    await asyncio.sleep(0.08)
    assert [name for name, _ in ran] == ["request"] and ran[0][1] >= moved_at + 0.08


async def test_an_action_may_set_and_clear_deadlines_and_close_stops_everything() -> None:
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    deadlines: Deadlines

    def headers() -> None:
        ran.append("headers")
        deadlines.clear("request")  # what a refusal does: both deadlines go
        deadlines.set("headers", 0.02)  # and the next request's clock starts

    deadlines = Deadlines(loop, {"headers": headers, "request": lambda: ran.append("request")})
    deadlines.set("headers", 0.01)
    deadlines.set("request", 0.01)
    await asyncio.sleep(0.05)
    assert ran[:2] == ["headers", "headers"] and "request" not in ran
    deadlines.close()
    count = len(ran)
    await asyncio.sleep(0.05)
    assert len(ran) == count and not deadlines.is_set("headers")


async def test_a_deadline_set_by_an_action_does_not_delay_an_earlier_one() -> None:
    loop = asyncio.get_running_loop()
    ran: list[tuple[str, float]] = []
    deadlines: Deadlines

    def headers() -> None:
        ran.append(("headers", loop.time()))
        deadlines.set("headers", 0.5)  # far later than the request's deadline

    deadlines = Deadlines(
        loop, {"headers": headers, "request": lambda: ran.append(("request", loop.time()))}
    )
    start = loop.time()
    deadlines.set("headers", 0.01)
    deadlines.set("request", 0.05)
    await asyncio.sleep(0.2)
    assert [name for name, _ in ran] == ["headers", "request"]
    assert start + 0.05 <= ran[1][1] < start + 0.4  # at its own time, not the new headers'
    deadlines.close()

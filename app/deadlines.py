"""A connection's deadlines, watched by one timer.

The protocol (``app.protocol``) keeps two deadlines per connection, for a request's headers
and for the whole request, set and cleared on every request. A timer made and cancelled for
each (two ``call_later`` and two ``cancel`` per request) was about 3% of a cached page's
worker time. Here setting or clearing a deadline is a dict operation; one timer per
connection wakes at the earliest deadline set, runs the actions of those that have passed,
and sleeps until the next. A cleared deadline is never acted on, and none is acted on
before its time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping


class Deadlines:
    """Named deadlines (loop time) with an action each, run once a deadline has passed."""

    def __init__(self, loop: asyncio.AbstractEventLoop, actions: Mapping[str, Callable[[], None]]):
        self._loop = loop
        self._actions = actions
        self._due: dict[str, float] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._wake = 0.0  # when the timer fires

    def is_set(self, name: str) -> bool:
        """Whether ``name`` is due some time."""
        return name in self._due

    def set(self, name: str, seconds: float) -> None:
        """``name`` is due ``seconds`` from now (replacing any earlier setting)."""
        due = self._loop.time() + seconds
        self._due[name] = due
        if self._timer is None or due < self._wake:
            self._arm(due)

    def clear(self, name: str) -> None:
        """``name`` is no longer due (the timer, if it wakes for nothing, just sleeps on)."""
        self._due.pop(name, None)

    def close(self) -> None:
        """Clear every deadline and stop the timer."""
        self._due.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._wake = when
        self._timer = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer = None
        now = self._loop.time()
        for name in [n for n, due in self._due.items() if due <= now]:
            # An earlier action may have cleared or moved this one.
            if name in self._due and self._due[name] <= now:
                del self._due[name]
                self._actions[name]()
        # An action may have set a deadline (arming the timer for it); wake for the
        # earliest of all that remain.
        if self._due:
            first = min(self._due.values())
            if self._timer is None or first < self._wake:
                self._arm(first)

"""The Learning Record Store's statements resource, over HTTP (httpx).

``post`` sends a batch as one JSON array (xAPI 1.0.3, ``POST <endpoint>/statements``) and
says what became of it: ``STORED`` (200: stored; 204: every one was there already, the
LRS deduping by statement id), ``REFUSED`` (400, 409, 413, 422: the LRS will never take
this batch as it is, so the caller splits it to find the statement at fault) or
``AWAY`` (no answer, a timeout, 5xx, 429, and also 401/403/404: a wrong password or URL
is the operator's to fix, and the stream keeps the backlog until they have).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import httpx
import orjson

from app.settings import Settings

XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
T = TypeVar("T")
# A batch (or one statement) the LRS answers with these will not be stored by resending it.
REFUSING = frozenset({400, 409, 413, 422})


class Outcome(Enum):
    """What became of a POST."""

    STORED = "stored"
    REFUSED = "refused"
    AWAY = "away"


@dataclass(frozen=True, slots=True)
class Answer:
    """The LRS's answer to one POST: the outcome, the status (0: none) and why."""

    outcome: Outcome
    status: int
    reason: str


class LrsAway(Exception):
    """The LRS did not store a batch and may later: keep it, try again."""

    def __init__(self, answer: Answer, statements: int) -> None:
        super().__init__(f"{answer.status or 'no answer'}: {answer.reason}")
        self.answer = answer
        self.statements = statements


class LrsClient:
    """POSTs statements to one LRS endpoint with HTTP basic auth."""

    def __init__(self, endpoint: str, *, user: str, password: str, timeout: float = 10.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.http = httpx.AsyncClient(
            auth=httpx.BasicAuth(user, password) if user else None,
            headers=XAPI_HEADERS,
            timeout=timeout,
        )

    @classmethod
    def of(cls, settings: Settings) -> LrsClient:
        """The client ``XAPI_LRS_*`` name (``XAPI_LRS_URL`` must be set)."""
        if settings.xapi_lrs_url is None:
            raise ValueError("XAPI_LRS_URL is not set")
        return cls(
            settings.xapi_lrs_url,
            user=settings.xapi_lrs_user,
            password=settings.xapi_lrs_password.get_secret_value(),
            timeout=settings.xapi_timeout,
        )

    @property
    def statements_url(self) -> str:
        """The statements resource."""
        return f"{self.endpoint}/statements"

    async def post(self, statements: Sequence[dict[str, Any]]) -> Answer:
        """POST ``statements`` as one array; what became of them."""
        try:
            res = await self.http.post(self.statements_url, content=orjson.dumps(statements))
        except httpx.HTTPError as exc:
            return Answer(Outcome.AWAY, 0, f"{type(exc).__name__}: {exc}"[:300])
        if res.status_code in (200, 204):
            return Answer(Outcome.STORED, res.status_code, "")
        reason = _detail(res)
        if res.status_code in REFUSING:
            return Answer(Outcome.REFUSED, res.status_code, reason)
        return Answer(Outcome.AWAY, res.status_code, reason)

    async def store(
        self,
        items: Sequence[T],
        statement: Callable[[T], dict[str, Any]],
        done: Callable[[Sequence[T], Answer], Awaitable[None]],
    ) -> None:
        """POST the statements of ``items`` as one batch and call ``done`` with the items
        and the answer once stored (STORED) or, for an item the LRS refuses on its own,
        refused (REFUSED): a refused batch is split in halves until the statement at
        fault is alone, so one bad statement never holds the others back. Raises LrsAway
        while the LRS is away (what was done before stays done)."""
        if not items:
            return
        answer = await self.post([statement(item) for item in items])
        if answer.outcome is Outcome.AWAY:
            raise LrsAway(answer, len(items))
        if answer.outcome is Outcome.REFUSED and len(items) > 1:
            half = len(items) // 2
            await self.store(items[:half], statement, done)
            await self.store(items[half:], statement, done)
            return
        await done(items, answer)

    async def close(self) -> None:
        """Close the connections."""
        await self.http.aclose()


def _detail(res: httpx.Response) -> str:
    """The LRS's reason, short: a JSON ``detail`` when it gives one, else the body."""
    try:
        body = res.json()
    except ValueError:
        return res.text[:500]
    detail = body.get("detail") if isinstance(body, dict) else None
    text = detail if isinstance(detail, str) else orjson.dumps(detail or body).decode()
    return text[:500]

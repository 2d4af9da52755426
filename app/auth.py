"""Client-bound JWT auth: HS256 bearer tokens whose ``cid`` must match ``X-Client-Id``.

Tokens are minted and verified here; the request dependency is ``app.deps.current_student``.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

import jwt
from cachetools import LRUCache

from app.errors import NotAuthenticated

ALGORITHM = "HS256"  # pinned: "none" and every other algorithm are refused
REQUIRED_CLAIMS = ("sub", "exp", "cid")
# Student ids become Redis keys inside a {hash tag}: no braces, no spaces, bounded. \A…\Z
# (not ^…$, whose $ also matches before a final newline: "S1\n" would be a second student).
STUDENT_ID = re.compile(r"\A[A-Za-z0-9_.\-]{1,64}\Z")
# Ids starting with two underscores are the service's own: Redis structures keep internal
# members beside student ids (the boards' ``__loaded__`` sentinel), and a student who was
# one of them would read and move it.
RESERVED_ID_PREFIX = "__"
# Client ids are compared with a header and may reach logs: bounded, printable, no spaces.
CLIENT_ID = re.compile(r"\A[A-Za-z0-9_.:\-]{1,64}\Z")
TIME_CLAIMS = ("exp", "nbf", "iat")
DEFAULT_MAX_LIFETIME = 24 * 3600
QUERY_TOKEN_NAMES = ("token", "access_token", "jwt", "authorization")


@dataclass(frozen=True, slots=True)
class Student:
    """The verified caller."""

    id: str
    client_id: str


def is_reserved_id(student: str) -> bool:
    """Whether ``student`` is in the ids kept for internal members (``__…``)."""
    return student.startswith(RESERVED_ID_PREFIX)


def mint_token(secret: str, *, sub: str, client_id: str, ttl: int = 3600) -> str:
    """A signed token for ``sub`` bound to ``client_id``, valid ``ttl`` seconds."""
    now = int(time.time())
    claims = {"sub": sub, "cid": client_id, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _check_claims(claims: dict[str, object], max_lifetime: float) -> None:
    """Time claims are plain JSON numbers, the token lives at most ``max_lifetime`` seconds,
    and it is valid now; NotAuthenticated otherwise. Runs on every use of a token, from the
    memo too: only the clock changes between uses, and a check that depends on a claim's
    type must never be skipped for a remembered token."""
    now = time.time()
    for name in TIME_CLAIMS:
        value = claims.get(name)
        # bool is an int subclass, and PyJWT itself casts "123" with int(): refuse both.
        if name in claims and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise NotAuthenticated(f"token '{name}' must be a number (seconds since the epoch)")
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise NotAuthenticated("token is missing the 'exp' claim")
    iat, nbf = claims.get("iat"), claims.get("nbf")
    if exp - now > max_lifetime or (isinstance(iat, int | float) and exp - iat > max_lifetime):
        raise NotAuthenticated(f"token lifetime exceeds the maximum of {int(max_lifetime)} s")
    if exp <= now:
        raise NotAuthenticated("token expired")
    if isinstance(nbf, int | float) and nbf > now:
        raise NotAuthenticated("token not yet valid")


class TokenVerifier:
    """Verifies tokens with one key, remembering tokens whose signature already checked out.

    A token's signature and claims never change, so the memo holds no state that another
    worker could change; every claim check but the signature's runs again on every use
    (the clock moves). Only tokens that passed them all are remembered. It saves
    the HMAC and base64 work that dominated auth on the hot path.
    """

    def __init__(
        self, secret: str, *, max_lifetime: float = DEFAULT_MAX_LIFETIME, maxsize: int = 50_000
    ) -> None:
        self.secret = secret
        self.max_lifetime = max_lifetime
        self.verified: LRUCache[str, dict[str, object]] = LRUCache(maxsize=maxsize)

    def claims(self, token: str) -> dict[str, object]:
        """The verified claims of ``token``; NotAuthenticated when it does not verify."""
        remembered = self.verified.get(token)
        claims = decode_token(token, self.secret) if remembered is None else remembered
        # Every use, remembered or not: the memo only saves the signature check.
        _check_claims(claims, self.max_lifetime)
        if remembered is None:
            self.verified[token] = claims
        return claims


def decode_token(token: str, secret: str) -> dict[str, object]:
    """Verify signature, algorithm and required claims; raise NotAuthenticated otherwise."""
    try:
        claims: dict[str, object] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": list(REQUIRED_CLAIMS)}
        )
    except jwt.InvalidAlgorithmError:
        raise NotAuthenticated(f"token algorithm must be {ALGORITHM}") from None
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("token expired") from None
    except jwt.ImmatureSignatureError:
        raise NotAuthenticated("token not yet valid") from None
    except jwt.MissingRequiredClaimError as exc:
        raise NotAuthenticated(f"token is missing the '{exc.claim}' claim") from None
    except jwt.InvalidSignatureError:
        raise NotAuthenticated("token signature is invalid") from None
    except jwt.PyJWTError:
        raise NotAuthenticated("malformed token") from None
    return claims


def authenticate(
    tokens: TokenVerifier,
    *,
    query_names: Iterable[str],
    token: str | None,
    x_client_id: str | None,
) -> Student:
    """The student a request acts for, from its query parameter names, bearer token and
    ``X-Client-Id``; NotAuthenticated (401) unless token and client id both check out."""
    if any(name in QUERY_TOKEN_NAMES for name in query_names):
        raise NotAuthenticated("tokens are not accepted in the query string; use Authorization")
    if token is None:
        raise NotAuthenticated("missing Authorization: Bearer <token> header")
    claims = tokens.claims(token)
    sub, cid = claims.get("sub"), claims.get("cid")
    if not isinstance(sub, str) or not STUDENT_ID.fullmatch(sub):
        raise NotAuthenticated("token 'sub' is not a valid student id")
    if is_reserved_id(sub):
        raise NotAuthenticated(
            f"token 'sub' is a reserved id (ids starting with {RESERVED_ID_PREFIX!r} are the "
            "service's own)"
        )
    if not isinstance(cid, str) or not CLIENT_ID.fullmatch(cid):
        raise NotAuthenticated(
            "token 'cid' is not a valid client id (1-64 letters, digits, '_', '.', ':', '-')"
        )
    if x_client_id is None:
        raise NotAuthenticated("missing X-Client-Id header")
    if x_client_id != cid:
        raise NotAuthenticated("X-Client-Id does not match the token's client")
    return Student(id=sub, client_id=cid)


def auth_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """The ``Authorization`` and ``X-Client-Id`` values of a request's raw (ASGI) headers;
    NotAuthenticated when either is sent more than once. Which copy counted used to depend on
    the code path (the lean path took the last, FastAPI the first): now neither does."""
    authorization = x_client_id = None
    for name, value in headers:
        if name == b"authorization":
            if authorization is not None:
                raise NotAuthenticated("send the Authorization header once, not several times")
            authorization = value.decode("latin-1")
        elif name == b"x-client-id":
            if x_client_id is not None:
                raise NotAuthenticated("send the X-Client-Id header once, not several times")
            x_client_id = value.decode("latin-1")
    return authorization, x_client_id


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (HTTPBearer's parsing)."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def refusal_without_client_id(
    tokens: TokenVerifier, *, query_names: Iterable[str], authorization: str | None
) -> NotAuthenticated:
    """The 401 ``authenticate`` gives a request that sent no ``X-Client-Id``: its checks run
    in their usual order, so a refused token is still named before the missing header."""
    try:
        authenticate(
            tokens, query_names=query_names, token=bearer_token(authorization), x_client_id=None
        )
    except NotAuthenticated as exc:
        return exc
    raise AssertionError("authenticate accepted a request without X-Client-Id")

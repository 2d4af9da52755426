"""Client-bound JWT auth: HS256 bearer tokens whose ``cid`` must match ``X-Client-Id``.

Tokens are minted and verified here; the request dependency is ``app.deps.current_student``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

import jwt
from cachetools import LRUCache

from app.errors import NotAuthenticated

ALGORITHM = "HS256"  # pinned: "none" and every other algorithm are refused
REQUIRED_CLAIMS = ("sub", "exp", "cid")
# Student ids become Redis keys inside a {hash tag}: no braces, no spaces, bounded.
STUDENT_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
QUERY_TOKEN_NAMES = ("token", "access_token", "jwt", "authorization")


@dataclass(frozen=True, slots=True)
class Student:
    """The verified caller."""

    id: str
    client_id: str


def mint_token(secret: str, *, sub: str, client_id: str, ttl: int = 3600) -> str:
    """A signed token for ``sub`` bound to ``client_id``, valid ``ttl`` seconds."""
    now = int(time.time())
    claims = {"sub": sub, "cid": client_id, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _check_times(claims: dict[str, object]) -> None:
    now = time.time()
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if isinstance(exp, int | float) and exp <= now:
        raise NotAuthenticated("token expired")
    if isinstance(nbf, int | float) and nbf > now:
        raise NotAuthenticated("token not yet valid")


class TokenVerifier:
    """Verifies tokens with one key, remembering tokens whose signature already checked out.

    A token's signature and claims never change, so the memo holds no state that another
    worker could change; only the clock is re-read (``exp``/``nbf``) on every use. It saves
    the HMAC and base64 work that dominated auth on the hot path.
    """

    def __init__(self, secret: str, *, maxsize: int = 50_000) -> None:
        self.secret = secret
        self.verified: LRUCache[str, dict[str, object]] = LRUCache(maxsize=maxsize)

    def claims(self, token: str) -> dict[str, object]:
        """The verified claims of ``token``; NotAuthenticated when it does not verify."""
        claims = self.verified.get(token)
        if claims is None:
            claims = decode_token(token, self.secret)
            self.verified[token] = claims
        else:
            _check_times(claims)
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
    if not isinstance(sub, str) or not STUDENT_ID.match(sub):
        raise NotAuthenticated("token 'sub' is not a valid student id")
    if not isinstance(cid, str) or not cid:
        raise NotAuthenticated("token 'cid' is not a valid client id")
    if x_client_id is None:
        raise NotAuthenticated("missing X-Client-Id header")
    if x_client_id != cid:
        raise NotAuthenticated("X-Client-Id does not match the token's client")
    return Student(id=sub, client_id=cid)


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

"""Service settings, read from environment variables only (pydantic-settings)."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Only ever used in development; production refuses to start with it.
DEV_JWT_SECRET = "lumetrix-development-secret-change-me-0000"


class Settings(BaseSettings):
    """All configuration of the service; every field maps to an env var of the same name."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    mongodb_url: str | None = Field(default=None, description="Unset: embedded SecantusDB.")
    mongodb_db: str = "lumetrix"
    redis_url: str | None = Field(default=None, description="Unset: in-process fakeredis.")
    redis_cluster: bool = Field(
        default=False,
        description="REDIS_URL names a node of a Redis Cluster; the client finds the others.",
    )
    jwt_secret: str = DEV_JWT_SECRET
    max_token_lifetime: int = Field(
        default=24 * 3600,
        ge=60,
        description="Longest token lifetime accepted (exp - iat, or exp - now without iat), s.",
    )
    pseudonym_key: str | None = Field(
        default=None,
        description="Key of the leaderboard pseudonyms (HMAC-SHA256 of the student id); "
        "unset: derived from JWT_SECRET.",
    )
    data_dir: Path = Path("./.lumetrix")
    lumetrix_env: Literal["development", "test", "production"] = "development"
    # "off" makes every request read MongoDB (the benchmark's uncached baseline).
    lumetrix_cache: Literal["on", "off"] = "on"
    catalog_l1_ttl: float = Field(default=300.0, ge=0, description="In-process catalog TTL, s.")
    catalog_version_ttl: float = Field(
        default=1.0, ge=0, description="How long a worker trusts its copy of the catalog version."
    )
    progress_ttl: int = Field(default=7 * 24 * 3600, ge=60, description="Progress-set TTL, s.")
    redis_timeout: float = Field(default=0.1, gt=0, description="Redis socket timeout, s.")
    redis_retry_after: float = Field(
        # 0.5 s: a probe is one connection attempt, and every second the breaker stays open
        # after Redis is back sends the pages to MongoDB (make deploybench).
        default=0.5,
        ge=0,
        description="Longest pause between probes of a failed Redis, s.",
    )
    redis_prefix: str = Field(default="lmx:", description="Prefix of every Redis key.")
    redis_repair_max: int = Field(
        default=10_000,
        ge=0,
        description="Cache repairs a worker remembers while Redis is away; past it, every "
        "per-student cache reloads once Redis is back.",
    )
    redis_repair_lookback: float = Field(
        # 0: a Redis that comes back keeps what it acknowledged, or comes back empty.
        # docker-compose's Redis fsyncs its append-only file once a second: 1 there.
        default=0.0,
        ge=0,
        description="Write-throughs this long before a Redis failure are repaired too (a Redis "
        "restarted from its append-only file or a promoted replica may lack them), s.",
    )
    mark_read_rate: int = Field(
        default=20, ge=0, description="mark-read calls allowed per student per window; 0 = off."
    )
    mark_read_window: float = Field(default=1.0, gt=0, description="Rate-limit window, s.")
    mark_read_batch_window: float = Field(
        default=0.002,
        ge=0,
        description="How long a worker gathers concurrent mark-reads into one write, s.",
    )
    mark_read_batch_max: int = Field(
        default=64, ge=1, description="Most mark-reads written as one batch."
    )
    writer_stale_after: float = Field(
        default=10.0,
        gt=0,
        description="A worker whose heartbeat is older than this is dead: its open "
        "transactions are aborted, s.",
    )
    streak_min_reads: int = Field(
        default=1, ge=1, description="First reads a day needs to count towards a streak."
    )
    lean_path: bool = Field(
        default=True,
        description="The hot GET routes skip FastAPI's dependency solving (same answers).",
    )
    access_log: bool = Field(default=True, description="One JSON log line per request.")
    otel_telemetry: bool = Field(
        default=False,
        description="FastAPI's own OpenTelemetry spans, metrics and logs, when an OpenTelemetry "
        "provider is configured; off, the service's Prometheus metrics and JSON logs only.",
    )
    warm_on_start: bool = Field(default=True, description="Load catalog caches at start-up.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API, comma-separated exact origins "
        "(scheme://host[:port]); empty: no CORS headers at all.",
    )
    compression: bool = Field(
        default=True, description="Compress answers (zstd, br or gzip, as the client asks)."
    )
    compress_min_size: int = Field(
        default=1024, ge=0, description="Answers smaller than this many bytes go uncompressed."
    )
    mongo_timeout_ms: int = Field(
        default=1000, ge=100, description="MongoDB server-selection / connect timeout, ms."
    )
    mongo_max_in_flight: int = Field(
        default=8, ge=2, description="MongoDB operations a worker has in flight at most."
    )
    mongo_queue_timeout_ms: int = Field(
        # 50 ms: at 200 connections on the embedded database, p99 of every answer (200 or
        # 503) was 828 ms with it against 1,054 ms with 100 ms (make bench, one worker).
        # Nor is it what sheds the uncached page at 50 connections: the embedded database
        # serves about 6-8 of those a second (~150 ms of its CPU each), so 50 clients need
        # seconds of queueing; 250 ms and 1,000 ms still shed 96% and 71% of them, with p99
        # 3.3 s and 5.3 s against 2.3 s (one run, shared machine, issue 23).
        default=50,
        ge=1,
        description="How long an operation waits for a free slot before a 503, ms.",
    )
    mongo_load_wait_ms: int = Field(
        # A load serves every later request of its student, so it may queue far longer
        # than a one-off query: cold caches wait instead of being shed. 2 s: one of 5,000
        # loads outlasted 1 s while a whole Redis refilled (make deploybench).
        default=2000,
        ge=1,
        description="How long a read-set or progress-view load from MongoDB may wait for its "
        "turn (loads use all but two of the worker's MONGO_MAX_IN_FLIGHT slots) and run "
        "before a 503, ms.",
    )
    shutdown_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Longest a worker's shutdown (after its requests) may take; past it, "
        "what is still running is left behind and logged, s.",
    )
    embedded_start_timeout: float = Field(
        default=60.0, gt=0, description="How long the embedded database may take to start, s."
    )
    command_redis_timeout: float = Field(
        default=2.0,
        gt=0,
        description="Redis socket timeout of command-line work (bulk loads, deletes), s.",
    )
    max_body_bytes: int = Field(
        default=16384, ge=1, description="Largest request body accepted; larger: 413."
    )
    body_timeout: float = Field(
        default=10.0, gt=0, description="Longest wait for the next piece of a request body, s."
    )
    max_header_bytes: int = Field(
        default=16384,
        ge=1024,
        description="Largest request line plus headers accepted (lumetrix serve/dev); larger: 431.",
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="How long a connection may take to send a request's headers (serve/dev), s.",
    )
    request_timeout: float = Field(
        default=30.0,
        gt=0,
        description="How long a request's headers and body together may take to arrive, "
        "counted from its first byte (serve/dev), s; then 408.",
    )
    keep_alive_timeout: int = Field(
        default=5, ge=1, description="Idle keep-alive connections are closed after this, s."
    )
    max_concurrency: int = Field(
        default=1000,
        ge=1,
        description="Requests served at once per worker, counted once their headers and body "
        "have arrived; past it a 503 service_unavailable with Retry-After.",
    )

    # --- progress events (app/events): the outbox each mark-read transaction writes is
    # streamed to Redis by one publisher among all workers and machines (a lease in
    # MongoDB), at least once; consumers dedupe by event_id. ---------------------------
    events_publisher: bool = Field(
        default=True,
        description="Run the event publisher in every serving worker (only the lease holder "
        "publishes); false: leave it to `lumetrix events publish`.",
    )
    events_lease_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a publisher's lease lasts unrenewed (renewed every third of "
        "it): after a publisher dies, another takes over within this, s.",
    )
    events_batch: int = Field(
        default=500, ge=1, le=10_000, description="Outbox events streamed per round trip."
    )
    events_poll_interval: float = Field(
        default=0.2, gt=0, description="How often an idle publisher looks at the outbox, s."
    )
    events_stream_maxlen: int = Field(
        default=1_000_000,
        ge=1000,
        description="Entries the stream keeps (XADD MAXLEN ~): older ones are trimmed.",
    )
    events_stream: str = Field(
        default="events",
        pattern=r"^[A-Za-z0-9_.:{}-]{1,64}$",
        description="Name of the event stream, under REDIS_PREFIX.",
    )

    # --- learning records (app/xapi): the event stream forwarded to an xAPI Learning
    # Record Store, at least once, by one forwarder among all workers (a lease); the LRS
    # dedupes by statement id, so each statement is stored once. ---------------------
    xapi_lrs_url: str | None = Field(
        default=None,
        description="The LRS's xAPI endpoint (statements are POSTed to <it>/statements), "
        "e.g. http://127.0.0.1:8100/xAPI; unset: no forwarding.",
    )
    xapi_lrs_user: str = Field(default="", description="HTTP basic-auth user at the LRS.")
    xapi_lrs_password: SecretStr = Field(
        default=SecretStr(""), description="HTTP basic-auth password at the LRS."
    )
    xapi_homepage: str = Field(
        default="https://lumetrix.example",
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="The platform's home page: the actor accounts' homePage and the base of "
        "the activity and extension IRIs (<it>/training/samples/<id>).",
    )
    xapi_actor: Literal["pseudonym", "id"] = Field(
        default="pseudonym",
        description="The actor account's name: the student's keyed pseudonym (as on the "
        "leaderboards), or their raw id (id: only when the LRS may hold it).",
    )
    xapi_forwarder: bool = Field(
        default=True,
        description="With XAPI_LRS_URL set, run the xAPI forwarder in every serving worker "
        "(only the lease holder forwards); false: leave it to `lumetrix events forward-xapi`.",
    )
    xapi_batch: int = Field(
        default=100, ge=1, le=1000, description="Statements POSTed to the LRS per request."
    )
    xapi_timeout: float = Field(default=10.0, gt=0, description="LRS request timeout, s.")
    xapi_max_backoff: float = Field(
        default=10.0,
        gt=0,
        description="Longest pause between attempts while the LRS is away, s.",
    )

    @field_validator("mongodb_url", "redis_url", "xapi_lrs_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """``REDIS_URL=`` (empty) means unset, as a shell user would expect."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origin_list(cls, value: object) -> object:
        """``CORS_ORIGINS=https://a.example,https://b.example``: each an exact origin."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for origin in value:
                parts = urlsplit(str(origin))
                if (
                    parts.scheme not in ("http", "https")
                    or not parts.netloc
                    or "*" in str(origin)
                    or str(origin) != f"{parts.scheme}://{parts.netloc}"
                ):
                    raise ValueError(
                        f"CORS_ORIGINS: {origin!r} is not an exact origin like "
                        "https://app.example.com (no path, no trailing slash, no wildcard)"
                    )
        return value

    @field_validator("xapi_homepage")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        """IRIs are built as ``<home page>/training/...``: one slash between."""
        return value.rstrip("/")

    @field_validator("xapi_lrs_url")
    @classmethod
    def _http_endpoint(cls, value: str | None) -> str | None:
        """The LRS is spoken to over HTTP(S): anything else is a typo to refuse at start."""
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"XAPI_LRS_URL: {value!r} is not an http:// or https:// URL")
        return None if value is None else value.rstrip("/")

    @field_validator("redis_prefix")
    @classmethod
    def _no_hash_tag(cls, value: str) -> str:
        """Braces in the prefix would become every key's Cluster hash tag: one slot for all."""
        if "{" in value or "}" in value:
            raise ValueError("REDIS_PREFIX must not contain '{' or '}' (Cluster hash tags)")
        return value

    @model_validator(mode="after")
    def _cluster_needs_url(self) -> Settings:
        if self.redis_cluster and self.redis_url is None:
            raise ValueError("REDIS_CLUSTER=true needs REDIS_URL naming a node of the cluster")
        return self

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> Settings:
        if self.lumetrix_env == "production" and (
            self.jwt_secret == DEV_JWT_SECRET or len(self.jwt_secret.encode()) < 32
        ):
            raise ValueError("JWT_SECRET must be set to at least 32 bytes in production")
        if self.lumetrix_env == "production" and self.pseudonym_key is not None:
            if len(self.pseudonym_key.encode()) < 32:
                raise ValueError("PSEUDONYM_KEY must be at least 32 bytes in production")
        return self

    @property
    def pseudonym_secret(self) -> bytes:
        """The key pseudonyms are made with: ``PSEUDONYM_KEY``, else one derived from
        ``JWT_SECRET`` (under its own label, so a pseudonym reveals nothing of the JWT key and
        stays the same across restarts with no new configuration)."""
        if self.pseudonym_key:
            return self.pseudonym_key.encode()
        return hmac.new(
            self.jwt_secret.encode(), b"lumetrix leaderboard pseudonyms v1", hashlib.sha256
        ).digest()

    @property
    def cache_enabled(self) -> bool:
        """Whether the Redis and in-process caches are used at all."""
        return self.lumetrix_cache == "on"


@lru_cache
def get_settings() -> Settings:
    """Settings read once from the environment (the CLI and the app factory's default)."""
    return Settings()

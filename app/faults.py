"""A test-only fault hook: the process kills itself (SIGKILL) at a named step of a
mark-read or of the event publisher, so the crash-safety tests can check what a crash
at that step leaves behind. The event publisher's one step is ``events_published``: a batch
streamed to Redis, not yet deleted from the outbox; the xAPI forwarder's is ``xapi_stored``: a
batch stored in the LRS, its stream entries not yet acknowledged.

``LUMETRIX_TEST_CRASH_AT=<step>`` arms it; it is read once at import and ignored when
``LUMETRIX_ENV=production``. Unset, ``crash_point`` costs one comparison.
"""

from __future__ import annotations

import os
import signal

STEPS = ("progress_written", "stats_written", "events_written", "committed", "redis_written")
"""In order: the progress upserts sent (inside the transaction), the stats updates sent
(still inside it), the events sent to the outbox (still inside it), the transaction
committed, the Redis write-throughs done."""

_ARMED = (
    os.environ.get("LUMETRIX_TEST_CRASH_AT")
    if os.environ.get("LUMETRIX_ENV", "").lower() != "production"
    else None
)


def crash_point(step: str) -> None:
    """Die here, as a SIGKILL would kill the process, if the hook is armed for ``step``."""
    if step == _ARMED:
        os.kill(os.getpid(), signal.SIGKILL)

"""Drop the ``sample_progress`` indexes no query uses any more (``student_language``, a
prefix of ``student_language_read_at``, and ``student_area``): on SecantusDB every index
costs each mark-read's progress write its entries' delete and insert.

The service drops them at every start too (``meta.ensure_indexes``), so this is for a
database that should lose them before its workers restart. Idempotent.

Run: ``python -m migrations.retire_progress_indexes``
"""

from __future__ import annotations

import asyncio
import sys

from app.db import create_client
from app.settings import get_settings
from app.training.queries import meta


async def run() -> list[str]:
    """Drop the retired indexes of ``MONGODB_URL``'s database; the names dropped."""
    settings = get_settings()
    if settings.mongodb_url is None:
        raise SystemExit("set MONGODB_URL (the embedded database drops them at start-up)")
    client = create_client(settings.mongodb_url, timeout_ms=settings.mongo_timeout_ms)
    try:
        return await meta.drop_retired_indexes(client[settings.mongodb_db])
    finally:
        await client.close()


def main() -> int:
    """Print what was dropped."""
    dropped = asyncio.run(run())
    print(f"dropped: {', '.join(dropped)}" if dropped else "nothing to drop")
    return 0


if __name__ == "__main__":
    sys.exit(main())

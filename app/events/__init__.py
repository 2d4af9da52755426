"""Progress events: written to the outbox in each mark-read transaction (``schema``,
``outbox``), streamed to Redis by the lease holder (``lease``, ``publisher``)."""

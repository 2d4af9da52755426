"""Learning records: progress events as xAPI statements (``statements``), forwarded to a
Learning Record Store (``lrs``, ``forwarder``), and past reads written there from
``sample_progress`` (``backfill``)."""

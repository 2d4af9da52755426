"""The query layer: every MongoDB call of the service, one module per collection.

- ``samples``: the catalog (``training_samples_filtered``): listings, aggregates, seeding,
  import and the migration's scan and writes;
- ``reads``: ``sample_progress``, one document per (student, sample): mark-read's upsert,
  read state, history aggregates, export and delete;
- ``students``: ``student_stats``, one document per student: counters, preferences;
- ``meta``: indexes and the catalog version.

Queries are written for both mongod and SecantusDB: no ``$text``, no ``$lookup``.
"""

"""Views of stored records: statistics (intervals, paired tests), table rows, the formats
(Markdown, CSV, JSON, LaTeX), figures, the leaderboard and ``compare``.

May import ``bench.core``, ``bench.records``, ``bench.measure`` (reading a record's
outcomes and curves) and ``bench.adapters.registry`` (model families and published
figures); never ``bench.run``.
"""

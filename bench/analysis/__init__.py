"""What the stored records say, as data: the records frame, a table's rows and their
statistics (intervals with writers as the unit, paired tests, "vs best"), robustness and
calibration summaries, populations, efficiency against measured peaks, speed verdicts,
rankings across conditions and ``compare``'s verdicts. Returns values, never text (the
tables are ``bench.publish``'s), and writes no files.

May import ``bench.core``, ``bench.data`` (writer metadata, corrupted-set layouts),
``bench.records``, ``bench.measure`` and ``bench.adapters.registry`` (model families and
published figures); never ``bench.publish``, ``bench.run`` or above.
"""

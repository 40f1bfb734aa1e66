"""The CI gate: baselines (built from records) and ``check``'s verdicts against them.

May import ``bench.core``, ``bench.records``, ``bench.measure`` and ``bench.analysis``; never
``bench.run`` (``check --run`` runs its suite through the CLI, then asks the gate).
"""

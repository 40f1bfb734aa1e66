"""The stored records made readable: Markdown (the leaderboard and the README section, and
``verdicts``: the tables ``compare`` and ``check`` print), CSV/JSON/LaTeX, matplotlib figures (drawn once per table, ``figure_cache``), the offline
HTML site, and ``published``: whether a results folder's outputs are what its records make.

May import ``bench.analysis`` (every number it shows) and what that may import; never
``bench.run`` or above.
"""

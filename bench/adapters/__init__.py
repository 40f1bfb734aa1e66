"""What ``models/`` plugs into: the adapter contract and the training clock it keeps
(``contract``), architectures as data (``arch``), and the registry (``registry``) that loads
the model plugins by name.

May import ``bench.core`` and ``bench.prep``; never ``models`` at code level (plugins are
imported by name, see ``registry``).
"""

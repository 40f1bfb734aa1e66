"""This repository's model families: one module per family, each a plugin of
``bench.adapters.registry`` (every module here is imported when the registry is first
asked; a module registers its adapters with ``@register``).

Modules here may import ``bench.core``, ``bench.data``, ``bench.prep`` and
``bench.adapters`` (the contract they implement), never the layers above; frameworks are
imported inside methods.
"""

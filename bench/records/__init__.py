"""Run records: their shape, declared once (``shape``: version, sections, job fields, the
numbers and what counts as one), the one ``upgrade`` that brings older records to it, the
store (one JSON per job, written atomically) and loading into pandas (``schema``), and THE
identity of a configuration (``identity``), the one definition that resume, table rows,
``compare``, ``check`` and the baseline all use.

May import ``bench.core``, ``bench.data`` (a user test set's groups, ``register_groups``) and
``bench.adapters.arch`` (the training FLOPs an old record's architecture implies).
The public names are re-exported: ``records.read_all(...)``.
"""

from bench.records import identity  # noqa: F401
from bench.records.identity import params_hash, protocol_hash  # noqa: F401
from bench.records.schema import (  # noqa: F401
    KEEP_WHOLE,
    empty,
    flatten,
    json_safe,
    load,
    new_run_id,
    now_iso,
    path_for,
    problem,
    read,
    read_all,
    register_groups,
    require,
    slug,
    write,
)
from bench.records.shape import (  # noqa: F401
    JOB_FIELDS,
    NUMBERS,
    OK_METRICS,
    RESULT_STATUSES,
    SCHEMA,
    SECTIONS,
    STATUSES,
    RecordError,
    number,
    validate,
)
from bench.records.upgrade import upgrade  # noqa: F401

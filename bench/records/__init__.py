"""Run records: the schema, the store (one JSON per job, written atomically), loading into
pandas (``schema``), and THE identity of a configuration (``identity``), the one
definition that resume, table rows, ``compare``, ``check`` and the baseline all use.

May import ``bench.core`` and ``bench.data`` (a user test set's groups, ``register_groups``).
The public names are re-exported: ``records.read_all(...)``.
"""

from bench.records import identity  # noqa: F401
from bench.records.schema import (  # noqa: F401
    JOB_FIELDS,
    KEEP_WHOLE,
    OK_METRICS,
    REQUIRED,
    RESULT_STATUSES,
    SCHEMA,
    STATUSES,
    RecordError,
    empty,
    flatten,
    json_safe,
    load,
    new_run_id,
    now_iso,
    params_hash,
    path_for,
    problem,
    protocol_hash,
    read,
    read_all,
    register_groups,
    require,
    slug,
    validate,
    write,
)

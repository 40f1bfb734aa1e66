"""Running jobs: the plan (jobs and grids), one job supervised in its own process, the
worker inside that process, the suite around the jobs, progress lines, and the executors
(``executors``: local, dask) that place jobs.

May import every layer below it (``core`` ... ``report``) and ``bench.use`` (a finished
job saves its model).
"""

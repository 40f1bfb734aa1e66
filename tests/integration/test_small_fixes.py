"""Issue 31, item 8, the smaller measurement fixes: latency percentiles only from the calls
each needs, cold start labelled with its warm file cache, a noise threshold for the card's
over/under-confidence words, and inference memory measured from what inference adds.
Every expected figure is worked out here (numpy's percentile, the binomial standard error by
hand, simulated models of known calibration, arrays of known size).

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.measure.test_small_fixes``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from bench.publish import tables
from bench.use import card, coldstart


def test_the_cold_start_section_and_every_view_name_the_warm_file_cache(monkeypatch, tmp_path):
    def fake_run(cmd, **kw):
        return subprocess.CompletedProcess(
            cmd,
            0,
            stdout=json.dumps({"read_s": 1.0, "first_predict_s": 0.5, "load_s": 1.5}) + "\n",
            stderr="",
        )

    monkeypatch.setattr(coldstart.subprocess, "run", fake_run)
    section = coldstart.measure(tmp_path, np.zeros((28, 28), dtype=np.uint8))
    assert (
        section["file_cache"] == "warm" and section["load_s"] == 1.5 and section["process_s"] >= 0
    )
    text = card._resources({"cold_start": section})
    assert "fresh process, warm file cache" in text and "1.50 s" in text
    assert "fresh process with a warm file cache" in tables.LEGEND
    doc = Path("docs/methodology/robustness-calibration-memory.md").read_text()
    assert "warm file cache" in doc.split("**`cold_start`**")[1][:600]

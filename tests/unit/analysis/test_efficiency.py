"""Training efficiency against the measured peak: the "train GFLOP/s" and "% of peak" columns,
the peak a record is read against (its own ``machine`` figures, else the machines folder
beside the records, "measured later"), the table's peak line, and the efficiency figure.

Records are copies of committed digits records (cnn-small has analytic training FLOPs;
logreg's L-BFGS and the SVM have none) with their ``machine`` figures, precision or GFLOP/s
edited; every expected percentage is computed here from the records' own numbers and the
training FLOPs of cnn-small counted by hand. A Keras float32 job is read against TensorFlow's
float32 matmul, a bf16 one against its bfloat16 matmul, scikit-learn against the BLAS GEMM.
"""

from __future__ import annotations

import copy
import json
import math
import re
import statistics
import struct

import pytest

from bench import records
from bench.analysis import efficiency, rowstats
from bench.analysis.frame import with_row_keys
from bench.core import hardware
from bench.measure import peaks
from bench.publish import figures, plots, tables
from bench.publish import leaderboard as report
from bench.publish.charts import define, to_plotly
from bench.publish.site import group_tables
from tests.conftest import COMMITTED
from tests.helpers import markdown_cells

RUNS = COMMITTED / "runs"
FP32, TF32, BF16 = 200.0, 150.0, 800.0  # BLAS GEMM, TensorFlow float32 and bfloat16 matmuls
# cnn-small (conv32x3v-pool-conv64x3v-pool-dense128-dense10 on 28x28x1), per image: the first
# convolution's forward and weight-gradient products (no input gradient), 3 products each after it
CONV1, CONV2, DENSE1, DENSE2 = (
    2 * 26 * 26 * 32 * 9,
    2 * 11 * 11 * 64 * 9 * 32,
    2 * 1600 * 128,
    2 * 128 * 10,
)
CNN_SMALL_TRAIN = 2 * CONV1 + 3 * (CONV2 + DENSE1 + DENSE2)


def _committed(model: str) -> list[dict]:
    return [
        json.loads(p.read_text()) for p in sorted(RUNS.glob(f"*-digits-full-{model}-cpu-s*.json"))
    ]


def _figures(fp32=FP32, bf16=BF16, when="2026-12-01T12:00:00+00:00", threads=2, tf=TF32) -> dict:
    return {
        "version": peaks.VERSION,
        "fingerprint": "f685bf7914f4",
        "threads": threads,
        "measured_at": when,
        "numpy_fp32_gemm_gflops": fp32,
        "tf_fp32_matmul_gflops": tf,
        "tf_bf16_matmul_gflops": bf16,
        "stream_copy_gbs": 20.0,
        "gpu": None,
    }


def _recs(machine=None, models=("cnn-small", "logreg", "svm")) -> list[dict]:
    out = []
    for model in models:
        for rec in _committed(model):
            if machine is not None:
                rec["machine"] = copy.deepcopy(machine)
            out.append(rec)
    return out


def _frame(tmp_path, recs, machines: dict | None = None):
    """The frame of ``recs`` as ``bench report`` reads a records folder at ``tmp/results/runs``,
    with ``machines`` (fingerprint id -> entries) written to ``tmp/results/machines``."""
    runs = tmp_path / "results" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    for fid, entries in (machines or {}).items():
        for entry in entries:
            peaks.store({**entry, "fingerprint": fid}, tmp_path / "results" / "machines")
    return report.load_frame(runs, recs=recs)


def _rows(df):
    (group,) = rowstats.groups(df)
    return group, {
        r.model + ("-bf16" if "precision=bf16" in r.label else ""): r
        for r in rowstats.row_stats(group)
    }


def _gflops_by_hand(rec) -> float:
    """cnn-small's training FLOPs x training images processed / fit_s (the record's own fields)."""
    assert (
        rec["job"]["model"] == "cnn-small"
        and rec["size"]["flops_per_image"] == CONV1 + CONV2 + DENSE1 + DENSE2
    )
    t = rec["timing"]
    return CNN_SMALL_TRAIN * t["images_processed"] / t["fit_s"] / 1e9


def _cells(md: str, model: str) -> dict[str, str]:
    return markdown_cells(md, model)


def test_percent_of_peak_from_the_records_own_figures(tmp_path):
    recs = _recs(_figures())
    df = _frame(tmp_path, recs)
    group, rows = _rows(df)
    cnn = [r for r in recs if r["job"]["model"] == "cnn-small"]
    gflops = [_gflops_by_hand(r) for r in cnn]
    pct = [100 * g / TF32 for g in gflops]  # Keras float32: TensorFlow's float32 matmul
    row = rows["cnn-small"]
    assert row.values["train_gflops"] == pytest.approx(statistics.fmean(gflops))
    assert row.values["peak_pct"] == pytest.approx(statistics.fmean(pct))
    assert row.stds["peak_pct"] == pytest.approx(statistics.stdev(pct))
    md = tables.markdown(list(rows.values()))
    cells = _cells(md, "cnn-small")
    assert (
        cells["% of peak"].strip("*")
        == f"{statistics.fmean(pct):.1f} ± {statistics.stdev(pct):.1f}"
    )
    assert (
        cells["train GFLOP/s"].strip("*")
        == f"{statistics.fmean(gflops):.1f} ± {statistics.stdev(gflops):.1f}"
    )
    assert (
        _cells(md, "svm")["% of peak"] == "-" and _cells(md, "svm")["train GFLOP/s"] == "-"
    )  # no FLOP count
    assert (
        _cells(md, "logreg")["% of peak"] == "-" and _cells(md, "logreg")["train GFLOP/s"] == "-"
    )  # L-BFGS
    # the columns sit right after "train img/s"
    headers = list(tables.table_rows(list(rows.values()))[0])
    at = headers.index("train img/s")
    assert headers[at + 1 : at + 3] == ["train GFLOP/s", "% of peak"]
    note = efficiency.peak_note(group.ok)
    assert "float32 matmul (TensorFlow) 150 GFLOP/s (Keras float32 jobs)" in note
    assert "float32 GEMM (NumPy BLAS) 200 GFLOP/s (NumPy, scikit-learn and XGBoost jobs)" in note
    assert "bfloat16 matmul (TensorFlow) 800 GFLOP/s (bf16 jobs)" in note
    assert "memory copy 20.0 GB/s" in note and "at 2 threads" in note
    assert "measured 2026-12-01, with the runs" in note and "later" not in note


def test_records_without_figures_fall_back_to_the_machines_folder(tmp_path):
    recs = _recs()  # the committed records predate rec["machine"]
    fid = hardware.of_env(recs[0]["env"])["id"]
    threads = recs[0]["threads"]["requested"]
    df = _frame(
        tmp_path,
        recs,
        {
            fid: [
                _figures(tf=250.0, when="2026-12-09T08:00:00+00:00", threads=threads),
                _figures(tf=999.0, threads=threads + 2),
            ]
        },
    )  # another thread count: unused
    group, rows = _rows(df)
    cnn = [r for r in recs if r["job"]["model"] == "cnn-small"]
    pct = [100 * _gflops_by_hand(r) / 250.0 for r in cnn]
    assert rows["cnn-small"].values["peak_pct"] == pytest.approx(statistics.fmean(pct))
    assert set(group.ok["row.peak_source"]) == {efficiency.LATER}
    md = report.render(df, tmp_path, None)
    assert "measured 2026-12-09, after these runs, on the same hardware fingerprint" in md
    assert "float32 matmul (TensorFlow) 250 GFLOP/s" in md and "999" not in efficiency.peak_note(
        group.ok
    )
    # the record's own figures win over the folder's
    own = _frame(
        tmp_path / "own", _recs(_figures(tf=100.0)), {fid: [_figures(tf=250.0, threads=threads)]}
    )
    assert _rows(own)[1]["cnn-small"].values["peak_pct"] == pytest.approx(
        statistics.fmean(pct) * 250.0 / 100.0
    )


def test_no_peak_anywhere_gives_a_dash_and_says_why(tmp_path):
    df = _frame(tmp_path, _recs())
    group, rows = _rows(df)
    assert all(r.values["peak_pct"] is None for r in rows.values())
    assert rows["cnn-small"].values["train_gflops"] is not None  # the GFLOP/s stay
    md = report.render(df, tmp_path, None)
    assert _cells(md, "cnn-small")["% of peak"] == "-"
    note = efficiency.peak_note(group.ok)
    assert (
        note.startswith('"% of peak" is "-": no measured peak')
        and "f685bf7914f4 at 2 threads" in note
    )
    assert note in md and "python -m bench machine" in note
    assert "bfloat16 matmul peak" in tables.LEGEND and "float32 GEMM peak" in tables.LEGEND


def test_a_bf16_row_is_read_against_the_bf16_peak(tmp_path):
    fp32 = _recs(_figures(), models=("cnn-small",))
    bf16 = copy.deepcopy(fp32)
    for rec in bf16:
        rec["job"]["precision"] = "bf16"
        rec["run_id"] += "b"
        rec["timing"]["train_images_per_s"] *= 2  # any number: the percentage must follow it
    _, rows = _rows(_frame(tmp_path, fp32 + bf16))
    assert set(rows) == {"cnn-small", "cnn-small-bf16"}
    assert rows["cnn-small-bf16"].label == "cnn-small [digits recipe] precision=bf16"
    expect = statistics.fmean(2 * 100 * _gflops_by_hand(r) / BF16 for r in fp32)
    assert rows["cnn-small-bf16"].values["peak_pct"] == pytest.approx(expect)
    expect32 = statistics.fmean(100 * _gflops_by_hand(r) / TF32 for r in fp32)
    assert rows["cnn-small"].values["peak_pct"] == pytest.approx(expect32)
    # a bf16 record on a host whose figures lack the bf16 matmul: no peak, said so
    no_bf16 = {**_figures(), "tf_bf16_matmul_gflops": None}
    assert efficiency.resolve(no_bf16, "x", 2, "cpu", "bf16") == efficiency.Peak(
        None,
        "no cpu bf16 peak measured (TensorFlow)",
        efficiency.RECORD,
        no_bf16["measured_at"],
        no_bf16,
    )


def test_a_failed_measurement_says_so_and_a_machines_entry_still_counts(tmp_path):
    broken = {"error": "measuring this machine's peaks failed: killed"}
    peak = efficiency.resolve(broken, "f685bf7914f4", 2)
    assert peak.gflops is None and peak.source is None and "failed: measuring" in peak.what
    df = _frame(tmp_path, _recs(broken))
    group, rows = _rows(df)
    assert rows["cnn-small"].values["peak_pct"] is None
    assert (
        "the peak measurement failed: measuring this machine's peaks failed: killed"
        in efficiency.peak_note(group.ok)
    )
    later = _frame(tmp_path / "later", _recs(broken), {"f685bf7914f4": [_figures(tf=400.0)]})
    group, rows = _rows(later)
    assert rows["cnn-small"].values["peak_pct"] == pytest.approx(
        statistics.fmean(100 * _gflops_by_hand(r) / 400.0 for r in _committed("cnn-small"))
    )
    assert "after these runs" in efficiency.peak_note(group.ok)


def test_gpu_figures_survive_the_flat_frame_and_pick_the_gpu_peak():
    gpu = {
        **_figures(),
        "gpu": {
            "name": "/physical_device:GPU:0",
            "float32_matmul_gflops": 50_000.0,
            "bfloat16_matmul_gflops": 400_000.0,
            "float16_matmul_gflops": 410_000.0,
        },
    }
    rec = {**_committed("logreg")[0], "machine": gpu}
    flat = records.flatten(rec)
    assert "machine.gpu.float16_matmul_gflops" in flat  # nested dicts become columns
    assert efficiency.machine_of(flat) == gpu
    assert efficiency.resolve(gpu, "x", 2, "gpu", "fp16").gflops == 410_000.0
    assert (
        efficiency.resolve(gpu, "x", 2, "gpu", "fp32").what
        == "GPU float32 matmul (TensorFlow, TF32 on Ampere and later)"
    )
    assert efficiency.resolve(gpu, "x", 2, "cpu", "fp32").gflops == FP32
    assert efficiency.resolve(gpu, "x", 2, "cpu", "fp32", library="keras").gflops == TF32
    assert efficiency.machine_of({"machine.error": float("nan"), "job.model": "x"}) is None


@pytest.mark.parametrize(
    "gflops, peak, expected",
    [
        (50.0, 200.0, 25.0),
        (0.0, 200.0, 0.0),
        (None, 200.0, None),
        (float("nan"), 200.0, None),
        (float("inf"), 200.0, None),
        (50.0, None, None),
        (50.0, 0.0, None),
        (50.0, float("nan"), None),
        (-1.0, 200.0, None),
        (True, 200.0, None),
    ],
)
def test_percent_takes_only_real_numbers(gflops, peak, expected):
    got = efficiency.percent(gflops, peak)
    assert got == expected if expected is None else got == pytest.approx(expected)


def test_a_seed_without_gflops_is_left_out_of_the_mean(tmp_path):
    recs = _recs(_figures(), models=("cnn-small",))
    only = _gflops_by_hand(recs[0])
    for rec in recs:
        rec["size"]["train_flops_per_image"] = (
            CNN_SMALL_TRAIN  # as a record of this version carries it
        )
        rec["timing"]["train_gflops_per_s"] = only
    recs[1]["timing"]["train_gflops_per_s"] = None
    recs[2]["timing"]["train_gflops_per_s"] = float(
        "nan"
    )  # a NaN in memory (the file would hold null)
    _, rows = _rows(_frame(tmp_path, recs))
    assert rows["cnn-small"].values["train_gflops"] == pytest.approx(only)
    assert rows["cnn-small"].values["peak_pct"] == pytest.approx(100 * only / TF32)
    assert rows["cnn-small"].stds["peak_pct"] is None  # one seed: no spread


def test_csv_json_and_latex_carry_the_columns(tmp_path):
    runs = tmp_path / "results" / "runs"
    for rec in _recs(_figures()):
        records.write(runs, rec)
    out = tmp_path / "results"
    rows = json.loads(report.publish(runs, out, fmt="json").read_text())
    cnn = next(r for r in rows if r["model"] == "cnn-small")
    expect = statistics.fmean(100 * _gflops_by_hand(r) / TF32 for r in _committed("cnn-small"))
    assert cnn["peak_pct"] == pytest.approx(expect) and cnn["peak_pct_std"] > 0
    assert (cnn["peak_gflops"], cnn["peak_source"], cnn["peak_what"]) == (
        TF32,
        "record",
        "float32 matmul (TensorFlow)",
    )
    svm = next(r for r in rows if r["model"] == "svm")
    assert svm["peak_pct"] is None and svm["train_gflops"] is None
    csv = report.publish(runs, out, fmt="csv").read_text().splitlines()
    assert {"train_gflops", "peak_pct", "peak_pct_std", "peak_source"} <= set(csv[0].split(","))
    tex = report.publish(runs, out, fmt="latex").read_text()
    assert "train GFLOP/s" in tex and re.search(r"\\% of peak", tex)


def png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_the_efficiency_figure_has_every_row_with_flops_and_the_peaks(tmp_path):
    df = _frame(tmp_path, _recs(_figures()))
    group, _ = _rows(df)
    ordered = rowstats.row_stats(group)
    chart = define.training_gflops(group, ordered)
    (panel,) = chart.panels
    means = [s for s in panel.series if s.marker == "D"]
    seeds = [s for s in panel.series if not s.legend]
    labels = [s.name for s in means]
    assert labels == [
        r.label for r in ordered if r.model == "cnn-small"
    ]  # the SVM and L-BFGS: none
    by_label = {r.label: r for r in ordered}
    for label, s in zip(labels, seeds):
        assert s.y == pytest.approx([_gflops_by_hand(r) for r in _committed(by_label[label].model)])
    assert [(rule.label, rule.value) for rule in panel.rules] == [
        (f"float32 matmul (TensorFlow) peak: {TF32:,.0f} GFLOP/s", TF32),
        (f"bfloat16 matmul (TensorFlow) peak: {BF16:,.0f} GFLOP/s", BF16),
        (f"float32 GEMM (NumPy BLAS) peak: {FP32:,.0f} GFLOP/s", FP32),
    ]
    assert "(fp32)" in means[0].hover[0]
    path = figures.draw(group, ordered, tmp_path / "plots", lambda *a: None, lambda *a: None)[
        "gflops"
    ]
    assert path == tmp_path / "plots" / f"{group.slug}-gflops.png"
    w, h = plots.FIGSIZES["gflops"]
    assert png_size(path) == (round(w * plots.DPI), round(h * plots.DPI))
    md = report.render(df, tmp_path, tmp_path / "plots")
    assert f"](plots/{group.slug}-gflops.png)" in md
    # the site's version of the same chart: the same rows and seeds, the peaks as lines, a % on each mean
    fig = to_plotly.figure(chart)
    shown = [t for t in fig["data"] if t["mode"] == "markers+text"]
    assert [t["name"] for t in shown] == labels
    assert [s["y0"] for s in fig["layout"]["shapes"]] == [TF32, BF16, FP32]
    cnn = next(t for t in shown if t["name"].startswith("cnn-small"))
    assert cnn["text"] == [f"{by_label[cnn['name']].values['peak_pct']:.1f}% of peak"]
    assert cnn["y"][0] == pytest.approx(by_label[cnn["name"]].values["train_gflops"])
    html = group_tables.summary(ordered, {})
    assert "% of peak" in html and "train GFLOP/s" in html


def test_no_figure_without_flops_and_none_peaks_are_said(tmp_path):
    group, _ = _rows(_frame(tmp_path, _recs(_figures(), models=("svm",))))
    rows = rowstats.row_stats(group)
    assert define.training_gflops(group, rows) is None
    assert "gflops" not in figures.draw(group, rows, tmp_path, lambda *a: None, lambda *a: None)
    group, _ = _rows(_frame(tmp_path / "b", _recs(models=("cnn-small",))))
    fig = to_plotly.figure(define.training_gflops(group, rowstats.row_stats(group)))
    assert "shapes" not in fig["layout"] or not fig["layout"]["shapes"]
    assert any("no measured peak" in a["text"] for a in fig["layout"]["annotations"])
    assert math.isfinite(fig["data"][1]["y"][0])


def _limit_by_hand(rec, peak_gflops: float) -> tuple[float, float | None]:
    """(forward FLOPs / peak in ms, the record's p50 over it; None without 20 calls)."""
    limit = rec["size"]["flops_per_image"] / (peak_gflops * 1e9) * 1e3
    b1 = rec["timing"]["inference"]["batch_1"]
    return limit, (b1["latency_ms_p50"] / limit if b1["calls"] >= 20 else None)


@pytest.mark.parametrize("fp32, tf", [(FP32, TF32), (100.0, 400.0)])
def test_p50_over_the_flop_limit_divides_by_the_fastest_peak_of_the_precision(tmp_path, fp32, tf):
    recs = _recs(_figures(fp32=fp32, tf=tf), models=("cnn-small", "logreg", "svm"))
    group, rows = _rows(_frame(tmp_path, recs))
    for model in ("cnn-small", "logreg"):
        by_hand = [_limit_by_hand(r, max(fp32, tf)) for r in recs if r["job"]["model"] == model]
        assert rows[model].values["flop_limit_ms"] == pytest.approx(
            statistics.fmean(limit for limit, _ in by_hand)
        )
        ratios = [ratio for _, ratio in by_hand]
        assert None not in ratios and all(ratio > 1 for ratio in ratios)
        assert rows[model].values["p50_limit"] == pytest.approx(statistics.fmean(ratios))
    assert rows["svm"].values["p50_limit"] is None  # no FLOP count
    cells = _cells(tables.markdown(list(rows.values())), "cnn-small")
    mean = statistics.fmean(
        ratio
        for r in recs
        if r["job"]["model"] == "cnn-small"
        for ratio in [_limit_by_hand(r, max(fp32, tf))[1]]
    )
    assert cells["p50 / FLOP limit"].strip("*").split(" ±")[0] == f"{mean:,.1f}"
    assert _cells(tables.markdown(list(rows.values())), "svm")["p50 / FLOP limit"] == "-"


def test_a_bf16_job_s_flop_limit_is_the_bf16_peak_and_none_without_a_p50(tmp_path):
    recs = _recs(_figures(), models=("cnn-small",))
    bf16 = copy.deepcopy(recs[0])
    bf16["job"]["precision"] = "bf16"
    few_calls = copy.deepcopy(recs[1])
    few_calls["timing"]["inference"]["batch_1"]["calls"] = 19
    df = with_row_keys(_frame(tmp_path, [bf16, few_calls]))
    by_run = dict(zip(df["run_id"], zip(df["row.flop_limit_ms"], df["row.p50_over_limit"])))
    limit, ratio = by_run[bf16["run_id"]]
    assert (limit, ratio) == pytest.approx(_limit_by_hand(bf16, BF16))
    limit, ratio = by_run[few_calls["run_id"]]
    assert limit == pytest.approx(_limit_by_hand(few_calls, max(FP32, TF32))[0])
    assert math.isnan(ratio)  # the frame's missing value


@pytest.mark.parametrize(
    "flops, peak", [(None, 100.0), (1e6, None), (0.0, 100.0), (1e6, 0.0), (float("nan"), 1.0)]
)
def test_no_flop_limit_without_flops_or_peak(flops, peak):
    assert efficiency.flop_limited_ms(flops, peak) is None
    assert efficiency.flop_limited_ms(2e6, 100.0) == pytest.approx(0.02)

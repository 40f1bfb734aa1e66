"""The work counted for "train GFLOP/s" and "% of peak" (issue 31).

Training FLOPs per image = forward + weight gradients + input gradients of every weight layer
but the first (``bench.adapters.arch.training_flops``), checked against numbers computed by
hand here and, independently, against the matrix products TensorFlow's own gradient graph
keeps (counted from their shapes). Logistic regression's L-BFGS reports no GFLOP/s. "% of peak"
divides by the peak of the library and precision that ran the job; the peak line names each
peak once; old records get their training GFLOP/s recomputed when read (``records.upgrade``).
"""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import pytest

from bench import records
from bench.adapters import arch
from bench.adapters.training_log import TrainingLog
from bench.analysis import efficiency, rowstats
from bench.measure import peaks
from bench.publish import leaderboard as report
from tests.conftest import COMMITTED

RUNS = COMMITTED / "runs"
MACHINES = COMMITTED / "machines"

# mlp 784-512-512-10, per image: forward products 2 x in x out
MLP_L1, MLP_L2, MLP_L3 = 2 * 784 * 512, 2 * 512 * 512, 2 * 512 * 10
MLP_FORWARD = MLP_L1 + MLP_L2 + MLP_L3
# the first layer: forward + weight gradient; the others: forward + weight gradient + input gradient
MLP_TRAIN = 2 * MLP_L1 + 3 * (MLP_L2 + MLP_L3)


def _adapter(name: str):
    from bench.adapters import registry

    cls = registry.get(name)
    return cls(dict(cls.defaults["full"]))


# committed records made before records carried training FLOPs and the machine's peaks
OLDER = "fashion-mnist"


def _committed_paths(model: str, dataset: str = "mnist") -> list:
    return [
        p
        for p in sorted(RUNS.glob(f"*-{dataset}-full-{model}-cpu-s*.json"))
        if json.loads(p.read_text())["job"]["dataset"] == dataset
    ]


def _committed(model: str, dataset: str = "mnist") -> list[dict]:
    return [json.loads(p.read_text()) for p in _committed_paths(model, dataset)]


# -- counting ------------------------------------------------------------------------------


def test_the_mlp_trains_on_3209216_flops_per_image_not_three_forwards():
    assert MLP_TRAIN == 3_209_216 and MLP_FORWARD == 1_337_344
    mlp = _adapter("mlp")
    assert mlp.flops_per_image() == MLP_FORWARD
    assert mlp.train_flops_per_image() == MLP_TRAIN
    assert (
        pytest.approx(1.25, abs=0.001) == 3 * MLP_FORWARD / MLP_TRAIN
    )  # what 3 x forward overstated


def test_the_issues_ratios_and_a_conv_net_by_hand():
    ref = _adapter("ref-mlp-256-128")
    l1, l2, l3 = 2 * 784 * 256, 2 * 256 * 128, 2 * 128 * 10
    assert ref.train_flops_per_image() == 2 * l1 + 3 * (l2 + l3)
    assert 3 * ref.flops_per_image() / ref.train_flops_per_image() == pytest.approx(1.40, abs=0.005)
    # cnn-fast: conv5x5(16) 28->24, pool 12, conv5x5(32) 12->8, pool 4, dense 512->128->10
    fast = _adapter("cnn-fast")
    c1, c2 = 2 * 24 * 24 * 16 * 25 * 1, 2 * 8 * 8 * 32 * 25 * 16
    d1, d2 = 2 * 4 * 4 * 32 * 128, 2 * 128 * 10
    assert fast.flops_per_image() == c1 + c2 + d1 + d2
    assert fast.train_flops_per_image() == 2 * c1 + 3 * (c2 + d1 + d2)
    assert 3 * fast.flops_per_image() / fast.train_flops_per_image() == pytest.approx(
        1.07, abs=0.005
    )
    # cnn-deep: batch-norm and dropout count nothing; only its first convolution has no input gradient
    deep = _adapter("cnn-deep")
    first = 2 * 26 * 26 * 32 * 9
    assert deep.train_flops_per_image() == 3 * deep.flops_per_image() - first


def test_only_a_trainable_layer_upstream_makes_an_input_gradient():
    dense = 2 * 784 * 10
    flat = arch.INPUT_SHAPES["flat"]
    assert arch.training_flops((arch.Dense(10),), flat) == 2 * dense
    # dropout and activations before the first weight layer have nothing to train
    assert (
        arch.training_flops((arch.Dropout(0.5), arch.Activation("relu"), arch.Dense(10)), flat)
        == 2 * dense
    )
    # batch-norm's gamma and beta do: the dense layer after it must pass its gradient back
    assert arch.training_flops((arch.BatchNorm(), arch.Dense(10)), flat) == 3 * dense
    # a pooling layer before the first convolution changes its shape, not the rule
    image = arch.INPUT_SHAPES["image"]
    conv = 2 * 12 * 12 * 8 * 9
    assert arch.training_flops((arch.MaxPool(2), arch.Conv(8, 3, "valid")), image) == 2 * conv


def _tf_gradient_graph_flops(model, shape, batch: int) -> int:
    """FLOPs of the matrix products and convolutions in TensorFlow's own training step
    (forward and the gradient of the loss with respect to every trainable variable), kept
    only where the gradients depend on them (what TensorFlow prunes to before it runs),
    each counted from its shapes: 2 x M x N x K, or 2 x output x kernel for convolutions."""
    import tensorflow as tf

    from bench.adapters.keras_tools import import_keras

    keras = import_keras()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function(autograph=False)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        return tape.gradient(loss, model.trainable_variables)

    graph = step.get_concrete_function(
        tf.zeros((batch, *shape)), tf.zeros((batch,), tf.int32)
    ).graph
    needed, todo = set(), [t.op for t in graph.outputs]
    while todo:
        op = todo.pop()
        if op.name not in needed:
            needed.add(op.name)
            todo += [t.op for t in op.inputs] + list(op.control_inputs)
    total = 0
    for op in graph.get_operations():
        if op.name not in needed:
            continue
        if op.type == "MatMul":
            a = op.inputs[0].shape
            k = a[0] if op.get_attr("transpose_a") else a[1]
            total += 2 * op.outputs[0].shape.num_elements() * k
        elif op.type in ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"):
            kernel = (
                op.inputs[1].shape if op.type != "Conv2DBackpropFilter" else op.outputs[0].shape
            )
            out = op.outputs[0] if op.type == "Conv2D" else op.inputs[2]
            kh, kw, cin, _ = kernel
            total += 2 * out.shape.num_elements() * kh * kw * cin
        else:
            assert "MatMul" not in op.type and "Conv" not in op.type, (
                op.type
            )  # a product left uncounted
    return total


@pytest.mark.parametrize(
    "layers, shape",
    [
        ((arch.Dense(12), arch.Dropout(0.2), arch.Dense(7), arch.Dense(10, "softmax")), (20,)),
        (
            (
                arch.Conv(4, 3, "valid"),
                arch.MaxPool(2),
                arch.Conv(6, 3, "same"),
                arch.MaxPool(2),
                arch.Flatten(),
                arch.Dense(16),
                arch.Dense(10, "softmax"),
            ),
            (12, 12, 1),
        ),
        (
            (
                arch.Conv(4, 3, "valid", activation=None, use_bias=False),
                arch.BatchNorm(),
                arch.Activation("relu"),
                arch.Flatten(),
                arch.Dense(10, "softmax"),
            ),
            (8, 8, 2),
        ),
    ],
)
def test_the_count_is_what_tensorflows_gradient_graph_computes(layers, shape):
    from bench.adapters.generic.keras_flops import graph_flops, graph_train_flops
    from bench.adapters.keras_tools import import_keras

    keras = import_keras()
    model = arch.build_keras(layers, shape, keras)
    batch = 8
    assert _tf_gradient_graph_flops(model, shape, batch) == batch * arch.training_flops(
        layers, shape
    )
    # the generic Keras adapter's count from the layer graph agrees
    assert graph_train_flops(model) == arch.training_flops(layers, shape)
    assert graph_flops(model) == (arch.forward_flops(layers, shape), [])


def test_the_layer_graph_count_follows_frozen_layers_and_branches():
    from bench.adapters.generic.keras_flops import graph_train_flops
    from bench.adapters.keras_tools import import_keras

    keras = import_keras()
    layers = keras.layers
    frozen = layers.Dense(8)
    frozen.trainable = False  # no weight gradient, and nothing upstream to pass a gradient to
    model = keras.Sequential([keras.Input((4,)), frozen, layers.Dense(3)])
    assert graph_train_flops(model) == 2 * 4 * 8 + 2 * (2 * 8 * 3)
    # two branches on the input: neither needs its input's gradient; the layer after both does
    inputs = keras.Input((4,))
    merged = layers.Dense(4)(inputs) + layers.Dense(4)(inputs)
    branches = keras.Model(inputs, layers.Dense(2)(merged))
    assert graph_train_flops(branches) == 2 * (2 * 4 * 4) * 2 + 3 * (2 * 4 * 2)
    nested = keras.Sequential([keras.Input((4,)), branches])
    assert graph_train_flops(nested) == graph_train_flops(branches)


def test_logistic_regression_reports_no_training_flops():
    logreg = _adapter("logreg")
    assert logreg.train_flops_per_image() is None  # L-BFGS' loss evaluations are not reported


def test_describe_and_parse_round_trip_every_built_in_keras_architecture():
    from bench.adapters import registry

    checked = 0
    for name in registry.names():
        cls = registry.get(name)
        if not hasattr(cls, "architecture") or not getattr(cls, "view", None):
            continue
        layers = cls.architecture(dict(cls.defaults["full"]))
        shape = arch.INPUT_SHAPES[cls.view]
        parsed, parsed_shape = arch.parse(arch.describe(layers))
        assert parsed_shape == shape, name
        assert arch.forward_flops(parsed, shape) == arch.forward_flops(layers, shape), name
        assert arch.training_flops(parsed, shape) == arch.training_flops(layers, shape), name
        checked += 1
    assert checked >= 8
    for text in ("", "dense10-dense", "conv32x3-relu-dense10", "7840 weights + 10 intercepts"):
        with pytest.raises(ValueError):
            arch.parse(text)
    assert arch.parse("drop1e-05-dense10")[0] == (arch.Dropout(1e-05), arch.Dense(10))


def test_the_worker_records_the_training_flops_and_their_rate():
    from bench.run import worker

    log = TrainingLog("epoch", images_processed=3 * 1000)
    for train_s in (1.0, 1.0, 1.0):
        log.add(train_s, 0.25)
    t = SimpleNamespace(
        adapter=_adapter("mlp"),
        fit_wall_s=3.75,
        training=log,
        prepare_s=2.0,
        prep=SimpleNamespace(y_train=[0] * 1000),
    )
    rec = {"size": {"flops_per_image": MLP_FORWARD}, "metrics": {"val_accuracy": None}}
    timing = worker._training_figures(t, rec)
    assert rec["size"]["train_flops_per_image"] == MLP_TRAIN
    assert timing["train_images_per_s"] == pytest.approx(1000.0)
    assert timing["train_gflops_per_s"] == pytest.approx(1000.0 * MLP_TRAIN / 1e9)
    t.adapter = _adapter("logreg")
    rec = {"size": {}, "metrics": {"val_accuracy": None}}
    assert worker._training_figures(t, rec)["train_gflops_per_s"] is None
    assert rec["size"]["train_flops_per_image"] is None


# -- old records, read today ----------------------------------------------------------------


def test_committed_mlp_records_read_at_about_2_4_forwards_per_image():
    raw = _committed("mlp")
    assert len(raw) >= 3
    for rec in raw:  # made since records carry the training FLOPs: read as written
        ips = rec["timing"]["train_images_per_s"]
        assert rec["size"]["train_flops_per_image"] == MLP_TRAIN
        assert rec["timing"]["train_gflops_per_s"] * 1e9 / ips / MLP_FORWARD == pytest.approx(
            2.4, abs=0.01
        )
        up = records.upgrade(rec)
        assert up["size"] == rec["size"] and up["timing"] == rec["timing"]
    # the shape of a record made before (3 x forward FLOPs, no training FLOPs): upgraded when read
    original = copy.deepcopy(raw[0])
    del original["size"]["train_flops_per_image"]
    ips = original["timing"]["train_images_per_s"]
    original["timing"]["train_gflops_per_s"] = 3 * MLP_FORWARD * ips / 1e9
    before = copy.deepcopy(original)
    up = records.upgrade(original)
    assert original == before  # the record itself is left as it was
    assert up["size"]["train_flops_per_image"] == MLP_TRAIN
    assert up["timing"]["train_gflops_per_s"] == pytest.approx(MLP_TRAIN * ips / 1e9)
    assert records.upgrade(up) is up  # once is enough
    frame = records.load(RUNS, recs=[original])  # a frame of records given whole is upgraded too
    assert frame["timing.train_gflops_per_s"].iloc[0] == pytest.approx(MLP_TRAIN * ips / 1e9)


def test_the_upgrade_drops_what_it_cannot_count_and_leaves_the_rest():
    logreg = _committed("logreg", OLDER)[0]
    assert logreg["timing"]["train_gflops_per_s"] > 0
    up = records.upgrade(logreg)
    assert (
        up["timing"]["train_gflops_per_s"] is None and up["size"]["train_flops_per_image"] is None
    )
    svm = _committed("svm", OLDER)[0]
    up = records.upgrade(svm)  # no GFLOP/s to correct
    assert up["size"] == {**svm["size"], "train_flops_per_image": None}
    assert up["timing"]["train_gflops_per_s"] is None
    mlp = _committed("mlp", OLDER)[0]
    other = {
        **mlp,
        "size": {**mlp["size"], "flops_per_image": MLP_FORWARD + 2},
    }  # a description that does not fit
    assert records.upgrade(other)["timing"]["train_gflops_per_s"] is None
    new = {**mlp, "size": {**mlp["size"], "train_flops_per_image": 123.0}}  # carries them already
    assert records.upgrade(new)["timing"] == mlp["timing"]


def test_committed_mlp_percent_of_peak_uses_tensorflows_float32_peak():
    recs = [records.read(p) for p in _committed_paths("mlp")]
    frame = records.load(RUNS, recs=recs)
    cols = efficiency.frame_columns(frame, MACHINES)
    (host,) = {r["env"]["hardware"]["id"] for r in recs}
    tf_fp32 = json.loads((MACHINES / f"{host}.json").read_text())["entries"]["2"][
        "tf_fp32_matmul_gflops"
    ]
    assert set(cols["row.peak_what"]) == {"float32 matmul (TensorFlow)"}
    assert cols["row.peak_gflops"] == [tf_fp32] * len(recs)
    for rec, pct in zip(recs, cols[efficiency.PCT_COLUMN]):
        assert pct == pytest.approx(
            100 * MLP_TRAIN * rec["timing"]["train_images_per_s"] / 1e9 / tf_fp32
        )


# -- which peak, named once ------------------------------------------------------------------


FIGURES = {
    "version": peaks.VERSION,
    "fingerprint": "f685bf7914f4",
    "threads": 2,
    "measured_at": "2026-12-01T19:33:05+00:00",
    "numpy_fp32_gemm_gflops": 204.0,
    "tf_fp32_matmul_gflops": 217.0,
    "tf_bf16_matmul_gflops": 397.0,
    "stream_copy_gbs": 27.8,
    "gpu": None,
}


@pytest.mark.parametrize(
    "device, precision, library, expected",
    [
        ("cpu", "fp32", "keras", (217.0, "float32 matmul (TensorFlow)")),
        ("cpu", "fp32", "tensorflow", (217.0, "float32 matmul (TensorFlow)")),
        ("cpu", "fp32", "scikit-learn", (204.0, "float32 GEMM (NumPy BLAS)")),
        ("cpu", "fp32", "xgboost", (204.0, "float32 GEMM (NumPy BLAS)")),
        ("cpu", "fp32", None, (204.0, "float32 GEMM (NumPy BLAS)")),
        ("cpu", "bf16", "keras", (397.0, "bfloat16 matmul (TensorFlow)")),
        ("cpu", "fp16", "keras", (None, "no cpu fp16 peak measured (TensorFlow)")),
    ],
)
def test_the_peak_is_the_library_and_precision_that_ran_the_job(
    device, precision, library, expected
):
    assert peaks.peak_gflops(FIGURES, device, precision, library) == expected


def test_a_keras_job_without_tensorflows_figure_gets_no_blas_peak_instead():
    no_tf = {**FIGURES, "tf_fp32_matmul_gflops": None}
    assert peaks.peak_gflops(no_tf, "cpu", "fp32", "keras") == (
        None,
        "no cpu fp32 peak measured (TensorFlow)",
    )


def test_the_library_of_an_old_record_comes_from_its_family():
    assert peaks.library_of(None, "neural") == "keras"
    assert peaks.library_of(None, "linear") == peaks.library_of(None, "kernel") == "scikit-learn"
    assert peaks.library_of(None, "trees") == "xgboost"
    assert peaks.library_of("keras", "trees") == "keras"  # what the record says wins
    assert peaks.library_of(None, "file") is None and peaks.library_of(float("nan"), None) is None


def test_a_gpus_float32_peak_says_tf32_when_tensorflow_used_it():
    gpu = {"name": "H100", "float32_matmul_gflops": 400_000.0}
    unknown = {**FIGURES, "gpu": gpu}
    assert peaks.peak_gflops(unknown, "gpu", "fp32", "keras") == (
        400_000.0,
        "GPU float32 matmul (TensorFlow, TF32 on Ampere and later)",
    )
    on = {**FIGURES, "gpu": {**gpu, "compute_capability": [9, 0], "tf32": True}}
    assert (
        peaks.peak_gflops(on, "gpu", "fp32", "keras")[1] == "GPU TF32 matmul (TensorFlow float32)"
    )
    off = {**FIGURES, "gpu": {**gpu, "compute_capability": [7, 5], "tf32": False}}
    assert (
        peaks.peak_gflops(off, "gpu", "fp32", "keras")[1]
        == "GPU float32 matmul (TensorFlow, TF32 off)"
    )


def test_the_peak_line_names_each_peak_once(tmp_path):
    """The quick table's case: some records carry the figures, older ones read the same
    figures from the machines folder; before, the line listed every peak twice."""
    carried = [copy.deepcopy(r) for r in _committed("mlp", OLDER)[:2]]
    for rec in carried:
        rec["machine"] = dict(FIGURES)
    older = copy.deepcopy(_committed("mlp", OLDER)[2])
    runs = tmp_path / "results" / "runs"
    runs.mkdir(parents=True)
    peaks.store(FIGURES, tmp_path / "results" / "machines")
    (group,) = rowstats.groups(report.load_frame(runs, recs=carried + [older]))
    assert set(group.ok["row.peak_source"]) == {efficiency.RECORD, efficiency.LATER}
    note = efficiency.peak_note(group.ok)
    for name in (
        "float32 matmul (TensorFlow) 217",
        "float32 GEMM (NumPy BLAS) 204",
        "bfloat16 matmul (TensorFlow) 397",
        "memory copy 27.8",
    ):
        assert note.count(name) == 1, note
    assert (
        note.count("measured 2026-12-01") == 1
        and "machines folder" in note
        and "carry them" in note
    )
    assert "(Keras float32 jobs)" in note

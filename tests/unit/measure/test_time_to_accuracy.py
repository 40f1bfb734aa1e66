"""Time to accuracy: a pure function of a record's history, checked on a synthetic history
and on a real digits run."""

import pytest

from bench import measure, records

HISTORY = [  # passes of 2 s, 3 s, 4 s and 5 s of training; evaluation is kept apart
    {"pass": 1, "train_s": 2.0, "eval_s": 9.0, "val_accuracy": 0.95},
    {"pass": 2, "train_s": 3.0, "eval_s": 9.0, "val_accuracy": 0.975},
    {
        "pass": 3,
        "train_s": 4.0,
        "eval_s": 9.0,
        "val_accuracy": 0.99000000953674316,
    },  # Keras' float32 0.99
    {"pass": 4, "train_s": 5.0, "eval_s": 9.0, "val_accuracy": 0.985},
]


def test_each_target_is_the_first_pass_that_reached_it_on_the_training_clock():
    tta = measure.time_to_accuracy(HISTORY, images_processed=4000)
    assert tta["0.97"] == {"train_s": 5.0, "images": 2000.0, "pass": 2, "val_accuracy": 0.975}
    assert (
        tta["0.98"]["train_s"] == 9.0
        and tta["0.98"]["pass"] == 3
        and tta["0.98"]["images"] == 3000.0
    )
    assert tta["0.99"]["pass"] == 3  # float32 0.99 counts; the later dip changes nothing
    assert tta["0.995"] is None  # never reached


def test_a_model_evaluated_once_counts_its_whole_training():
    history = [
        {"pass": 1, "train_s": 1.5, "eval_s": 0.0},
        {"pass": 2, "train_s": 2.5, "eval_s": 0.0},
    ]
    tta = measure.time_to_accuracy(history, images_processed=None, final_val_accuracy=0.981)
    assert tta["0.98"] == {"train_s": 4.0, "images": None, "pass": 2, "val_accuracy": 0.981}
    assert tta["0.99"] is None
    assert measure.time_to_accuracy([], None, 0.99)["0.97"] is None  # no training, no time


def test_every_committed_record_keeps_the_one_clock():
    """In every published record, time to X = setup + unaccounted + the passes up to the first
    that reached X (summed here by hand), and the last pass's point is train s less teardown."""
    from tests.conftest import COMMITTED

    recs = [r for r in records.read_all(COMMITTED / "runs") if r["status"] == "ok"]
    assert recs
    for r in recs:
        t = r["timing"]
        passes = [h["train_s"] for h in r["history"]]
        # seconds on the clock when pass k ended: train s, less teardown, less the passes after k
        clock = [t["fit_s"] - t["teardown_s"] - sum(passes[k:]) for k in range(1, len(passes) + 1)]
        assert clock[0] == pytest.approx(t["setup_s"] + t["unaccounted_s"] + passes[0], abs=1e-9)
        for key, hit in t["time_to_accuracy"].items():
            if hit is None:
                continue
            assert hit["train_s"] == pytest.approx(clock[hit["pass"] - 1], abs=1e-9), (
                r["run_id"],
                key,
            )

"""The writer-disjoint validation split (``bench.data.sampling.group_split``): whole writers
held out, checked on synthetic groups and on MNIST's real training writers (the shipped
metadata: no image arrays needed), and its place in the job, the identity and the labels."""

from __future__ import annotations

import numpy as np
import pytest

from bench.analysis import labels
from bench.data import load as load_dataset
from bench.data import writers
from bench.measure.profiles import PROFILES
from bench.prep import preprocess as pp
from bench.records import identity


def held_writers(groups, held):
    return set(np.asarray(groups)[held].tolist())


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_whole_writers_are_held_out_and_no_more_than_needed(seed):
    rng = np.random.default_rng(seed)
    groups = np.repeat(
        np.arange(40) * 3 + 5, rng.integers(1, 30, size=40)
    )  # unequal writers, ids not 0..G-1
    rng.shuffle(groups)
    rest, held = pp.group_split(groups, 0.2, seed)
    assert np.array_equal(np.sort(np.concatenate([rest, held])), np.arange(len(groups)))
    assert held_writers(groups, rest).isdisjoint(held_writers(groups, held))
    # at least the fraction, and no writer more than needed: without the last writer taken the
    # held-out part was under the target, so some held writer's removal takes it under again
    target = 0.2 * len(groups)
    assert len(held) >= target
    sizes = {w: int(np.sum(groups == w)) for w in held_writers(groups, held)}
    assert min(len(held) - n for n in sizes.values()) < target
    again = pp.group_split(groups, 0.2, seed)
    assert all(np.array_equal(a, b) for a, b in zip(again, (rest, held)))


def test_seeds_draw_different_writers_and_singletons_behave_like_images():
    groups = np.repeat(np.arange(50), 10)
    a, b = pp.group_split(groups, 0.1, 0)[1], pp.group_split(groups, 0.1, 1)[1]
    assert len(a) == len(b) == 50 and not np.array_equal(a, b)
    rest, held = pp.group_split(np.arange(1000), 0.25, 3)  # every image its own writer
    assert len(held) == 250 and len(rest) == 750


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="at least 2 writers"):
        pp.group_split(np.zeros(10), 0.1, 0)
    with pytest.raises(ValueError, match="fraction"):
        pp.group_split(np.arange(10), 1.0, 0)
    rest, held = pp.group_split(
        np.array([1, 1, 1, 2]), 0.9, 0
    )  # never every writer: training keeps one
    assert len(rest) >= 1 and len(held) >= 1


@pytest.mark.parametrize("profile", ["full", "quick"])
def test_mnist_training_writers_split_apart_with_balanced_classes(profile):
    train = writers.mnist_train()
    x = np.zeros((len(train), 1), dtype=np.uint8)  # the split reads labels and writers only
    p = pp.prepare(x, train.label, x[:0], train.label[:0], PROFILES[profile].split, train.writer)
    assert p.val_split == "writers"
    # the images are zeros, so the writers on each side come from the index split itself,
    # checked against the sizes prepare reports
    rest, held = pp.group_split(
        train.writer, PROFILES[profile].split.val_fraction, PROFILES[profile].split.seed
    )
    assert held_writers(train.writer, rest).isdisjoint(held_writers(train.writer, held))
    assert held_writers(train.writer, held).isdisjoint(set(writers.mnist_test().writer.tolist()))
    assert (
        5000
        <= len(held)
        < 5000 + np.bincount(np.unique(train.writer, return_inverse=True)[1]).max()
    )
    counts = np.bincount(train.label[held], minlength=10) / len(held)
    assert np.all(np.abs(counts - 0.1) < 0.03), (
        counts
    )  # a writer wrote every digit: near a tenth each
    rule = PROFILES[profile].split
    assert p.sizes()["n_val"] == (rule.max_val or len(held)) and p.sizes()["n_train"] == (
        rule.max_train or len(rest)
    )


def test_digits_keep_the_stratified_image_split_and_refuse_a_writer_split():
    s = load_dataset("digits").splits
    rule = PROFILES["quick"].split
    got, plain = (
        pp.prepare_splits(s, rule),
        pp.prepare(s.x_train, s.y_train, s.x_test, s.y_test, rule),
    )
    assert got.val_split == plain.val_split == "images" and np.array_equal(got.y_val, plain.y_val)
    assert pp.val_split_of(s) == "images"
    with pytest.raises(ValueError, match="writers are known"):
        pp.prepare_splits(s, rule, "writers")
    with pytest.raises(ValueError, match="choose from: writers, images"):
        pp.prepare_splits(s, rule, "random")


def test_the_split_is_part_of_the_identity_and_labels_say_it_where_a_table_mixes_them():
    job = {
        "model": "mlp",
        "params": {},
        "dataset": "mnist",
        "data_digest": writers.MNIST_DATA_DIGEST,
        "profile": "quick",
        "device": "cpu",
        "seed": 0,
    }
    old, new = (
        identity.of_job(job, hw="h"),
        identity.of_job({**job, "val_split": "writers"}, hw="h"),
    )
    assert old.val_split == "images" and identity.differences(old, new) == ["val_split"]
    # a table's rows name the split only when the table holds both
    base = {
        "row.threads": 2,
        "row.protocol": "p",
        "row.side_by_side": 1,
        "identity.data_digest": "d",
        "row.deterministic": False,
        "job.model": "mlp",
    }
    usual = {**base, "identity.val_split": "writers"}
    assert labels._unusual({**base, "identity.val_split": "images"}, usual) == " [random val]"
    assert labels._unusual({**base, "identity.val_split": "writers"}, usual) == ""
    assert (
        labels._unusual(
            {**base, "identity.val_split": "writers"}, {**usual, "identity.val_split": "images"}
        )
        == " [writer val]"
    )


def test_the_line_above_a_table_names_its_split():
    from bench.publish import tables

    mnist = {"identity.data_digest": writers.MNIST_DATA_DIGEST}
    assert "whole writers" in tables.split_text({**mnist, "identity.val_split": "writers"})
    assert "random sample" in tables.split_text({**mnist, "identity.val_split": "images"})
    assert (
        tables.split_text({"identity.data_digest": "digits", "identity.val_split": "images"}) == ""
    )


def test_planned_jobs_carry_the_datasets_split():
    from bench.run import plan

    jobs = plan.plan(
        ["logreg"],
        ["mnist", "digits"],
        "quick",
        "cpu",
        [0],
        [],
        False,
        val_splits={"mnist": "writers", "digits": "images"},
    )
    assert {(j.dataset, j.as_dict()["val_split"]) for j in jobs} == {
        ("mnist", "writers"),
        ("digits", "images"),
    }

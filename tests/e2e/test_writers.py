"""The shipped writer metadata and disputed labels (``bench.data.writers``), checked against
the MNIST arrays themselves and against the files' published descriptions.

The end-to-end tests; helpers, fixtures and the unit tests: ``tests.unit.data.test_writers``."""

from __future__ import annotations

import numpy as np
import pytest

from bench.data import writers


@pytest.mark.slow
def test_metadata_labels_are_the_mnist_labels_in_mnist_order(use_mnist):
    s = use_mnist.splits
    test, train = writers.mnist_test(), writers.mnist_train()
    assert np.array_equal(test.label, s.y_test) and np.array_equal(train.label, s.y_train)
    assert s.test_digest() == writers.MNIST_TEST_DIGEST
    assert writers.for_test_set(s.test_digest(), len(s.y_test)) is test

"""The near-copy threshold and the verbatim-copy tolerance when the reference's held-out split
shares images with its training split (distance 0), against numpy on fixed inputs."""

from __future__ import annotations

import numpy as np
import pytest

from audit.metrics.diversity import (
    copies_below, copy_threshold, exact_copy_floor, exact_copy_tolerance, near_duplicate_rate,
)

FLOOR = exact_copy_floor(256)
HELDOUT = np.r_[np.zeros(5), np.linspace(0.74, 3.0, 195)]
"""5 of 200 held-out images (2.5%) have a twin in the training split, as CIFAR's splits do."""


def test_one_grey_level_per_pixel():
    assert FLOOR == pytest.approx(np.sqrt(256 * (1 / 255) ** 2)) == pytest.approx(16 / 255)


def test_threshold_leaves_out_training_twins_and_stays_positive():
    assert np.quantile(HELDOUT, 0.01) == 0.0  # the old rule: nothing is ever below it
    threshold = copy_threshold(HELDOUT, 0.01, FLOOR)
    assert threshold == pytest.approx(np.quantile(HELDOUT[5:], 0.01)) and threshold > FLOOR
    assert copy_threshold(HELDOUT, 0.01) == pytest.approx(np.quantile(HELDOUT[5:], 0.01))  # no floor given: above 0
    assert copy_threshold(np.r_[np.zeros(9), 0.07], 0.01, FLOOR) == pytest.approx(0.07)  # above the floor


def test_exact_copies_always_count():
    generated = np.r_[np.zeros(7), np.full(3, 2.0)]
    threshold = copy_threshold(HELDOUT, 0.01, FLOOR)
    assert near_duplicate_rate(generated, threshold, FLOOR) == pytest.approx(0.7)
    assert copies_below([FLOOR, FLOOR], FLOOR, FLOOR).all()  # at the floor, even where the threshold is the floor


def test_exact_copy_tolerance_is_half_the_smallest_held_out_distance():
    assert exact_copy_tolerance(HELDOUT, FLOOR) == pytest.approx(0.5 * HELDOUT[HELDOUT > FLOOR].min()) == pytest.approx(0.37)
    assert exact_copy_tolerance(np.r_[0.0, 0.08, 1.0], FLOOR) == FLOOR  # half of 0.08 is under one grey level


def test_a_reference_of_twins_only_gives_no_threshold():
    with pytest.raises(ValueError, match="twin"):
        copy_threshold(np.zeros(10), 0.01, FLOOR)

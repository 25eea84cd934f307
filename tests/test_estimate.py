import numpy as np
import pytest
from test_head import blobs

from catbreed.data.split import cv_folds
from catbreed.learn.estimate import accuracy_estimate, out_of_fold_logits, prediction_interval
from catbreed.models.head import LinearHead


def estimate_and_new_batches(spread: float, seed: int):
    """Cross-validated estimate from 600 photos of 6 Gaussian classes; the accuracy of the head
    trained on all of them on 10 new batches of a fold's size (120), and on 12,000 new photos."""
    x, y = blobs(100, 6, 32, spread, seed)

    def make_head():
        return LinearHead((32,), 6, inverse_regularization=1.0)

    folds = cv_folds(y, np.arange(len(y)), seed)
    logits = out_of_fold_logits(x, y, folds, make_head)
    estimate = accuracy_estimate(logits.argmax(1), y, len(y) // len(folds), "test")
    new_x, new_y = blobs(2000, 6, 32, spread, seed, photos_seed=seed)
    right = make_head().fit(x, y).predict_proba(new_x[:, 0]).argmax(1) == new_y
    batches = np.random.default_rng(seed).permutation(len(right))[: 10 * 120].reshape(10, 120)
    return estimate, right[batches].mean(axis=1), right.mean()


@pytest.mark.slow  # thousands of simulated data sets
def test_the_estimate_holds_for_new_photos_across_known_separabilities():
    """From about 45% to 95% right: new batches land inside the interval about 95% of the time,
    and the estimate is near the accuracy on very many new photos."""
    cases = [estimate_and_new_batches(spread, seed) for spread in (0.8, 1.0, 1.2, 1.4, 1.6) for seed in (0, 1, 2)]
    truths = [truth for _, _, truth in cases]
    assert min(truths) < 0.5 and max(truths) > 0.9  # the cases span easy and hard
    inside = np.mean([e.low <= a <= e.high for e, batches, _ in cases for a in batches])
    assert 0.9 <= inside, inside
    assert all(e.low <= truth <= e.high and abs(e.value - truth) < 0.05 for e, _, truth in cases)


def test_the_interval_widens_for_smaller_batches_and_fewer_photos():
    wide, narrow = prediction_interval(90, 100, 20), prediction_interval(90, 100, 1000)
    assert wide[0] < narrow[0] < 0.9 < narrow[1] < wide[1]
    assert prediction_interval(900, 1000, 200)[1] - prediction_interval(900, 1000, 200)[0] < narrow[1] - narrow[0]


def test_a_batch_all_right_is_inside_when_it_is_likely():
    low, high = prediction_interval(440, 446, 136)  # 98.7% right: all 136 right has a 17% chance
    assert high == 1.0 and low < 0.97


def test_the_interval_is_inside_0_1():
    assert prediction_interval(10, 10, 10)[1] == 1.0 and prediction_interval(0, 10, 10)[0] == 0.0

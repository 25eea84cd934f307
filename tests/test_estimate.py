import numpy as np
from test_head import blobs

from catbreed.estimate import accuracy_estimate, out_of_fold_logits, wilson_interval
from catbreed.head import LinearHead
from catbreed.split import cv_folds


def estimate_and_truth(spread: float, seed: int):
    """Cross-validated estimate from 600 photos of 6 Gaussian classes, and the accuracy that the
    head trained on all of them gets on 12,000 new photos drawn around the same class centres."""
    x, y = blobs(100, 6, 32, spread, seed)

    def make_head():
        return LinearHead((32,), 6, inverse_regularization=1.0)

    logits = out_of_fold_logits(x, y, cv_folds(y, np.arange(len(y)), seed), make_head)
    estimate = accuracy_estimate(logits.argmax(1), y, "test")
    new_x, new_y = blobs(2000, 6, 32, spread, seed, photos_seed=seed)
    truth = (make_head().fit(x, y).predict_proba(new_x[:, 0]).argmax(1) == new_y).mean()
    return estimate, truth


def test_the_estimate_holds_for_new_photos_across_known_separabilities():
    """From 45% to 95% right: a 95% interval may miss now and then, not often, and never by much."""
    cases = [estimate_and_truth(spread, seed) for spread in (0.8, 1.0, 1.2, 1.4, 1.6) for seed in (0, 1, 2)]
    truths = [truth for _, truth in cases]
    assert min(truths) < 0.5 and max(truths) > 0.9  # the cases span easy and hard
    inside = sum(e.low <= truth <= e.high for e, truth in cases)
    assert inside >= 13, [(e, truth) for e, truth in cases]
    assert all(abs(e.value - truth) < 0.05 for e, truth in cases)


def test_wilson_interval_is_inside_0_1_and_shrinks_with_more_photos():
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(0, 10)[0] == 0.0
    small, large = wilson_interval(90, 100), wilson_interval(900, 1000)
    assert small[0] < large[0] < 0.9 < large[1] < small[1]

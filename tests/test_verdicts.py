"""The verdicts: a familiarity score that tells breeds learned from others, one rule, thresholds chosen
from photos each fold had not seen."""

import numpy as np
import pytest

from catbreed.errors import CatbreedError
from catbreed.learn.verdicts import (
    MIN_NAMED,
    TARGET_ACCURACY,
    UNKNOWN_SHARE,
    choose_thresholds,
    not_sure_threshold,
    threshold_for_share,
    unknown_curve,
    unseen_breed_familiarity,
)
from catbreed.models.familiarity import Familiarity
from catbreed.models.verdict import BREED, NOT_A_CAT, NOT_SURE, UNKNOWN_BREED, Thresholds, decide


def clusters(centres: int, per_centre: int, dim: int = 32, seed: int = 0):
    """float32 features around `centres` random directions, and their labels."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(centres, dim)) * 3
    x = np.concatenate([m + rng.normal(size=(per_centre, dim)) for m in means]).astype(np.float32)
    return x, np.repeat(np.arange(centres), per_centre)


def test_photos_of_breeds_never_learned_look_less_familiar():
    x, y = clusters(6, 40)
    learned = y < 4
    scorer = Familiarity([x.shape[1]]).fit(x[learned][::2], y[learned][::2])  # every other photo
    new_of_learned = scorer.score(x[learned][1::2])
    never_seen = scorer.score(x[~learned])
    assert np.median(new_of_learned) > np.quantile(never_seen, 0.95)


def test_a_saved_scorer_scores_as_before(tmp_path):
    x, y = clusters(3, 10)
    scorer = Familiarity([16, 16]).fit(x, y)
    scorer.save(tmp_path / "f.npz")
    loaded = Familiarity.load(tmp_path / "f.npz")
    assert loaded.blocks == (16, 16)
    np.testing.assert_allclose(loaded.score(x), scorer.score(x), rtol=1e-6)


def test_an_unfitted_scorer_says_what_to_call_first():
    with pytest.raises(CatbreedError, match="call fit"):
        Familiarity([4]).score(np.zeros((1, 4), np.float32))


def test_two_photos_of_one_breed_are_enough_to_fit():
    x, y = clusters(1, 2)
    assert np.isfinite(Familiarity([x.shape[1]]).fit(x, y).score(x)).all()


@pytest.mark.parametrize(
    ("probability", "familiarity", "is_cat", "verdict"),
    [
        (0.9, 0.0, True, BREED),
        (0.9, 0.0, False, BREED),  # a clear, familiar answer overrules ImageNet's doubt
        (0.4, 0.0, True, NOT_SURE),
        (0.9, -5.0, True, UNKNOWN_BREED),
        (0.9, -5.0, False, NOT_A_CAT),
        (0.4, 0.0, False, NOT_A_CAT),
    ],
)
def test_one_rule_for_every_answer(probability, familiarity, is_cat, verdict):
    assert decide(probability, familiarity, is_cat, Thresholds(0.6, -1.0)) == verdict


def test_a_model_that_cannot_judge_familiarity_names_nothing_imagenet_calls_no_cat():
    assert decide(0.95, None, False, Thresholds(0.5, None)) == NOT_A_CAT  # the built-in model: a teapot
    assert decide(0.95, None, True, Thresholds(0.5, None)) == BREED
    assert decide(0.95, None, True, Thresholds(0.5, -1.0)) == BREED  # an older model: no score, no "unknown"


def test_not_sure_fires_when_answers_hesitate_even_if_every_band_was_right_more_than_half_the_time():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.4, 1.0, 400)
    correct = rng.uniform(size=400) < confidence  # right about as often as it says
    probabilities = np.stack([confidence, 1 - confidence], 1)
    labels = np.where(correct, 0, 1)
    threshold = not_sure_threshold(probabilities, labels, np.ones(400, bool))
    named = confidence >= threshold
    assert threshold > 0.5  # the old rule gave 0% here
    assert correct[named].mean() >= TARGET_ACCURACY or named.mean() < MIN_NAMED + 0.05


def test_not_sure_never_leaves_fewer_than_the_minimum_named():
    confidence = np.linspace(0.5, 1.0, 100)
    probabilities = np.stack([confidence, 1 - confidence], 1)
    labels = np.zeros(100, int)
    labels[::3] = 1  # a third wrong at every confidence: 95% right is out of reach
    threshold = not_sure_threshold(probabilities, labels, np.ones(100, bool))
    assert (confidence >= threshold).mean() >= MIN_NAMED


def test_the_unknown_curve_trades_own_photos_for_unseen_breeds_caught():
    x, y = clusters(6, 30)
    known = Familiarity([x.shape[1]]).fit(x, y).score(x)
    unseen = unseen_breed_familiarity(x, y, [x.shape[1]])
    curve = unknown_curve(known, unseen)
    shares, thresholds, caught = zip(*curve)
    assert shares[0] == 0.0 and list(thresholds) == sorted(thresholds) and list(caught) == sorted(caught)
    assert caught[10] > 0.5  # calling 10% of its own photos unknown catches most breeds left out
    assert threshold_for_share(curve, 0.1) == thresholds[10]


def test_choose_thresholds_reports_what_the_defaults_did():
    x, y = clusters(4, 30)
    known = Familiarity([x.shape[1]]).fit(x, y).score(x)
    unseen = unseen_breed_familiarity(x, y, [x.shape[1]])
    probabilities = np.full((len(y), 4), 0.02)
    probabilities[np.arange(len(y)), y] = 0.94
    chosen = choose_thresholds(probabilities, y, known, unseen)
    thresholds, curve, summary = chosen.thresholds, chosen.curve, chosen.summary
    assert len(chosen.verdicts) == len(y) and chosen.verdicts.count("unknown_breed") == round(summary.unknown * len(y))
    assert thresholds.unknown_below == threshold_for_share(curve, UNKNOWN_SHARE)
    assert summary.named + summary.not_sure + summary.unknown == pytest.approx(1.0)
    assert summary.unknown == pytest.approx(UNKNOWN_SHARE, abs=0.02) and summary.named_accuracy == 1.0

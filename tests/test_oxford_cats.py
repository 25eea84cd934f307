"""The truer, slower checks: real photos of the 12 Oxford-IIIT cat breeds, the real backbone."""

import numpy as np

from catbreed import progress
from catbreed.dataset import check_folder
from catbreed.settings import TrainSettings
from catbreed.training import train


def test_default_training_on_real_cats_expects_90_percent_and_keeps_its_word(oxford_cats, backbone, tmp_path):
    """Train on three quarters of each breed; the estimate must hold on the quarter it never saw."""
    dataset = check_folder(oxford_cats)
    assert len(dataset.classes) == 12 and len(dataset.photos) == 1799
    settings = TrainSettings(test_percent=25)

    first = train(dataset, settings, home=tmp_path, backbone=backbone)
    estimate = first.estimate
    assert estimate.value >= 0.89 and estimate.high - estimate.low < 0.04, estimate
    assert first.test.n == first.split.sizes()["test"] > 350
    assert estimate.low - 0.01 <= first.test.accuracy <= estimate.high + 0.01, (estimate, first.test.accuracy)
    assert abs(first.test.accuracy - estimate.value) <= 0.025

    events = []
    second = train(dataset, settings, on_event=events.append, home=tmp_path, backbone=backbone)
    computed = [e.total for e in events if e.stage == progress.FEATURES]
    assert computed == [0]  # every feature came from the cache
    assert second.estimate == first.estimate and second.test.accuracy == first.test.accuracy


def test_real_cats_are_cats(oxford_cats, backbone):
    from catbreed.predict import Predictor, builtin_bundle

    photos = sorted(oxford_cats.glob("*/*"))[::30]
    probabilities = Predictor(builtin_bundle(), backbone).breed_probabilities(photos)
    from catbreed.predict import cat_verdict

    verdicts = np.array([cat_verdict(p)[0] for p in probabilities])
    assert verdicts.mean() > 0.95

"""The truer, slower checks: real photos of the 12 Oxford-IIIT cat breeds, the real backbone."""

import numpy as np

from catbreed import progress
from catbreed.dataset import check_folder
from catbreed.settings import TrainSettings
from catbreed.training import train


def test_default_training_on_real_cats_beats_90_percent_and_reuses_its_cache(oxford_cats, backbone, tmp_path):
    dataset = check_folder(oxford_cats)
    assert len(dataset.classes) == 12 and len(dataset.photos) == 1799

    first_events, second_events = [], []
    first = train(dataset, TrainSettings(), on_event=first_events.append, home=tmp_path, backbone=backbone)
    assert first.test.accuracy >= 0.90, first.test.accuracy
    assert first.test.n == first.split.sizes()["test"] > 100

    second = train(dataset, TrainSettings(), on_event=second_events.append, home=tmp_path, backbone=backbone)
    computed = [e.total for e in second_events if e.stage == progress.FEATURES]
    assert computed == [0]  # every feature came from the cache
    assert second.test.accuracy == first.test.accuracy


def test_real_cats_are_cats(oxford_cats, backbone):
    from catbreed.predict import Predictor, builtin_bundle

    photos = sorted(oxford_cats.glob("*/*"))[::30]
    probabilities = Predictor(builtin_bundle()).breed_probabilities(photos)
    from catbreed.predict import cat_verdict

    verdicts = np.array([cat_verdict(p)[0] for p in probabilities])
    assert verdicts.mean() > 0.95

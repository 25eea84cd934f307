"""How many photos do I need: the learning curve from cached features, and what it says."""

import numpy as np
import pytest

from catbreed.data.dataset import check_folder
from catbreed.data.split import cv_folds
from catbreed.learn.estimate import accuracy_estimate, out_of_fold_logits
from catbreed.learn.learning_curve import _first_of_each_breed, curve_sizes, learning_curve
from catbreed.learn.training import train
from catbreed.models.card import curve_advice as advice
from catbreed.models.head import LinearHead
from catbreed.models.metadata import CurvePoint, ModelMetadata


def noisy_breeds(per_breed: int, breeds: int = 3, dim: int = 32, seed: int = 0):
    """Features (N, 1, D) of breeds whose means differ a little against much noise: a head needs
    many photos to find the difference, as with breeds that look alike."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 1, (breeds, dim))
    labels = np.repeat(np.arange(breeds), per_breed)
    features = means[labels] * 0.6 + rng.normal(0, 1.5, (len(labels), dim))
    return features[:, None, :].astype(np.float32), labels


def curve_of(features, labels, breeds):
    folds = cv_folds(labels, np.arange(len(labels)), seed=0)

    def make_head():
        return LinearHead([features.shape[-1]], breeds, 1.0, 0)

    logits = out_of_fold_logits(features, labels, folds, make_head)
    batch = len(labels) // len(folds)
    estimate = accuracy_estimate(logits.argmax(1), labels, batch, method=None)
    names = [f"breed {c}" for c in range(breeds)]
    return learning_curve(features, labels, folds, make_head, names, estimate, logits, batch), estimate


def test_the_curve_climbs_with_photos_and_ends_at_the_trainings_own_estimate():
    features, labels = noisy_breeds(per_breed=80)
    curve, estimate = curve_of(features, labels, 3)
    assert [p.photos_per_breed for p in curve] == [*curve_sizes(64), 64] == [4, 8, 16, 32, 64]
    assert curve[-1].value == estimate.value and (curve[-1].low, curve[-1].high) == (estimate.low, estimate.high)
    assert curve[0].value < curve[-1].value - 0.1  # four photos of each breed are far from enough here
    assert all(p.low <= p.value <= p.high for p in curve) and set(curve[0].recall) == {"breed 0", "breed 1", "breed 2"}
    for p in curve:  # each breed's recall with its own interval, on its 80 held-out photos
        assert all(0 <= p.recall_low[b] <= p.recall[b] <= p.recall_high[b] <= 1 for b in p.recall)
        assert all(p.recall_high[b] - p.recall_low[b] > 0.05 for b in p.recall if 0 < p.recall[b] < 1)


def test_each_size_keeps_at_most_that_many_of_each_breed_from_the_folds_training_photos_and_the_smaller_ones():
    labels = np.repeat(np.arange(3), 20)
    train = np.arange(0, 60, 2)  # every other photo
    rank = np.random.default_rng(1).permutation(60)
    smaller = set()
    for k in (2, 4, 8):
        kept = _first_of_each_breed(train, rank, labels, k, 3)
        assert set(kept) <= set(train) and np.bincount(labels[kept], minlength=3).max() <= k
        assert smaller <= set(kept)  # more photos add to the fewer, never a new draw
        smaller = set(kept)


def point(n, value, **recall):
    return CurvePoint(n, value, value - 0.05, value + 0.05, recall)


def test_the_advice_says_where_more_photos_help_and_where_they_do_not():
    climbing = advice([point(16, 0.70, A=0.60, B=0.80, C=0.99), point(32, 0.80, A=0.80, B=0.82, C=0.99)])
    assert str(climbing.model).startswith(
        "With about 32 photos per breed it is right 80% of the time; with 16 it was 10%"
    )
    assert climbing.focus == "A" and "More photos of A would help most" in str(climbing.breed)
    flat = advice([point(16, 0.90, A=0.90, B=0.70), point(32, 0.905, A=0.905, B=0.70)])
    assert "more photos of the same kind would add little" in str(flat.model)
    assert flat.focus == "B" and "B is recognised least (70%)" in str(flat.breed)
    assert advice([point(8, 0.5)]) is None
    assert advice([point(8, 0.97, A=0.96), point(16, 0.975, A=0.97)]).breed is None  # every breed well known


def test_the_curve_is_kept_in_the_models_metadata_and_older_models_have_none(
    shapes_folder, extractor, standin_settings
):
    result = train(check_folder(shapes_folder), standin_settings, extractor=extractor)
    curve = result.bundle.metadata.metrics.learning_curve
    assert len(curve) >= 2 and curve[-1].value == result.estimate.value
    again = ModelMetadata.from_json(result.bundle.metadata.to_json())
    assert again.metrics.learning_curve == curve
    older = result.bundle.metadata.to_dict()
    for point in older["metrics"]["learning_curve"]:  # as models kept them before breeds had intervals
        del point["recall_low"], point["recall_high"]
    assert ModelMetadata.from_dict(older).metrics.learning_curve[-1].recall_low == {}
    del older["metrics"]["learning_curve"]
    assert ModelMetadata.from_dict(older).metrics.learning_curve == []


@pytest.mark.parametrize("largest", [3, 4, 5])
def test_too_few_photos_for_a_smaller_size_gives_the_estimate_alone(largest):
    assert curve_sizes(largest) == ([] if largest <= 4 else [4])

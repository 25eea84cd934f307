import numpy as np
import pytest

from catbreed.errors import CatbreedError
from catbreed.models.head import LinearHead, normalise
from catbreed.models.keras_classifier import head_model


def blobs(
    n_per_class: int, n_classes: int, dim: int, spread: float, seed: int, photos_seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """float32 (N, 2, dim) features of Gaussian classes (two noisy 'views' of each), int (N,) labels.
    `seed` places the classes; `photos_seed` (default: the same) draws the photos around them."""
    centres = np.random.default_rng(seed).normal(size=(n_classes, dim))
    rng = np.random.default_rng(seed if photos_seed is None else photos_seed + 1000)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    photos = centres[labels] + spread * rng.normal(size=(len(labels), dim))
    views = photos[:, None] + 0.05 * rng.normal(size=(len(labels), 2, dim))
    return np.abs(views).astype(np.float32), labels


def test_each_block_is_scaled_to_the_same_length():
    features = np.concatenate([np.full((1, 4), 100.0), np.full((1, 2), 0.01)], axis=1)
    out = normalise(features, (4, 2))
    assert np.allclose(np.linalg.norm(out[:, :4]), np.linalg.norm(out[:, 4:]))
    assert np.isclose(np.linalg.norm(out), 1.0)


def test_fit_learns_separable_classes_and_predicts_probabilities():
    x, y = blobs(30, 3, 16, 0.2, seed=0)
    head = LinearHead((16,), 3).fit(x, y)
    probabilities = head.predict_proba(x[:, 0])
    assert probabilities.shape == (90, 3) and np.allclose(probabilities.sum(1), 1, atol=1e-5)
    assert (probabilities.argmax(1) == y).mean() == 1.0 and head.n_photos_ == 90


def test_a_class_absent_from_training_is_never_predicted():
    x, y = blobs(20, 3, 8, 0.2, seed=1)
    head = LinearHead((8,), 4).fit(x, y)  # class 3 has no photo
    assert head.predict_proba(x[:, 0])[:, 3].max() < 1e-6


def test_save_and_load_round_trip(tmp_path):
    x, y = blobs(10, 2, 8, 0.3, seed=2)
    head = LinearHead((4, 4), 2, inverse_regularization=3.0).fit(x, y)
    head.temperature_ = 0.7
    head.save(tmp_path / "head.npz")
    loaded = LinearHead.load(tmp_path / "head.npz")
    assert loaded.blocks == (4, 4) and loaded.temperature_ == pytest.approx(0.7)
    np.testing.assert_allclose(loaded.predict_proba(x[:, 0]), head.predict_proba(x[:, 0]), rtol=1e-5)


def test_the_keras_head_computes_the_same_probabilities():
    x, y = blobs(10, 3, 8, 0.3, seed=3)
    head = LinearHead((5, 3), 3).fit(x, y)
    head.temperature_ = 1.5
    np.testing.assert_allclose(head_model(head)(x[:, 0]), head.predict_proba(x[:, 0]), atol=1e-5)


def test_using_an_untrained_head_says_what_to_call_first():
    with pytest.raises(CatbreedError, match="call fit"):
        LinearHead((4,), 2).predict_proba(np.ones((1, 4), np.float32))


def test_features_of_the_wrong_width_are_refused():
    x, y = blobs(5, 2, 8, 0.3, seed=4)
    with pytest.raises(CatbreedError, match="expects 6 features per photo; got 8"):
        LinearHead((6,), 2).fit(x, y)

"""It looks most like these of yours: a model's training photos kept as places in its features."""

import numpy as np
import pytest

from catbreed.models import neighbours as module
from catbreed.models.bundle import NEIGHBOURS_FILE, ModelBundle
from catbreed.models.neighbours import Neighbours


def clusters(per_breed: int, breeds: int = 3, dim: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (breeds, dim))
    labels = np.repeat(np.arange(breeds), per_breed)
    features = centres[labels] + rng.normal(0, 0.3, (len(labels), dim))
    names = [f"breed{c}/{i:04d}.jpg" for i, c in enumerate(labels)]
    return features.astype(np.float32), labels, names


def test_a_photo_it_learned_from_is_its_own_nearest_and_the_next_are_of_its_breed():
    features, labels, names = clusters(30)
    kept = Neighbours([40]).fit(features, labels, names)
    (itself, *others), *_ = kept.nearest(features[5:6], 4)
    assert itself.name == names[5] and itself.similarity == pytest.approx(1.0, abs=1e-3)
    assert [o.breed for o in others] == [labels[5]] * 3
    (left_out,) = kept.nearest(features[5:6], 3, leave_out=names[5])
    assert names[5] not in [n.name for n in left_out] and [n.breed for n in left_out] == [labels[5]] * 3
    sims = [n.similarity for n in left_out]
    assert sims == sorted(sims, reverse=True)


def test_it_keeps_a_bounded_draw_of_each_breed_in_proportion(monkeypatch):
    monkeypatch.setattr(module, "MAX_KEPT", 60)
    features, labels, names = clusters(100, breeds=3)
    labels[:100] = 0  # breed 0: 100 photos; make breed 2 small
    labels, features = labels[:250], features[:250]
    kept = Neighbours([40]).fit(features, labels, names[:250])
    counts = np.bincount(kept.labels_, minlength=3)
    assert abs(len(kept.labels_) - 60) <= 3 and counts[0] > counts[2] > 0
    assert kept.points_.dtype == np.float16 and kept.points_.shape[1] <= module.MAX_COMPONENTS


def test_the_bundle_keeps_them_and_refuses_damaged_ones(trained, tmp_path):
    bundle = trained.bundle
    assert bundle.neighbours is not None and len(bundle.neighbours.names_) == len(trained.split.train)
    files = bundle.to_files()
    again = ModelBundle.from_files(files)
    assert list(again.neighbours.names_) == list(bundle.neighbours.names_)
    np.testing.assert_array_equal(again.neighbours.points_, bundle.neighbours.points_)
    path = bundle.save(tmp_path / "model")
    with np.load(path / NEIGHBOURS_FILE) as data:
        arrays = dict(data)
    arrays["names"] = arrays["names"][:-1]  # one name short of the points
    with open(path / NEIGHBOURS_FILE, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(Exception, match="cannot be read|could not be read|unreadable|damaged"):
        ModelBundle.load(path)

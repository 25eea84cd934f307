import hashlib

import numpy as np
import pytest

from catbreed.data.dataset import Photo
from catbreed.data.split import cv_folds, near_duplicate_groups, split_photos
from catbreed.errors import CatbreedError


def photos(n: int, label: str = "a", start: int = 0) -> list[Photo]:
    out = []
    for i in range(start, start + n):
        digest = hashlib.sha256(f"{label}-{i}".encode()).hexdigest()
        out.append(Photo(path=None, name=f"{label}/{i}.jpg", label=label, sha256=digest))
    return out


def test_the_test_percentage_is_respected_roughly():
    items = photos(2000)
    sizes = split_photos(items, 20).sizes()
    assert sum(sizes.values()) == 2000 and 330 < sizes["test"] < 470


def test_no_test_photos_by_default_setting():
    assert split_photos(photos(50), 0).test == []


def test_adding_photos_never_moves_old_ones():
    old = photos(300)
    before = set(split_photos(old, 20).test)
    grown = old + photos(300, start=300) + photos(50, label="b")
    assert before == {i for i in split_photos(grown, 20).test if i < 300}


def test_identical_content_always_lands_on_the_same_side():
    twins = photos(100) + [Photo(None, f"copy/{p.name}", p.label, p.sha256) for p in photos(100)]
    test = set(split_photos(twins, 30).test)
    assert all((i in test) == (i + 100 in test) for i in range(100))


def test_every_class_keeps_a_training_photo():
    tiny = photos(2, label="rare")
    split = split_photos(photos(50) + tiny, 99)  # 1% train: chance alone would leave "rare" out
    assert any((photos(50) + tiny)[i].label == "rare" for i in split.train)


@pytest.mark.parametrize("test", [-1, 100])
def test_impossible_percentages_are_refused(test):
    with pytest.raises(CatbreedError, match="test percentage must be from 0 to 99"):
        split_photos(photos(10), test)


def near_twins(n_pairs: int, seed: int = 0) -> list[Photo]:
    """Pairs of photos whose perceptual hashes differ in 1-3 bits, pairs far apart from each other."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_pairs):
        base = int(rng.integers(0, 2**63))
        twin = base ^ (1 << int(rng.integers(0, 64))) ^ (1 << int(rng.integers(0, 64)))
        for j, fingerprint in enumerate((base, twin)):
            digest = hashlib.sha256(f"{i}-{j}".encode()).hexdigest()
            out.append(Photo(None, f"{i % 3}/{i}-{j}.jpg", str(i % 3), digest, fingerprint))
    return out


def test_near_duplicates_share_a_group_and_others_do_not():
    items = near_twins(30)
    groups = near_duplicate_groups(items)
    assert all(groups[2 * i] == groups[2 * i + 1] for i in range(30))
    assert len(set(groups)) == 30


def test_a_photo_without_a_fingerprint_is_a_group_of_its_own():
    items = photos(5)
    assert len(set(near_duplicate_groups(items))) == 5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_folds_never_split_a_near_duplicate_pair(seed):
    items = near_twins(60, seed)
    labels = np.array([int(p.label) for p in items])
    folds = cv_folds(labels, near_duplicate_groups(items), seed)
    assert len(folds) == 5
    for train, held_out in folds:
        held = set(held_out.tolist())
        assert all((2 * i in held) == (2 * i + 1 in held) for i in range(60))
        assert not held & set(train.tolist())
    assert sorted(np.concatenate([h for _, h in folds]).tolist()) == list(range(120))  # each held out once


def test_too_few_distinct_photos_to_cross_validate_say_what_to_do():
    items = near_twins(3)  # breed "0" has a single pair of near-copies
    labels = np.array([int(p.label) for p in items])
    with pytest.raises(CatbreedError, match="at least 2 photos that are not near-copies"):
        cv_folds(labels, near_duplicate_groups(items))

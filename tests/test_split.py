import hashlib

import pytest

from catbreed.dataset import Photo
from catbreed.errors import CatbreedError
from catbreed.split import split_photos


def photos(n: int, label: str = "a", start: int = 0) -> list[Photo]:
    out = []
    for i in range(start, start + n):
        digest = hashlib.sha256(f"{label}-{i}".encode()).hexdigest()
        out.append(Photo(path=None, name=f"{label}/{i}.jpg", label=label, sha256=digest))
    return out


def sets_by_name(items, split):
    return {items[i].name: name for name in ("train", "val", "test") for i in getattr(split, name)}


def test_percentages_are_respected_roughly():
    items = photos(2000)
    sizes = split_photos(items, 10, 20).sizes()
    assert sum(sizes.values()) == 2000
    assert 150 < sizes["val"] < 250 and 330 < sizes["test"] < 470


def test_adding_photos_never_moves_old_ones():
    old = photos(300)
    before = sets_by_name(old, split_photos(old, 10, 10))
    grown = old + photos(300, start=300) + photos(50, label="b")
    after = sets_by_name(grown, split_photos(grown, 10, 10))
    assert all(after[name] == where for name, where in before.items())


def test_identical_content_always_lands_in_the_same_set():
    twins = photos(100) + [Photo(None, f"copy/{p.name}", p.label, p.sha256) for p in photos(100)]
    where = sets_by_name(twins, split_photos(twins, 30, 30))
    assert all(where[p.name] == where[f"copy/{p.name}"] for p in photos(100))


def test_every_class_keeps_a_training_photo():
    tiny = photos(2, label="rare")
    split = split_photos(photos(50) + tiny, 49, 50)  # 1% train: chance alone would leave "rare" out
    assert any((photos(50) + tiny)[i].label == "rare" for i in split.train)


@pytest.mark.parametrize(("val", "test"), [(-1, 10), (10, 100), (60, 40)])
def test_impossible_percentages_are_refused(val, test):
    with pytest.raises(CatbreedError):
        split_photos(photos(10), val, test)

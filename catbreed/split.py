"""Train / validation / test assignment from each photo's content hash.

As in TensorFlow's `retrain.py` (which hashed file names), a photo's set depends on the photo
alone: adding photos never moves old ones between sets, and identical photos always land in the
same set, so a test photo is never also a training photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from catbreed.dataset import Photo
from catbreed.errors import CatbreedError

TRAIN, VAL, TEST = "train", "val", "test"
_BUCKETS = 2**32


@dataclass(frozen=True)
class Split:
    train: list[int]  # indices into the dataset's photos
    val: list[int]
    test: list[int]

    def sizes(self) -> dict[str, int]:
        return {TRAIN: len(self.train), VAL: len(self.val), TEST: len(self.test)}


def check_percentages(val_percent: float, test_percent: float) -> None:
    for name, value in (("validation", val_percent), ("test", test_percent)):
        if not 0 <= value < 100:
            raise CatbreedError(f"The {name} percentage must be from 0 to 99; got {value}.")
    if val_percent + test_percent >= 100:
        raise CatbreedError(
            f"Validation + test must leave photos to train on; got {val_percent} + {test_percent} = "
            f"{val_percent + test_percent}%, expected under 100%."
        )


def assign(sha256: str, val_percent: float, test_percent: float) -> str:
    """The set of one photo: its hash read as a number in [0, 100) picks the bucket."""
    percentile = int(sha256[:8], 16) / _BUCKETS * 100
    if percentile < val_percent:
        return VAL
    if percentile < val_percent + test_percent:
        return TEST
    return TRAIN


def split_photos(photos: Sequence[Photo], val_percent: float, test_percent: float) -> Split:
    check_percentages(val_percent, test_percent)
    sets: dict[str, list[int]] = {TRAIN: [], VAL: [], TEST: []}
    for index, photo in enumerate(photos):
        sets[assign(photo.sha256, val_percent, test_percent)].append(index)
    # A class with no training photo cannot be learned: lend it the photo with the smallest hash,
    # a choice that stays the same as photos are added elsewhere.
    in_train = {photos[i].label for i in sets[TRAIN]}
    for label in sorted({photo.label for photo in photos} - in_train):
        index = min((i for i, p in enumerate(photos) if p.label == label), key=lambda i: photos[i].sha256)
        for name in (VAL, TEST):
            if index in sets[name]:
                sets[name].remove(index)
        sets[TRAIN].append(index)
    return Split(sorted(sets[TRAIN]), sets[VAL], sets[TEST])

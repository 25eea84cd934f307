"""Which photos are used how: an optional held-out test set, near-duplicate groups, and folds.

The optional test set is drawn from each photo's content hash, as TensorFlow's `retrain.py` drew
its sets from hashed file names: adding photos never moves old ones in or out of it, and
identical photos always land on the same side.

Cross-validation folds keep near-duplicates (the same cat from the same shoot, a resized or
re-encoded copy) together: a photo whose near-twin was trained on is no test of anything, and
an estimate that counts it is too rosy for the next, truly new photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import StratifiedGroupKFold

from catbreed.data.dataset import Photo
from catbreed.errors import CatbreedError

_BUCKETS = 2**32
# dHash bits that may differ between near-duplicates. On the 1,799 Oxford-IIIT cats, pairs within
# 0-6 bits are the same photo resized or re-shot a moment later (23 pairs); at 8 bits, pairs of
# different breeds begin to appear.
NEAR_DUPLICATE_BITS = 6
MAX_FOLDS = 5


@dataclass(frozen=True)
class Split:
    train: list[int]  # indices into the dataset's photos: cross-validated, then all trained on
    test: list[int]  # held out from everything, scored once at the end (empty by default)

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "test": len(self.test)}


def check_test_percent(test_percent: float) -> None:
    if not 0 <= test_percent < 100:
        raise CatbreedError("split.test_percent", percent=test_percent)


def is_test(sha256: str, test_percent: float) -> bool:
    """Whether one photo is held out: its hash read as a number in [0, 100) falls below the percentage."""
    return int(sha256[:8], 16) / _BUCKETS * 100 < test_percent


def split_photos(photos: Sequence[Photo], test_percent: float) -> Split:
    check_test_percent(test_percent)
    test = {i for i, photo in enumerate(photos) if is_test(photo.sha256, test_percent)}
    # A class with no photo to train on cannot be learned: lend it the photo with the smallest
    # hash, a choice that stays the same as photos are added elsewhere.
    in_train = {photo.label for i, photo in enumerate(photos) if i not in test}
    for label in sorted({photo.label for photo in photos} - in_train):
        test.discard(min((i for i, p in enumerate(photos) if p.label == label), key=lambda i: photos[i].sha256))
    return Split([i for i in range(len(photos)) if i not in test], sorted(test))


def near_duplicate_groups(photos: Sequence[Photo], max_bits: int = NEAR_DUPLICATE_BITS) -> np.ndarray:
    """int (N,) group ids: photos whose perceptual hashes differ in at most `max_bits` bits share
    a group, and so does any chain of such pairs. A photo without a hash is a group of its own."""
    known = np.array([i for i, p in enumerate(photos) if p.fingerprint is not None], dtype=int)
    hashes = np.array([photos[i].fingerprint for i in known], dtype=np.uint64)
    pairs = [
        (i, j)
        for row, i in enumerate(known)
        for j in known[row + 1 :][np.bitwise_count(hashes[row + 1 :] ^ hashes[row]) <= max_bits]
    ]
    rows, columns = (np.array(side, dtype=int) for side in zip(*pairs)) if pairs else (np.zeros(0, int),) * 2
    close = coo_matrix((np.ones(len(pairs)), (rows, columns)), shape=(len(photos), len(photos)))
    return connected_components(close, directed=False)[1]


def cv_folds(labels: np.ndarray, groups: np.ndarray, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds of (train indices, held-out indices) that never split a group.

    Five folds, or fewer when the smallest class has fewer groups than that: each class then
    still has a photo to learn from in every fold.
    """
    smallest = min(len(np.unique(groups[labels == c])) for c in np.unique(labels))
    k = min(MAX_FOLDS, smallest)
    if k < 2:
        raise CatbreedError("split.too_few_distinct")
    folds = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(folds.split(np.zeros(len(labels)), labels, groups))

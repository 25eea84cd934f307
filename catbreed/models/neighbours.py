"""It looks most like these of yours: the photos a model learned from, as the features its head reads.

A model keeps, for up to `MAX_KEPT` of its training photos (a draw of each breed in proportion
above that), where each sits in the head's normalised features reduced to their first
`MAX_COMPONENTS` principal components, its breed and its name in the data set. That is enough to
say, for any photo the model answers, which of its own photos are nearest and how alike
(`similarity`: the cosine of the two in that space; 1 is the same photo), and to draw the data set
as a map (the first two components). Kept in the bundle as `neighbours.npz`: 2,000 photos take
about 0.6 MB, the projection 0.6 MB a backbone (1.9 MB for the accurate mode's three). The photos
themselves stay in the data set: a page shows them from there while it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from catbreed.errors import CatbreedError
from catbreed.models.head import normalise

MAX_KEPT = 2000
MAX_COMPONENTS = 128


@dataclass(frozen=True)
class Near:
    name: str  # in the data set: "Breed/file.jpg"
    breed: int  # class id
    similarity: float


class Neighbours:
    """`fit(features, labels, names)` on float32 (N, D) features, then `nearest(features, n)`.

    Learned state: `mean_` float32 (D,), `components_` float32 (D, K), `points_` float16 (N, K)
    (each photo's place), `labels_` int (N,), `names_` str (N,)."""

    def __init__(self, blocks: Sequence[int], seed: int = 0):
        self.blocks = tuple(int(b) for b in blocks)
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray, names: Sequence[str]) -> Neighbours:
        labels = np.asarray(labels)
        kept = _proportional_draw(labels, MAX_KEPT, self.seed)
        x = normalise(np.asarray(features)[kept], self.blocks)
        components = int(min(MAX_COMPONENTS, x.shape[1], len(x) - 1))
        if components < 2:
            raise CatbreedError("neighbours.too_few")
        with threadpool_limits(1, user_api="blas"):  # small products: one thread is faster (familiarity.py)
            pca = PCA(components, svd_solver="randomized", random_state=self.seed).fit(x)
        self.mean_ = pca.mean_.astype(np.float32)
        self.components_ = pca.components_.T.astype(np.float32)
        self.points_ = self.place(features[kept]).astype(np.float16)
        self.labels_ = labels[kept]
        self.names_ = np.array([names[i] for i in kept], dtype=str)
        return self

    def place(self, features: np.ndarray) -> np.ndarray:
        """float32 (N, D) -> float32 (N, K): where photos sit in the reduced space (the map: [:, :2])."""
        return (normalise(features, self.blocks) - self.mean_) @ self.components_

    def nearest(self, features: np.ndarray, n: int, leave_out: str | None = None) -> list[list[Near]]:
        """For each of float32 (M, D) `features`, the `n` most alike kept photos, most alike first;
        `leave_out`: a name not to count (the photo itself, when it is one of them)."""
        return self._nearest(self.place(np.atleast_2d(features)), n, leave_out)

    def nearest_to_kept(self, name: str, n: int) -> list[Near]:
        """The `n` kept photos most like the kept photo `name`, itself left out; none if not kept."""
        at = np.flatnonzero(self.names_ == name)[:1]
        return self._nearest(self.points_[at].astype(np.float32), n, name)[0] if len(at) else []

    def _nearest(self, places: np.ndarray, n: int, leave_out: str | None) -> list[list[Near]]:
        kept = _unit(self.points_.astype(np.float32))
        similarity = _unit(places) @ kept.T
        if leave_out is not None:
            similarity[:, self.names_ == leave_out] = -np.inf
        order = np.argsort(-similarity, axis=1)[:, :n]
        return [
            [Near(str(self.names_[i]), int(self.labels_[i]), float(row[i])) for i in ranks if np.isfinite(row[i])]
            for ranks, row in zip(order, similarity)
        ]

    def mixing(self, k: int = 5) -> list[tuple[int, int, float]]:
        """Pairs of breeds (a, b) whose photos sit among each other, most mixed first: the share of
        the `k` nearest photos of a's and b's photos that are of the other breed. Breeds that mix on
        the map are the ones a head finds hard to tell apart."""
        points = _unit(self.points_.astype(np.float32))
        similarity = points @ points.T
        np.fill_diagonal(similarity, -np.inf)
        near = self.labels_[np.argsort(-similarity, axis=1)[:, :k]]
        pairs = []
        breeds = np.unique(self.labels_)
        for i, a in enumerate(breeds):
            for b in breeds[i + 1 :]:
                of_a, of_b = self.labels_ == a, self.labels_ == b
                crossed = (near[of_a] == b).sum() + (near[of_b] == a).sum()
                pairs.append((int(a), int(b), float(crossed / (k * (of_a.sum() + of_b.sum())))))
        return sorted(pairs, key=lambda pair: -pair[2])

    def save(self, path: Path) -> None:
        with open(path, "wb") as file:
            np.savez(
                file,
                blocks=np.asarray(self.blocks),
                mean=self.mean_,
                components=self.components_,
                points=self.points_,
                labels=self.labels_,
                names=self.names_,
            )

    @classmethod
    def load(cls, path: Path) -> Neighbours:
        with np.load(path, allow_pickle=False) as data:
            kept = cls(data["blocks"].tolist())
            kept.mean_, kept.components_, kept.points_ = data["mean"], data["components"], data["points"]
            kept.labels_, kept.names_ = data["labels"], data["names"]
        dim, k = kept.components_.shape
        if dim != sum(kept.blocks) or kept.mean_.shape != (dim,) or kept.points_.shape[1:] != (k,):
            raise ValueError("neighbour arrays of inconsistent shapes")
        if not len(kept.points_) == len(kept.labels_) == len(kept.names_):
            raise ValueError("neighbour arrays of different lengths")
        return kept


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def _proportional_draw(labels: np.ndarray, most: int, seed: int) -> np.ndarray:
    """Indices of all photos, or of about `most` of them with each breed in proportion, in their order."""
    if len(labels) <= most:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        share = max(1, round(most * len(members) / len(labels)))
        chosen.extend(rng.choice(members, min(share, len(members)), replace=False))
    return np.sort(np.array(chosen, dtype=int))

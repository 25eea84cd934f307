"""How many photos do I need? Out-of-fold accuracy against photos per breed, from the cached features.

At each size k (photos per breed, doubling), every cross-validation fold trains a head on at most
k photos of each breed from its training part and answers its held-out photos, the same ones the
estimate used (estimate.py). So each point is an out-of-fold accuracy over every photo, with the
estimate's interval, and the curve ends at the training's own estimate (every photo); each
breed's recall has its interval too, as wide as that breed's few photos make it. The photos
kept at each size are the same draw for every fold (a seeded order per breed), and a size keeps
the smaller ones' photos, so the curve shows what more photos add, not a new draw's luck.

Where the curve still climbs, more photos help: models/card.curve_advice says so in words.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from catbreed.learn.estimate import accuracy_estimate, prediction_interval
from catbreed.models.head import LinearHead
from catbreed.models.metadata import CurvePoint, Estimate
from catbreed.progress import LEARNING_CURVE, Reporter

FIRST_SIZE = 4  # photos per breed at the curve's first point


def curve_sizes(largest: int) -> list[int]:
    """4, 8, 16, ... below `largest` (the photos per breed of the full training)."""
    sizes, k = [], FIRST_SIZE
    while k < largest:
        sizes.append(k)
        k *= 2
    return sizes


def _first_of_each_breed(train: np.ndarray, rank: np.ndarray, labels: np.ndarray, k: int, n_classes: int) -> np.ndarray:
    """Of a fold's training photos, the first `k` of each breed in the draw's order."""
    taken, kept = np.zeros(n_classes, int), []
    for i in train[np.argsort(rank[train], kind="stable")]:
        if taken[labels[i]] < k:
            taken[labels[i]] += 1
            kept.append(i)
    return np.array(kept, dtype=int)


def _point(k: int, overall: Estimate, predicted: np.ndarray, labels: np.ndarray, classes: list[str]) -> CurvePoint:
    """The point at `k` photos per breed: `overall` and each breed's recall with its interval, where
    the recall on as many new photos of that breed as it has falls (estimate.prediction_interval)."""
    recall, low, high = {}, {}, {}
    for c, breed in enumerate(classes):
        ours = labels == c
        right, n = int((predicted[ours] == c).sum()), int(ours.sum())
        recall[breed] = right / n if n else 0.0
        low[breed], high[breed] = prediction_interval(right, n, n)
    return CurvePoint(k, overall.value, overall.low, overall.high, recall, low, high)


def learning_curve(
    features: np.ndarray,
    labels: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    make_head: Callable[[], LinearHead],
    classes: list[str],
    estimate: Estimate,
    full_logits: np.ndarray,
    batch: int,
    seed: int = 0,
    reporter: Reporter | None = None,
) -> list[CurvePoint]:
    """The curve's points, smallest first; the last is the training's own `estimate`, from its
    out-of-fold `full_logits`. `features` float32 (N, V, D) as the estimate's; `batch` its interval's."""
    order = np.random.default_rng(seed).permutation(len(labels))  # one draw, shared by every size and fold
    rank = np.empty(len(labels), int)
    for c in range(len(classes)):
        members = order[labels[order] == c]
        rank[members] = np.arange(len(members))  # a photo's place in its breed's draw
    per_breed = [np.bincount(labels[train], minlength=len(classes)) for train, _ in folds]
    largest = int(np.median(np.mean(per_breed, axis=0)))
    sizes = curve_sizes(largest)
    reporter = reporter or Reporter()
    reporter.start(LEARNING_CURVE, len(sizes) * len(folds))
    points = []
    for step, k in enumerate(sizes):
        predicted = np.zeros(len(labels), int)
        for done, (train, held_out) in enumerate(folds, start=1):
            kept = _first_of_each_breed(train, rank, labels, k, len(classes))
            head = make_head().fit(features[kept], labels[kept])
            predicted[held_out] = head.logits(features[held_out, 0]).argmax(1)
            reporter.step(step * len(folds) + done)
        points.append(
            _point(k, accuracy_estimate(predicted, labels, batch, estimate.method), predicted, labels, classes)
        )
    points.append(_point(largest, estimate, full_logits.argmax(1), labels, classes))
    return points

"""How often the model will be right on the next photo: cross-validation on the cached features.

Every photo is held out exactly once, by a head trained on the other folds (see split.cv_folds,
which keeps near-duplicates together), so every photo gets an out-of-fold prediction. Their
accuracy estimates how a head trained on all photos does on new ones, and the per-breed table,
the confusion matrix and the photos it got wrong all rest on every photo, not on a tenth of them.

The interval is where the accuracy on a new batch of photos, as many as one fold holds, falls 95%
of the time: it adds that batch's own luck of the draw to the estimate's uncertainty. With c of n
photos right, the chance of being right is Beta(c + 1/2, n - c + 1/2) (Jeffreys' prior), so the
number right in a batch of m is beta-binomial; the interval is its 2.5% and 97.5% quantiles over m.
Measured on 8 random quarters of the Oxford cats held out, a plain Wilson interval over the n
photos held the held-out accuracy only 4 times in 8, this one 8 times in 8.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import betabinom

from catbreed.messages import Message, message
from catbreed.models.head import LinearHead
from catbreed.models.metadata import Estimate
from catbreed.progress import CROSS_VALIDATING, Reporter


def prediction_interval(correct: int, n: int, batch: int, level: float = 0.95) -> tuple[float, float]:
    """The accuracy on a new batch of `batch` photos falls in (low, high) with chance `level`,
    having got `correct` of `n` right (see the module docstring)."""
    if n == 0 or batch == 0:
        return 0.0, 1.0
    right = betabinom(batch, correct + 0.5, n - correct + 0.5)
    tail = (1 - level) / 2
    return float(right.ppf(tail)) / batch, float(right.ppf(1 - tail)) / batch


def accuracy_estimate(predicted: np.ndarray, labels: np.ndarray, batch: int, method: Message) -> Estimate:
    """The out-of-fold accuracy, and the interval for a new batch of `batch` photos."""
    correct = int((np.asarray(predicted) == np.asarray(labels)).sum())
    low, high = prediction_interval(correct, len(labels), batch)
    return Estimate(correct / len(labels) if len(labels) else 0.0, low, high, method)


def out_of_fold_logits(
    features: np.ndarray,
    labels: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    make_head: Callable[[], LinearHead],
    reporter: Reporter | None = None,
) -> np.ndarray:
    """float32 (N, C): each photo's class scores from the head that did not train on it.

    `features` is float32 (N, V, D); heads train on every view and are scored on the photo
    itself (view 0), as a photo is classified later.
    """
    reporter = reporter or Reporter()
    reporter.start(CROSS_VALIDATING, len(folds))
    logits = None
    for done, (train, held_out) in enumerate(folds, start=1):
        head = make_head().fit(features[train], labels[train])
        fold_logits = head.logits(features[held_out, 0])
        if logits is None:
            logits = np.zeros((len(labels), fold_logits.shape[1]), np.float32)
        logits[held_out] = fold_logits
        reporter.step(done, accuracy=float((fold_logits.argmax(1) == labels[held_out]).mean()))
    return logits


def describe_method(n_folds: int, n_photos: int, batch: int) -> Message:
    return message("estimate.method", folds=n_folds, n=n_photos, batch=batch)

"""Calibrated probabilities: "80%" should be right about 80% of the time.

A logistic regression fitted to near-perfection on its training photos is over-confident on new
ones. Temperature scaling (Guo et al., 2017) divides every class score by one number T, chosen
to minimise the log loss of the out-of-fold predictions, that is, on photos the fold's model had
not seen. It never changes which breed comes first, only how sure the answer says it is.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax


def log_loss(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    log_probabilities = log_softmax(logits / temperature, axis=1)
    return float(-log_probabilities[np.arange(len(labels)), labels].mean())


# When every out-of-fold answer is right (small, easy data sets) the log loss keeps falling as T
# shrinks, towards answers of 100%: T stays above 0.5 (the Oxford cats' best T is about 0.7).
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.5, 20.0


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.5, 20] that minimises the log loss of float (N, C) `logits` against int (N,) labels."""
    result = minimize_scalar(
        lambda log_t: log_loss(logits, labels, float(np.exp(log_t))),
        bounds=(np.log(MIN_TEMPERATURE), np.log(MAX_TEMPERATURE)),
        method="bounded",
    )
    return float(np.exp(result.x))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by
    how many photos fall in each (Naeini et al., 2015): 0 is perfectly calibrated."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gaps = [
        abs(correct[which == b].mean() - confidence[which == b].mean()) * (which == b).sum() for b in np.unique(which)
    ]
    return float(sum(gaps) / len(labels))


def calibrated(logits: np.ndarray, temperature: float) -> np.ndarray:
    return softmax(logits / temperature, axis=-1)


def coverage_curve(probabilities: np.ndarray, labels: np.ndarray, steps: int = 20) -> list[tuple[float, float, float]]:
    """(threshold, coverage, accuracy) at thresholds 0, 1/steps, ..., 1: of the photos whose top
    probability reaches the threshold, what fraction they are (coverage) and how many of them
    are right (accuracy; 1.0 when none reach it)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    curve = []
    for threshold in np.linspace(0, 1, steps + 1):
        answered = confidence >= threshold - 1e-9
        accuracy = float(correct[answered].mean()) if answered.any() else 1.0
        curve.append((round(float(threshold), 4), float(answered.mean()), accuracy))
    return curve

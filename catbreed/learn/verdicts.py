"""A model's verdict thresholds, chosen from photos it had not seen (models/verdict.py applies them).

"Not one of my breeds": every photo is scored for familiarity by a scorer fitted on the other
folds (the cross-validation folds), which says how familiar a photo of a breed it knows looks when
the photo itself is new. Breeds it never saw are stood in for by leaving whole breeds out: each
photo is scored by a scorer fitted without its breed. The default threshold calls `UNKNOWN_SHARE`
of its own photos unknown; the curve of that share against the unseen breeds caught is kept, so a
person can move the threshold knowing the trade-off.

"Not sure": among the familiar photos, the lowest top probability from 50% up (in 5-point steps)
at which the named breeds are right `TARGET_ACCURACY` of the time, unless that would name fewer
than `MIN_NAMED` of its own photos; then the highest that still names that many.

Measured by benchmarks/verdicts.py on the Oxford cats, 8 breeds learned and 4 never seen, 8 random
draws (quick mode): these defaults name 83.6% of the learned breeds' new photos (worst draw 79.1%),
right 96.6% of the time (worst 94.6%), and give no breed to 56.3% of the unseen breeds' photos
(worst 37.7%). A share of 8% gave 87.6% named, 96.4% right, 49.0% unseen refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from catbreed.models.familiarity import MAX_COMPONENTS, Familiarity
from catbreed.models.metadata import VerdictSummary
from catbreed.models.verdict import BREED, NOT_SURE, UNKNOWN_BREED, Thresholds, decide

UNKNOWN_SHARE = 0.12
TARGET_ACCURACY = 0.95
MIN_NAMED = 0.80
MAX_LEFT_OUT_GROUPS = 4  # leave-breeds-out fits: a quarter of the breeds at a time, at most
CURVE_SHARES = np.round(np.arange(0.0, 0.301, 0.01), 2)  # shares of its own photos called unknown


def components_for(folds: Sequence[tuple[np.ndarray, np.ndarray]]) -> int:
    """How many principal components every familiarity scorer of one training keeps: as many as the
    smallest fold's photos allow. A distance in more dimensions is larger, so a threshold measured
    with the folds' scorers holds only for a shipped scorer of the same size."""
    return int(min(MAX_COMPONENTS, min(len(train) for train, _ in folds) - 1))


def out_of_fold_familiarity(
    features: np.ndarray, labels: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]], blocks, seed: int = 0
) -> tuple[np.ndarray, Familiarity]:
    """float32 (N,): each photo's familiarity to a scorer fitted on the other folds' photos; and the
    first fold's scorer, the one a model keeps. One fitted on every photo would be tighter than the
    folds' scorers its threshold was measured with (Ledoit-Wolf shrinks less with more photos) and
    flagged 14-28% of new photos of its own breeds instead of 8%; a fold's flags 7-9%, whatever the
    data set's size (3 breeds x 16 photos to 8 x 140)."""
    scores, components = np.zeros(len(labels), np.float32), components_for(folds)
    scorers = []
    for train, held_out in folds:
        scorers.append(Familiarity(blocks, seed, components).fit(features[train], labels[train]))
        scores[held_out] = scorers[-1].score(features[held_out])
    return scores, scorers[0]


def unseen_breed_familiarity(
    features: np.ndarray, labels: np.ndarray, blocks, seed: int = 0, components: int = MAX_COMPONENTS
) -> np.ndarray:
    """float32 (N,): each photo's familiarity to a scorer fitted without its breed, standing in for
    a breed the model never saw. Breeds are left out in up to MAX_LEFT_OUT_GROUPS groups."""
    classes = np.random.default_rng(seed).permutation(np.unique(labels))
    scores = np.zeros(len(labels), np.float32)
    for group in np.array_split(classes, min(MAX_LEFT_OUT_GROUPS, len(classes))):
        out = np.isin(labels, group)
        scores[out] = Familiarity(blocks, seed, components).fit(features[~out], labels[~out]).score(features[out])
    return scores


def unknown_curve(known: np.ndarray, unseen: np.ndarray) -> list[tuple[float, float, float]]:
    """(share of its own photos called unknown, familiarity threshold, share of unseen breeds' photos
    caught) for each share in CURVE_SHARES."""
    curve = []
    for share in CURVE_SHARES:
        threshold = float(np.quantile(known, share)) if share > 0 else float(known.min())
        curve.append((float(share), threshold, float((unseen < threshold).mean())))
    return curve


def threshold_for_share(curve: Sequence[tuple[float, float, float]], share: float) -> float:
    """The familiarity threshold that calls about `share` of its own photos unknown."""
    return min(curve, key=lambda point: abs(point[0] - share))[1]


def not_sure_threshold(probabilities: np.ndarray, labels: np.ndarray, familiar: np.ndarray) -> float:
    """See the module docstring; float (N, C) out-of-fold probabilities, int (N,) labels, bool (N,)."""
    confidence, correct = probabilities.max(1), probabilities.argmax(1) == labels
    chosen = 0.5
    for threshold in np.round(np.arange(0.5, 0.951, 0.05), 2):
        named = familiar & (confidence >= threshold)
        if named.mean() < MIN_NAMED:
            break
        chosen = float(threshold)
        if correct[named].mean() >= TARGET_ACCURACY:
            break
    return chosen


@dataclass(frozen=True)
class Chosen:
    thresholds: Thresholds
    curve: list[tuple[float, float, float]]  # unknown_curve's
    summary: VerdictSummary  # what the thresholds did to the out-of-fold photos
    verdicts: list[str]  # each out-of-fold photo's, in order


def choose_thresholds(probabilities: np.ndarray, labels: np.ndarray, known: np.ndarray, unseen: np.ndarray) -> Chosen:
    """The default thresholds, the unknown-breed curve and what the defaults did to the out-of-fold
    photos: `known` and `unseen` are the two familiarity scores above, float32 (N,)."""
    curve = unknown_curve(known, unseen)
    unknown_below = threshold_for_share(curve, UNKNOWN_SHARE)
    thresholds = Thresholds(not_sure_threshold(probabilities, labels, known >= unknown_below), unknown_below)
    # The photos are of its breeds, so ImageNet's cat verdict is left out here: only the breed rule counts.
    verdicts = np.array([decide(float(p), float(f), True, thresholds) for p, f in zip(probabilities.max(1), known)])
    named = verdicts == BREED
    right = probabilities.argmax(1) == labels
    summary = VerdictSummary(
        named=float(named.mean()),
        named_accuracy=float(right[named].mean()) if named.any() else 0.0,
        not_sure=float((verdicts == NOT_SURE).mean()),
        unknown=float((verdicts == UNKNOWN_BREED).mean()),
        unseen_caught=float((unseen < unknown_below).mean()),
    )
    return Chosen(thresholds, curve, summary, verdicts.tolist())

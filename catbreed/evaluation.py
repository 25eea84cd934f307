"""How well a model does on labelled photos: accuracy, per-class scores, confusion, mistakes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Mistake:
    path: str
    true: str
    predicted: str
    probability: float


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    n: int
    per_class: dict[str, dict[str, float]]  # label -> precision, recall, f1, support
    labels: list[str]
    confusion: list[list[int]]  # rows: true class, columns: predicted class
    misclassified: list[Mistake]

    def to_dict(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "n": self.n,
            "per_class": self.per_class,
            "confusion": {"labels": self.labels, "matrix": self.confusion},
            "misclassified": [asdict(m) for m in self.misclassified],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Evaluation:
        return cls(
            accuracy=data["accuracy"],
            n=data["n"],
            per_class=data["per_class"],
            labels=data["confusion"]["labels"],
            confusion=data["confusion"]["matrix"],
            misclassified=[Mistake(**m) for m in data["misclassified"]],
        )


def evaluate(
    probabilities: np.ndarray, true_ids: Sequence[int], labels: Sequence[str], names: Sequence[str]
) -> Evaluation:
    """Score float32 (N, C) class probabilities against true class ids; `names` label the photos."""
    true_ids = np.asarray(true_ids, dtype=int)
    predicted = probabilities.argmax(axis=1) if len(true_ids) else np.zeros(0, dtype=int)
    k = len(labels)
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (true_ids, predicted), 1)
    per_class = {}
    for c, label in enumerate(labels):
        hits, predicted_c, support = confusion[c, c], confusion[:, c].sum(), confusion[c].sum()
        precision = hits / predicted_c if predicted_c else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(support),
        }
    mistakes = [
        Mistake(names[i], labels[true_ids[i]], labels[predicted[i]], float(probabilities[i, predicted[i]]))
        for i in np.flatnonzero(predicted != true_ids)
    ]
    mistakes.sort(key=lambda m: -m.probability)  # confident mistakes first: they teach the most
    return Evaluation(
        accuracy=float((predicted == true_ids).mean()) if len(true_ids) else 0.0,
        n=len(true_ids),
        per_class=per_class,
        labels=list(labels),
        confusion=confusion.tolist(),
        misclassified=mistakes,
    )

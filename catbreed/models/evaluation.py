"""How well a model does on labelled photos: accuracy, per-class scores, confusion, and what it said of each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from catbreed.models.verdict import BREED


@dataclass(frozen=True)
class Answer:
    """What a model said of one labelled photo, right or wrong."""

    path: str
    true: str
    predicted: str
    probability: float  # of the predicted breed
    verdict: str | None = None  # what a person was told (models/verdict.py); None where nobody was

    @property
    def right(self) -> bool:
        return self.true == self.predicted


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    n: int
    per_class: dict[str, dict[str, float]]  # label -> precision, recall, f1, support
    labels: list[str]
    confusion: list[list[int]]  # rows: true class, columns: predicted class
    misclassified: list[Answer]  # the wrong ones, the surest first

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
            misclassified=[Answer(**m) for m in data["misclassified"]],
        )


def answers(
    probabilities: np.ndarray,
    true_ids: Sequence[int],
    labels: Sequence[str],
    names: Sequence[str],
    verdicts: Sequence[str] | None = None,
) -> list[Answer]:
    """One Answer per photo, in the order given, with the verdict each was given."""
    predicted = probabilities.argmax(axis=1)
    verdicts = verdicts or [BREED] * len(names)
    return [
        Answer(names[i], labels[true_ids[i]], labels[predicted[i]], float(probabilities[i, predicted[i]]), verdicts[i])
        for i in range(len(names))
    ]


def evaluate(
    probabilities: np.ndarray, true_ids: Sequence[int], labels: Sequence[str], names: Sequence[str]
) -> Evaluation:
    """Score float32 (N, C) class probabilities against true class ids; `names` label the photos."""
    true_ids = np.asarray(true_ids, dtype=int)
    predicted = probabilities.argmax(axis=1) if len(true_ids) else np.zeros(0, dtype=int)
    classes = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(
        true_ids, predicted, labels=classes, zero_division=0
    )
    per_class = {
        label: {
            "precision": float(precision[c]),
            "recall": float(recall[c]),
            "f1": float(f1[c]),
            "support": int(support[c]),
        }
        for c, label in enumerate(labels)
    }
    mistakes = [
        Answer(names[i], labels[true_ids[i]], labels[predicted[i]], float(probabilities[i, predicted[i]]))
        for i in np.flatnonzero(predicted != true_ids)
    ]
    mistakes.sort(key=lambda m: -m.probability)  # confident mistakes first: they teach the most
    return Evaluation(
        accuracy=float(accuracy_score(true_ids, predicted)) if len(true_ids) else 0.0,
        n=len(true_ids),
        per_class=per_class,
        labels=list(labels),
        confusion=confusion_matrix(true_ids, predicted, labels=classes).tolist(),
        misclassified=mistakes,
    )

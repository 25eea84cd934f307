import numpy as np
import pytest

from catbreed.models.evaluation import evaluate


def test_scores_match_a_hand_computed_example():
    labels = ["a", "b", "c"]
    # true:      a  a  a  b  b  c
    # predicted: a  a  b  b  c  c
    probs = np.eye(3)[[0, 0, 1, 1, 2, 2]] * 0.7 + 0.1
    result = evaluate(probs, [0, 0, 0, 1, 1, 2], labels, [f"p{i}" for i in range(6)])
    assert result.accuracy == pytest.approx(4 / 6)
    assert result.confusion == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert result.per_class["a"] == {
        "precision": 1.0,
        "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(0.8),
        "support": 3,
    }
    assert result.per_class["b"]["precision"] == 0.5 and result.per_class["b"]["recall"] == 0.5
    assert result.per_class["c"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1}
    assert [(m.path, m.true, m.predicted) for m in result.misclassified] == [("p2", "a", "b"), ("p4", "b", "c")]
    assert result.misclassified[0].probability == pytest.approx(0.8)


def test_round_trips_through_a_dict():
    from catbreed.models.evaluation import Evaluation

    result = evaluate(np.eye(2)[[0, 1, 1]], [0, 1, 0], ["x", "y"], ["1", "2", "3"])
    assert Evaluation.from_dict(result.to_dict()) == result

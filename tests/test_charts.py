import numpy as np

from catbreed.explain import charts
from catbreed.learn.evaluation import evaluate
from catbreed.progress import Progress


def test_photo_counts_has_a_bar_per_breed_with_its_count():
    chart = charts.photo_counts({"Bombay": 16, "Chartreux <b>été</b>": 3})
    assert chart.data.to_dict("records") == [
        {"breed": "Bombay", "photos": 16},
        {"breed": "Chartreux <b>été</b>", "photos": 3},
    ]
    assert chart.to_dict()["height"] == {"step": 28}


def test_probabilities_keep_the_order_given():
    chart = charts.probabilities([("Siamese", 0.9), ("Birman", 0.07)])
    assert list(chart.data["breed"]) == ["Siamese", "Birman"] and list(chart.data["probability"]) == [0.9, 0.07]


def test_fold_accuracies_have_a_bar_per_finished_fold():
    folds = [Progress("estimating accuracy", 1, 5, accuracy=0.9), Progress("estimating accuracy", 2, 5, accuracy=0.8)]
    chart = charts.fold_accuracies(folds)
    assert chart.data.to_dict("records") == [{"fold": 1, "accuracy": 0.9}, {"fold": 2, "accuracy": 0.8}]


def test_confusion_matrix_has_a_cell_per_pair():
    result = evaluate(np.eye(2)[[0, 1, 1]], [0, 1, 0], ["a", "b"], ["1", "2", "3"])
    chart = charts.confusion_matrix(result)
    cells = chart.data.to_dict("records")
    assert {"true": "a", "predicted": "b", "photos": 1} in cells and len(cells) == 4

"""The charts as a viewer reads them: what the Vega-Lite specs promise about order, scale and labels."""

import numpy as np

from catbreed.explain import charts
from catbreed.models.evaluation import evaluate
from catbreed.progress import Progress


def encoding(chart) -> dict:
    spec = chart.to_dict()
    return spec.get("encoding") or spec["layer"][0]["encoding"]


def test_photo_counts_put_the_largest_breed_first_with_one_band_per_breed():
    chart = charts.photo_counts({"Bombay": 3, "Chartreux <b>été</b>": 16})
    assert encoding(chart)["y"]["sort"] == "-x"
    assert chart.to_dict()["height"] == {"step": 28}  # 12 breeds get 12 bands of the same height as 2
    assert set(chart.data["breed"]) == {"Bombay", "Chartreux <b>été</b>"}  # a name is data, never markup


def test_probabilities_are_drawn_on_a_fixed_0_to_100_percent_scale():
    x = encoding(charts.probabilities([("Siamese", 0.3), ("Birman", 0.2)]))["x"]
    assert x["scale"]["domain"] == [0, 1] and x["axis"]["format"] == "%"  # 30% never fills the bar


def test_fold_accuracies_share_one_scale_as_folds_arrive():
    folds = [Progress("estimating accuracy", 1, 5, accuracy=0.9), Progress("estimating accuracy", 2, 5, accuracy=0.8)]
    y = encoding(charts.fold_accuracies(folds))["y"]
    assert y["scale"]["domain"] == [0, 1]
    assert encoding(charts.fold_accuracies([]))["y"]["scale"]["domain"] == [0, 1]  # before the first fold too


def test_confusion_matrix_keeps_the_class_order_and_leaves_empty_cells_blank():
    labels = ["Sphynx", "Abyssinian", "Bengal"]  # not alphabetical: the axes must not re-sort them
    result = evaluate(np.eye(3)[[0, 1, 1, 2]], [0, 1, 0, 2], labels, ["1", "2", "3", "4"])
    chart = charts.confusion_matrix(result)
    heat, text = chart.to_dict()["layer"]
    assert heat["encoding"]["x"]["sort"] == labels and heat["encoding"]["y"]["sort"] == labels
    assert "datum.photos > 0" in str(text["encoding"]["text"])  # zeros print nothing, mistakes stand out
    assert chart.to_dict()["width"] == chart.to_dict()["height"] >= 220

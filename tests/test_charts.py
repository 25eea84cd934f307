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


def test_fold_accuracies_share_one_scale_as_folds_arrive():
    folds = [Progress("estimating accuracy", 1, 5, accuracy=0.9), Progress("estimating accuracy", 2, 5, accuracy=0.8)]
    y = encoding(charts.fold_accuracies(folds))["y"]
    assert y["scale"]["domain"] == [0, 1]
    assert encoding(charts.fold_accuracies([]))["y"]["scale"]["domain"] == [0, 1]  # before the first fold too


def test_confusion_matrix_keeps_the_class_order_and_leaves_empty_cells_blank():
    labels = ["Sphynx", "Abyssinian", "Bengal"]  # not alphabetical: the axes must not re-sort them
    result = evaluate(np.eye(3)[[0, 1, 1, 2]], [0, 1, 0, 2], labels, ["1", "2", "3", "4"])
    chart = charts.confusion_matrix(result)
    heat, text, picker = chart.to_dict()["layer"]
    assert heat["encoding"]["x"]["sort"] == labels and heat["encoding"]["y"]["sort"] == labels
    assert "datum.photos > 0" in str(text["encoding"]["text"])  # zeros print nothing, mistakes stand out
    assert chart.to_dict()["width"] == chart.to_dict()["height"] >= 220
    (selection,) = chart.to_dict()["params"]  # a click selects a cell by its two breeds
    assert selection["name"] == "cell" and selection["select"]["fields"] == ["true", "predicted"]
    assert selection["views"] == [picker["name"]]  # the top layer, above the numbers, takes the clicks
    assert "'empty': False" in str(picker["encoding"]["strokeWidth"])  # no cell drawn as picked before a click


def test_expected_accuracies_show_each_interval_on_a_shared_scale_that_starts_near_the_lowest():
    from catbreed.models.compare import ModelRow

    rows = [
        ModelRow("quick", 12, 1799, "quick", "lite0", 0.907, 0.872, 0.939, 49.0, "2026-11-30", {}),
        ModelRow("accurate", 12, 1799, "accurate", "lite0_1_2", 0.925, 0.894, 0.953, 194.0, "2026-11-30", {}),
        ModelRow("old", 3, 36, "", "lite0", None, None, None, None, "2026-11-01", {}),  # no estimate: not drawn
    ]
    interval, dots = charts.expected_accuracies(rows).to_dict()["layer"]
    assert interval["encoding"]["x"]["field"] == "low" and interval["encoding"]["x2"]["field"] == "high"
    assert interval["encoding"]["x"]["scale"]["domain"] == [0.822, 1]
    assert dots["encoding"]["y"]["sort"] is None  # the table's order, newest first
    assert charts.expected_accuracies(rows[2:]).to_dict()  # nothing estimated yet: still a chart


def test_the_coverage_chart_marks_the_threshold_in_use():
    curve = [(0.0, 1.0, 0.9), (0.5, 0.8, 0.97), (1.0, 0.0, 1.0)]
    lines, rule = charts.coverage(curve, 0.5).to_dict()["layer"]
    assert lines["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert rule["mark"]["type"] == "rule" and charts.coverage(curve, 0.5).layer[1].data["threshold"].tolist() == [0.5]


def test_the_learning_curve_draws_each_chosen_breeds_interval_and_none_where_an_older_model_kept_none():
    from catbreed.models.metadata import CurvePoint

    curve = [
        CurvePoint(4, 0.6, 0.5, 0.7, {"A": 0.5, "B": 0.7}, {"A": 0.3, "B": 0.55}, {"A": 0.7, "B": 0.85}),
        CurvePoint(8, 0.8, 0.7, 0.9, {"A": 0.75, "B": 0.85}, {"A": 0.55, "B": 0.7}, {"A": 0.9, "B": 0.95}),
    ]
    band = charts.learning_curve(curve, ["A"]).layer[0].data
    assert band["line"].tolist() == ["all breeds"] * 2 + ["A"] * 2 and band["low"].tolist()[2:] == [0.3, 0.55]
    assert charts.learning_curve(curve, ["A"]).to_dict()["layer"][0]["encoding"]["y"]["scale"]["domain"][0] == 0.25
    older = [CurvePoint(p.photos_per_breed, p.value, p.low, p.high, p.recall) for p in curve]
    assert charts.learning_curve(older, ["A"]).layer[0].data["line"].tolist() == ["all breeds"] * 2


def test_a_charts_words_and_numbers_follow_the_language():
    chart = charts.photo_counts({"Persa": 3, "Siamês": 1200}, "pt_BR").to_dict()
    assert chart["encoding"]["x"]["title"] == "fotos"
    number = chart["config"]["locale"]["number"]
    assert (number["decimal"], number["thousands"]) == (",", ".")
    assert charts.photo_counts({"Persian": 3}).to_dict()["config"]["locale"]["number"]["decimal"] == "."

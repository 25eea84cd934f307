"""Altair charts of catbreed's data, for any face that shows charts (the app, a notebook).

Each function takes plain data and returns a chart, so the numbers behind every picture can be
tested without a browser. Labels are data, never markup: Altair renders them as text.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from catbreed.messages import ENGLISH, number_symbols, text
from catbreed.models.compare import ModelRow
from catbreed.models.evaluation import Evaluation
from catbreed.models.metadata import CurvePoint
from catbreed.progress import Progress

ACCENT = "#c0643b"
BREED_COLOURS = ["#4c78a8", "#54a24b", "#b279a2", "#eeca3b", "#72b7b2", "#9d755d", "#bab0ac", "#e45756"]


def _in(language: str, chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart with its axes' and tooltips' numbers written as `language` writes them (88,9%)."""
    decimal, thousands = number_symbols(language)
    return chart.configure(
        locale={"number": {"decimal": decimal, "thousands": thousands, "grouping": [3], "currency": ["", ""]}}
    )


def photo_counts(counts: dict[str, int], language: str = ENGLISH) -> alt.Chart:
    data = pd.DataFrame({"breed": list(counts), "photos": list(counts.values())})
    photos = text("chart.photos", language)
    chart = (
        alt.Chart(data)
        .mark_bar(color=ACCENT)
        .encode(
            x=alt.X("photos:Q", title=photos),
            y=alt.Y("breed:N", sort="-x", title=None),
            tooltip=[
                alt.Tooltip("breed:N", title=text("chart.breed", language)),
                alt.Tooltip("photos:Q", title=photos),
            ],
        )
        .properties(height=alt.Step(28))  # a fixed band per breed, however many there are
    )
    return _in(language, chart)


def fold_accuracies(folds: Sequence[Progress], language: str = ENGLISH) -> alt.Chart:
    """The accuracy of each cross-validation fold on its held-out photos, as the folds finish."""
    data = pd.DataFrame({"fold": [e.step for e in folds], "accuracy": [e.accuracy for e in folds]}).astype(
        {"fold": int, "accuracy": float}
    )  # typed even before the first fold ends
    chart = (
        alt.Chart(data)
        .mark_bar(color=ACCENT)
        .encode(
            x=alt.X("fold:O", title=text("chart.fold", language)),
            y=alt.Y(
                "accuracy:Q",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
                title=text("chart.held_out_accuracy", language),
            ),
            tooltip=[
                alt.Tooltip("fold:O", title=text("chart.fold", language)),
                alt.Tooltip("accuracy:Q", format=".1%", title=text("chart.accuracy", language)),
            ],
        )
        .properties(width=alt.Step(40), height=160)
    )
    return _in(language, chart)


def confusion_matrix(evaluation: Evaluation, language: str = ENGLISH) -> alt.Chart:
    labels = evaluation.labels
    rows = [
        {"true": labels[t], "predicted": labels[p], "photos": count}
        for t, row in enumerate(evaluation.confusion)
        for p, count in enumerate(row)
    ]
    data = pd.DataFrame(rows)
    size = max(220, 34 * len(labels))
    # A click picks a cell's photos; before any click no cell is picked (nor drawn as picked).
    cell = alt.selection_point(name="cell", fields=["true", "predicted"], empty=False)
    base = alt.Chart(data).encode(
        x=alt.X("predicted:N", sort=labels, title=text("chart.predicted_breed", language)),
        y=alt.Y("true:N", sort=labels, title=text("chart.true_breed", language)),
    )
    heat = base.mark_rect().encode(color=alt.Color("photos:Q", scale=alt.Scale(scheme="oranges"), legend=None))
    numbers = base.mark_text(fontSize=11).encode(
        text=alt.condition(alt.datum.photos > 0, "photos:Q", alt.value("")),
        color=alt.value("black"),
    )
    # A see-through cell on top of the number takes the clicks, so a click on the number picks its cell too.
    picker = (
        base.mark_rect(fillOpacity=0, fill="white", stroke="black")
        .encode(
            strokeWidth=alt.condition(cell, alt.value(2), alt.value(0)),
            tooltip=[
                alt.Tooltip("true:N", title=text("chart.true", language)),
                alt.Tooltip("predicted:N", title=text("chart.predicted", language)),
                alt.Tooltip("photos:Q", title=text("chart.photos", language)),
            ],
        )
        .add_params(cell)
    )
    return _in(language, (heat + numbers + picker).properties(width=size, height=size))


def expected_accuracies(rows: Sequence[ModelRow], language: str = ENGLISH) -> alt.Chart:
    """Each saved model's expected accuracy on new photos as a dot, its 95% interval as a bar."""
    data = pd.DataFrame(
        [
            {"model": r.name, "expected": r.expected, "low": r.low, "high": r.high}
            for r in rows
            if r.expected is not None
        ],
        columns=["model", "expected", "low", "high"],
    ).astype({"model": str, "expected": float, "low": float, "high": float})
    y = alt.Y("model:N", sort=None, title=None)
    lowest = float(data["low"].min()) if len(data) else 1.0
    scale = alt.Scale(domain=[max(0.0, lowest - 0.05), 1])  # intervals a few points apart stay visible
    interval = (
        alt.Chart(data)
        .mark_rule(color=ACCENT, strokeWidth=3)
        .encode(
            x=alt.X("low:Q", scale=scale, axis=alt.Axis(format="%"), title=text("chart.expected_accuracy", language)),
            x2="high:Q",
            y=y,
        )
    )
    dots = (
        alt.Chart(data)
        .mark_point(filled=True, size=90, color="black")
        .encode(
            x=alt.X("expected:Q", scale=scale),
            y=y,
            tooltip=[
                alt.Tooltip("model:N", title=text("chart.model", language)),
                alt.Tooltip("expected:Q", format=".1%", title=text("chart.expected", language)),
                alt.Tooltip("low:Q", format=".1%", title=text("chart.interval_from", language)),
                alt.Tooltip("high:Q", format=".1%", title=text("chart.interval_to", language)),
            ],
        )
    )
    return _in(language, (interval + dots).properties(height=alt.Step(30)))


def coverage(curve: Sequence[tuple[float, float, float]], threshold: float, language: str = ENGLISH) -> alt.Chart:
    """How many photos get an answer (coverage) and how many of those are right, as the
    "not sure" threshold rises; a rule marks the threshold in use."""
    data = pd.DataFrame(
        [
            {"threshold": t, "measure": name, "value": value}
            for t, covered, right in curve
            for name, value in (
                (text("chart.photos_answered", language), covered),
                (text("chart.right_among_them", language), right),
            )
        ],
        columns=["threshold", "measure", "value"],
    ).astype({"threshold": float, "value": float})
    lines = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("threshold:Q", axis=alt.Axis(format="%"), title=text("chart.not_sure_below", language)),
            y=alt.Y("value:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title=None),
            color=alt.Color("measure:N", scale=alt.Scale(range=[ACCENT, "#3b6fc0"]), title=None),
            tooltip=[
                alt.Tooltip("threshold:Q", format=".0%", title=text("chart.threshold", language)),
                alt.Tooltip("measure:N", title=text("chart.measure", language)),
                alt.Tooltip("value:Q", format=".1%", title=text("chart.value", language)),
            ],
        )
    )
    rule = alt.Chart(pd.DataFrame({"threshold": [threshold]})).mark_rule(strokeDash=[4, 4]).encode(x="threshold:Q")
    return _in(language, (lines + rule).properties(height=200))


def learning_curve(curve: Sequence[CurvePoint], breeds: Sequence[str] = (), language: str = ENGLISH) -> alt.LayerChart:
    """Out-of-fold accuracy against photos per breed (a log scale: each step doubles), its 95%
    interval as a band; the recall of each of `breeds` as a thinner line beside it, with its own
    fainter band where the model has one (older models have none)."""
    model = text("chart.all_breeds", language)
    rows = [
        {"photos": p.photos_per_breed, "line": model, "value": p.value, "low": p.low, "high": p.high} for p in curve
    ]
    rows += [
        {
            "photos": p.photos_per_breed,
            "line": breed,
            "value": p.recall.get(breed, 0.0),
            "low": p.recall_low.get(breed),
            "high": p.recall_high.get(breed),
        }
        for breed in breeds
        for p in curve
    ]
    data = pd.DataFrame(rows, columns=["photos", "line", "value", "low", "high"])
    sizes = [p.photos_per_breed for p in curve]
    x = alt.X(
        "photos:Q",
        scale=alt.Scale(type="log", base=2),
        axis=alt.Axis(values=sizes, format="d"),  # a tick at each point, not the log scale's own
        title=text("chart.photos_per_breed", language),
    )
    lowest = float(data[["value", "low"]].min().min()) if len(data) else 0.0
    scale = alt.Scale(domain=[max(0.0, lowest - 0.05), 1])  # a few points' difference stays visible
    y = alt.Y("value:Q", scale=scale, axis=alt.Axis(format="%"), title=text("chart.accuracy", language))
    colours = alt.Scale(domain=[model, *breeds], range=[ACCENT, *BREED_COLOURS])
    # one legend for both layers, drawn as the lines (not the bands' pale patches)
    colour = alt.Color(
        "line:N",
        title=None,
        scale=colours,
        legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1),
    )
    band = (
        alt.Chart(data.dropna(subset=["low", "high"]))
        .mark_area()
        .encode(
            x=x,
            y=alt.Y("low:Q", scale=scale),
            y2="high:Q",
            color=colour,
            opacity=alt.condition(alt.datum.line == model, alt.value(0.2), alt.value(0.08)),
        )
    )
    lines = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=x,
            y=y,
            color=colour,
            strokeWidth=alt.condition(alt.datum.line == model, alt.value(3), alt.value(1.5)),
            tooltip=[
                alt.Tooltip("line:N", title=text("chart.breed", language)),
                alt.Tooltip("photos:Q", title=text("chart.photos_per_breed", language)),
                alt.Tooltip("value:Q", format=".1%", title=text("chart.accuracy", language)),
                alt.Tooltip("low:Q", format=".1%", title=text("chart.interval_from", language)),
                alt.Tooltip("high:Q", format=".1%", title=text("chart.interval_to", language)),
            ],
        )
    )
    return _in(language, (band + lines).properties(height=240))


def data_map(
    points: Sequence[tuple[float, float]],
    breeds: Sequence[str],
    pictures: Sequence[str | None] = (),
    placed: Sequence[tuple[float, float, str]] = (),
    language: str = ENGLISH,
) -> alt.LayerChart:
    """A data set as a map: each photo a dot where its features put it (neighbours.py's first two
    components), coloured by breed; a photo's picture (a data URL) shows on hover where given; the
    photos being classified, `placed` (x, y, name), black diamonds among them."""
    data = pd.DataFrame(
        {
            "x": [float(p[0]) for p in points],
            "y": [float(p[1]) for p in points],
            "breed": list(breeds),
            "image": list(pictures) if pictures else [None] * len(points),
        }
    )
    axis = alt.Axis(labels=False, ticks=False, title=None, grid=False)
    tooltip = [alt.Tooltip("breed:N", title=text("chart.breed", language))]
    if pictures:
        tooltip.append(alt.Tooltip("image:N", title="image"))  # the tooltip shows a field named image as a picture
    dots = (
        alt.Chart(data)
        .mark_circle(size=45, opacity=0.75)
        .encode(
            x=alt.X("x:Q", axis=axis),
            y=alt.Y("y:Q", axis=axis),
            color=alt.Color("breed:N", title=None, scale=alt.Scale(range=BREED_COLOURS + [ACCENT])),
            tooltip=tooltip,
        )
    )
    layers = [dots]
    if placed:
        here = pd.DataFrame([{"x": x, "y": y, "photo": name} for x, y, name in placed])
        star = alt.Chart(here).mark_point(shape="diamond", size=260, filled=True, color="black")
        layers.append(
            star.encode(x="x:Q", y="y:Q", tooltip=[alt.Tooltip("photo:N", title=text("chart.this_photo", language))])
        )
    return _in(language, alt.layer(*layers).properties(height=360))

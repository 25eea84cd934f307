"""A model card: one page on what a model learned from, how well it does, and where it fails.

Written as Markdown into every saved bundle (MODEL_CARD.md) and shown on the Models page, so the
page, the download and a reader without catbreed see the same text. Every figure is out-of-fold:
each photo was scored by a head that had not seen it.
"""

from __future__ import annotations

from dataclasses import dataclass

from catbreed.markdown import escape
from catbreed.markdown import escape_line as _cell
from catbreed.messages import ENGLISH, Message, Percent, message, percent, text
from catbreed.models.metadata import CurvePoint, ModelMetadata

CONFUSIONS_LISTED = 5
SAMPLE_PHOTOS = 16  # training photos a bundle keeps to check exports on (learn/training.py picks them)
LITTLE = 0.01  # a doubling of the photos that adds less than this is "little"
WELL_KNOWN = 0.95  # a breed recalled this often needs no more photos first


def most_confused(metadata: ModelMetadata, n: int = CONFUSIONS_LISTED) -> list[tuple[str, str, int]]:
    """(true breed, taken for, photos) for the largest off-diagonal cells of the confusion matrix."""
    if metadata.evaluation is None:
        return []
    labels, matrix = metadata.evaluation.labels, metadata.evaluation.confusion
    cells = [
        (labels[t], labels[p], count)
        for t, row in enumerate(matrix)
        for p, count in enumerate(row)
        if t != p and count > 0
    ]
    return sorted(cells, key=lambda cell: -cell[2])[:n]


def describe_seconds(seconds: float, language: str = ENGLISH) -> str:
    """'0.4 s', '12 s', '3 min 5 s': a retraining on cached features takes well under a second."""
    if seconds < 90:
        return text(message("card.seconds", n=round(seconds, 1 if seconds < 10 else None)), language)
    return text(message("card.minutes", minutes=int(seconds // 60), seconds=round(seconds % 60)), language)


def verdict_lines(meta: ModelMetadata, language: str = ENGLISH) -> list[str]:
    """What the verdicts' default thresholds do, on photos each fold had not seen."""
    metrics = meta.metrics
    if metrics is None or metrics.not_sure_below is None:
        return []
    lines = [text(message("card.not_sure_line", threshold=Percent(metrics.not_sure_below, 0)), language)]
    summary = metrics.verdicts
    if summary is not None and metrics.unknown_below is not None:
        shown = message(
            "card.verdicts_line",
            named=Percent(summary.named, 0),
            named_accuracy=Percent(summary.named_accuracy),
            not_sure=Percent(summary.not_sure, 0),
            unknown=Percent(summary.unknown, 0),
            unseen=Percent(summary.unseen_caught, 0),
        )
        lines += [text(shown, language)]
    return lines


def model_card(name: str, metadata: ModelMetadata, language: str = ENGLISH) -> str:
    """The card of model `name` as Markdown, in `language` (the bundle's own MODEL_CARD.md: English)."""

    def say(code: str, **params) -> str:
        return text(message(code, **params), language)

    meta, data, expected = metadata, metadata.data, metadata.expected_accuracy
    lines = [f"# {_cell(name)}", ""]
    date = meta.created[:10] or say("card.unknown_date")
    lines += [
        say("card.tells_apart", n=len(meta.classes), breeds=", ".join(map(_cell, meta.classes)), date=date),
        "",
        "## " + say("card.data"),
        "",
    ]
    if data:
        lines += [say("card.breed_photos_header"), "| --- | ---: |"]
        lines += [f"| {_cell(breed)} | {count} |" for breed, count in data.counts.items()]
        counted = sum(data.counts.values())
        lines += ["", say("card.photo_summary", n=counted, skipped=data.skipped, duplicates=data.duplicates)]
        lines += [say("card.warning", warning=_cell(text(w, language))) for w in data.warnings]
        if data.notes:
            lines += ["", "### " + say("card.where_from"), "", say("card.data_set_says"), ""]
            lines += [f"> {escape(line)}" if line else ">" for line in data.notes.splitlines()]
    else:
        lines += [say("card.not_recorded")]
    lines += ["", "## " + say("card.training"), ""]
    size = meta.image_size
    mode = meta.mode or say("card.unknown")
    lines += [say("card.mode", mode=mode, backbone=meta.backbone, size=size, preprocessing=meta.preprocessing)]
    if meta.split:
        held_out = say("card.held_out", n=meta.split.test) if meta.split.test else ""
        lines += [say("card.cross_validation", train=meta.split.train, folds=meta.split.folds) + held_out]
    if meta.seconds is not None:
        lines += [say("card.took", time=describe_seconds(meta.seconds, language))]
    lines += ["", "## " + say("card.how_well"), ""]
    if expected and meta.metrics:
        calibration = meta.metrics.calibration
        lines += [
            say("card.expected", estimate=expected.describe(language), method=expected.method),
            say(
                "card.calibrated",
                temperature=round(calibration.temperature, 2),
                before=Percent(calibration.ece_before),
                after=Percent(calibration.ece_after),
            ),
        ]
        lines += verdict_lines(meta, language)
        if meta.metrics.test_accuracy is not None:
            lines += [say("card.test", accuracy=Percent(meta.metrics.test_accuracy))]
        if said := curve_advice(meta.metrics.learning_curve):
            lines += ["", _cell(text(said.model, language))] + (
                [_cell(text(said.breed, language))] if said.breed else []
            )
    else:
        lines += [say("card.not_estimated")]
    if meta.evaluation:
        lines += ["", say("card.per_breed_header"), "| --- | ---: | ---: | ---: |"]
        lines += [
            f"| {_cell(breed)} | {percent(s['precision'], language, 0)} | {percent(s['recall'], language, 0)} "
            f"| {s['support']} |"
            for breed, s in meta.evaluation.per_class.items()
        ]
        confusions = most_confused(meta)
        lines += ["", say("card.confuses_most") if confusions else say("card.confuses_none")]
        lines += [say("card.confusion", true=_cell(t), predicted=_cell(p), n=n) for t, p, n in confusions]
    judged = meta.metrics and meta.metrics.unknown_below is not None
    lines += [
        "",
        "## " + say("card.limits"),
        "",
        say("card.limit.samples", n=SAMPLE_PHOTOS, size=size),
        *([say("card.limit.kept_photos", n=meta.kept_photos)] if meta.kept_photos else []),
        say("card.limit.breeds_unknown" if judged else "card.limit.breeds_nearest", n=len(meta.classes)),
        say("card.limit.not_a_cat"),
        say("card.limit.like_these"),
        "",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Advice:
    """What the curve says, in words: for the model, and for the breed more photos would help most."""

    model: Message
    breed: Message | None = None
    focus: str | None = None  # the breed `breed` speaks of


def curve_advice(curve: list[CurvePoint]) -> Advice | None:
    """What the learning curve (learn/learning_curve.py) says, from its last doubling (the last two
    points): the last gain says roughly how much another doubling would add (at most: gains shrink
    as photos grow), for the model and for the breed that would gain most. None: fewer than two points."""
    if len(curve) < 2:
        return None
    before, now = curve[-2], curve[-1]
    gain = now.value - before.value
    common = {"n": now.photos_per_breed, "value": Percent(now.value, 0), "before": before.photos_per_breed}
    if gain < LITTLE:
        model = message("curve.flat", gain=Percent(max(gain, 0.0), 1), **common)
    else:
        model = message("curve.climbing", gain=Percent(gain, 0), **common)
    gains = {
        breed: now.recall[breed] - before.recall.get(breed, 0.0)
        for breed in now.recall
        if now.recall[breed] < WELL_KNOWN
    }
    breed = max(gains, key=lambda b: (gains[b], -now.recall[b]), default=None)
    if breed is None or gains[breed] < LITTLE:
        worst = min(now.recall, key=now.recall.get) if now.recall else None
        if worst is None or now.recall[worst] >= WELL_KNOWN:
            return Advice(model)
        return Advice(model, message("curve.breed_stuck", breed=worst, recall=Percent(now.recall[worst], 0)), worst)
    said = message(
        "curve.breed_helps",
        breed=breed,
        before=Percent(before.recall[breed], 0),
        now=Percent(now.recall[breed], 0),
        before_n=before.photos_per_breed,
        n=now.photos_per_breed,
    )
    return Advice(model, said, breed)

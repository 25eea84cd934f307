"""A model card: one page on what a model learned from, how well it does, and where it fails.

Written as Markdown into every saved bundle (MODEL_CARD.md) and shown on the Models page, so the
page, the download and a reader without catbreed see the same text. Every figure is out-of-fold:
each photo was scored by a head that had not seen it.
"""

from __future__ import annotations

from catbreed.markdown import escape
from catbreed.markdown import escape_line as _cell
from catbreed.models.metadata import ModelMetadata

CONFUSIONS_LISTED = 5
SAMPLE_PHOTOS = 16  # training photos a bundle keeps to check exports on (learn/training.py picks them)


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


def describe_seconds(seconds: float) -> str:
    """'0.4 s', '12 s', '3 min 5 s': a retraining on cached features takes well under a second."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s" if seconds < 90 else f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def verdict_lines(meta: ModelMetadata) -> list[str]:
    """What the verdicts' default thresholds do, on photos each fold had not seen."""
    metrics = meta.metrics
    if metrics is None or metrics.not_sure_below is None:
        return []
    lines = [f"It says 'not sure' when its likeliest breed has less than {metrics.not_sure_below:.0%}."]
    summary = metrics.verdicts
    if summary is not None and metrics.unknown_below is not None:
        lines += [
            f"With its default thresholds it named a breed for {summary.named:.0%} of the photos it learned from, "
            f"right on {summary.named_accuracy:.1%} of those; it said 'not sure' for {summary.not_sure:.0%} and "
            f"'not one of my breeds' for {summary.unknown:.0%} (each photo judged by a model that had not seen it). "
            f"Of photos of breeds left out of training, it called {summary.unseen_caught:.0%} 'not one of my breeds'."
        ]
    return lines


def model_card(name: str, metadata: ModelMetadata) -> str:
    """The card of model `name` as Markdown."""
    meta, data, expected = metadata, metadata.data, metadata.expected_accuracy
    lines = [f"# {_cell(name)}", ""]
    lines += [
        f"Tells apart {len(meta.classes)} cat breeds: {', '.join(map(_cell, meta.classes))}. "
        f"Made by catbreed on {meta.created[:10] or 'an unknown date'}.",
        "",
        "## Data",
        "",
    ]
    if data:
        lines += ["| breed | photos |", "| --- | ---: |"]
        lines += [f"| {_cell(breed)} | {count} |" for breed, count in data.counts.items()]
        lines += [
            "",
            f"{sum(data.counts.values())} photos; {data.skipped} files skipped (not usable as photos), "
            f"{data.duplicates} exact duplicates kept once.",
        ]
        lines += [f"- Warning: {_cell(w)}" for w in data.warnings]
        if data.notes:
            lines += ["", "### Where the photos come from", "", "The data set says:", ""]
            lines += [f"> {escape(line)}" if line else ">" for line in data.notes.splitlines()]
    else:
        lines += ["Not recorded."]
    lines += ["", "## Training", ""]
    mode = meta.mode or "unknown"
    lines += [
        f"Mode {mode}: the frozen ImageNet network `{meta.backbone}` ({meta.image_size} x {meta.image_size} px, "
        f"{meta.preprocessing}) computes features; a logistic-regression head learned the breeds from them."
    ]
    if meta.split:
        lines += [
            f"Every one of the {meta.split.train} photos trained the final head; {meta.split.folds}-fold "
            "cross-validation (near-duplicates kept in one fold) scored each photo with a head that had not seen it."
            + (f" {meta.split.test} photos were held out as a test set." if meta.split.test else "")
        ]
    if meta.seconds is not None:
        lines += [f"Training took {describe_seconds(meta.seconds)}."]
    lines += ["", "## How well it does", ""]
    if expected and meta.metrics:
        calibration = meta.metrics.calibration
        lines += [
            f"Expected accuracy on new photos of these breeds: **{expected.describe()}** (95% interval, "
            f"by {expected.method}).",
            f"Probabilities are calibrated (temperature {calibration.temperature:.2f}): calibration error "
            f"{calibration.ece_before:.1%} before, {calibration.ece_after:.1%} after.",
        ]
        lines += verdict_lines(meta)
        if meta.metrics.test_accuracy is not None:
            lines += [f"On the held-out test photos: {meta.metrics.test_accuracy:.1%}."]
    else:
        lines += ["Not estimated."]
    if meta.evaluation:
        lines += ["", "| breed | precision | recall | photos |", "| --- | ---: | ---: | ---: |"]
        lines += [
            f"| {_cell(breed)} | {s['precision']:.0%} | {s['recall']:.0%} | {s['support']} |"
            for breed, s in meta.evaluation.per_class.items()
        ]
        confusions = most_confused(meta)
        lines += ["", "Breeds it confuses most:" if confusions else "It confused no two breeds."]
        lines += [f"- {_cell(t)} taken for {_cell(p)}: {n} photo{'' if n == 1 else 's'}" for t, p, n in confusions]
    lines += [
        "",
        "## Known limits",
        "",
        f"- It carries up to {SAMPLE_PHOTOS} of its training photos (in `samples/`, at {meta.image_size} x "
        f"{meta.image_size} px), which every export is checked against: whoever gets the model gets them.",
        f"- It knows only these {len(meta.classes)} breeds. "
        + (
            "Photos unlike all of them are called 'not one of my breeds', but a cat of another breed that looks "
            "like one of them gets that breed's name."
            if meta.metrics and meta.metrics.unknown_below is not None
            else "Any other cat gets the nearest of them."
        ),
        "- It says 'not a cat' from the ImageNet network's own answer when no breed it knows is clear; black "
        "cats and hairless breeds are the ones ImageNet most often doubts, and a cat-like toy may pass.",
        "- The expected accuracy holds for photos like the ones it learned from; other light, angles or "
        "cameras may do worse.",
        "",
    ]
    return "\n".join(lines)

"""Do the explanations tell the truth, and what do they cost?

    python benchmarks/explanations.py [--data ../shared/data/oxford-cats] [--mode quick]

Trains on three quarters of the shared cats (the fixed held-out quarter, `--test-percent 25`) and,
for each held-out photo, compares the breed of its nearest photo among those the model learned
from (neighbours.py) with the breed the model names: how often each is right, with 95% intervals.
Then times, per photo, the nearest photos (after the network's pass, which the answer has paid),
the map's placement and the learning curve's share of the training. Prints a table, then one
JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.stats import beta

from catbreed.data.dataset import check_folder
from catbreed.learn.settings import TrainSettings
from catbreed.learn.training import train
from catbreed.models.predict import Predictor
from catbreed.progress import LEARNING_CURVE

ROOT = Path(__file__).resolve().parents[1]


def interval(right: int, n: int) -> tuple[float, float]:
    """Jeffreys' 95% interval for a share of `right` in `n`."""
    return float(beta.ppf(0.025, right + 0.5, n - right + 0.5)), float(beta.ppf(0.975, right + 0.5, n - right + 0.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "oxford-cats")
    parser.add_argument("--mode", default="quick")
    args = parser.parse_args()

    dataset = check_folder(args.data)
    stages: dict[str, float] = {}

    def on_event(event) -> None:
        stages.setdefault(event.stage, time.perf_counter())
        stages[event.stage + " end"] = time.perf_counter()

    started = time.perf_counter()
    result = train(dataset, TrainSettings(mode=args.mode, test_percent=25), on_event=on_event)
    seconds = time.perf_counter() - started
    curve_seconds = stages[LEARNING_CURVE + " end"] - stages[LEARNING_CURVE]
    predictor = Predictor(result.bundle)
    held_out = [dataset.photos[i] for i in result.split.test]
    classes = result.bundle.classes

    model_right = nearest_right = 0
    nearest_ms, place_ms = [], []
    for photo in held_out:
        prediction = predictor.predict(photo.path, top_k=1)
        model_right += prediction.top[0][0] == photo.label
        began = time.perf_counter()
        (near,) = predictor.nearest(prediction, 1)
        nearest_ms.append(1000 * (time.perf_counter() - began))
        nearest_right += classes[near.breed] == photo.label
        began = time.perf_counter()
        result.bundle.neighbours.place(prediction.features[None])
        place_ms.append(1000 * (time.perf_counter() - began))
    n = len(held_out)
    figures = {
        "mode": args.mode,
        "held_out_photos": n,
        "model_right": round(model_right / n, 4),
        "model_interval": [round(x, 4) for x in interval(model_right, n)],
        "nearest_photo_right": round(nearest_right / n, 4),
        "nearest_interval": [round(x, 4) for x in interval(nearest_right, n)],
        "nearest_ms_per_photo_p50": round(float(np.median(nearest_ms)), 2),
        "map_place_ms_per_photo_p50": round(float(np.median(place_ms)), 3),
        "learning_curve_seconds": round(curve_seconds, 2),
        "training_seconds": round(seconds, 2),
        "kept_photos": len(result.bundle.neighbours.names_),
    }
    print(f"{n} held-out photos ({args.mode} mode, trained on the other {len(result.split.train)})")
    print(f"  the model's breed right:          {figures['model_right']:.1%}  {figures['model_interval']}")
    print(f"  the nearest photo's breed right:  {figures['nearest_photo_right']:.1%}  {figures['nearest_interval']}")
    print(f"  nearest photos: {figures['nearest_ms_per_photo_p50']} ms a photo after the answer's own pass")
    print(f"  learning curve: {figures['learning_curve_seconds']} s of a {figures['training_seconds']} s training")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

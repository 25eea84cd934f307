"""Do the verdicts hold on photos nobody trained on? Breeds learned, breeds never seen, Oxford cats.

    python benchmarks/verdicts.py [--data ../shared/data/oxford-cats] [--draws 8] [--mode quick]

Each draw picks 8 of the 12 breeds to learn and leaves 4 out entirely. A model is trained (the
app's own `train`, thresholds chosen as always) on three quarters of each learned breed's photos
(the hash split: near-duplicates never straddle it); then every photo of the kept-back quarter
and of the 4 unseen breeds is classified through `Predictor.predict`, as Classify does. Printed
per draw and on average: the share of the unseen breeds' photos given no breed, the share of the
learned breeds' new photos given one, and how often those named are right.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from catbreed.data.dataset import check_folder  # noqa: E402
from catbreed.data.split import split_photos  # noqa: E402
from catbreed.learn.settings import TrainSettings  # noqa: E402
from catbreed.learn.training import train  # noqa: E402
from catbreed.models.predict import Predictor  # noqa: E402
from catbreed.models.verdict import BREED  # noqa: E402
from catbreed.nets.runtime import load_extractor  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "oxford-cats"


def one_draw(data, learned: list[str], settings: TrainSettings, home: Path, extractor) -> dict:
    everything = check_folder(data)
    learned_photos = [p for p in everything.photos if p.label in learned]
    split = split_photos(learned_photos, 25)
    kept_back = [learned_photos[i] for i in split.test]
    training = check_folder(data)
    training.classes = sorted(learned)
    training.photos = [learned_photos[i] for i in split.train]
    model = train(training, settings, home=home, extractor=extractor)
    predictor = Predictor(model.bundle, extractor)
    known = [predictor.predict(p.path) for p in kept_back]
    unseen = [predictor.predict(p.path) for p in everything.photos if p.label not in learned]
    named = [k.verdict == BREED for k in known]
    right = [k.top[0][0] == p.label for k, p in zip(known, kept_back)]
    return {
        "learned": sorted(learned),
        "unseen_no_breed": float(np.mean([u.verdict != BREED for u in unseen])),
        "learned_named": float(np.mean(named)),
        "named_right": float(np.mean([r for r, n in zip(right, named) if n])),
        "plain_accuracy": float(np.mean(right)),
        "thresholds": [model.bundle.metadata.thresholds.not_sure_below, model.bundle.metadata.thresholds.unknown_below],
        "photos": [len(kept_back), len(unseen)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--mode", default="quick")
    args = parser.parse_args()
    settings = TrainSettings(mode=args.mode)
    breeds = sorted(p.name for p in args.data.iterdir() if p.is_dir())
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(os.environ.get("CATBREED_HOME") or folder)
        extractor = load_extractor(settings.backbone, home=home)
        rows = []
        for draw in range(args.draws):
            started = time.perf_counter()
            learned = [str(b) for b in rng.choice(breeds, 8, replace=False)]
            rows.append(one_draw(args.data, learned, settings, home, extractor))
            print(f"draw {draw}: {json.dumps(rows[-1])} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    print("| draw | unseen breeds' photos given no breed | learned breeds' new photos named | named right |")
    print("| --- | --- | --- | --- |")
    for i, r in enumerate(rows):
        print(f"| {i} | {r['unseen_no_breed']:.1%} | {r['learned_named']:.1%} | {r['named_right']:.1%} |")
    keys = ("unseen_no_breed", "learned_named", "named_right", "plain_accuracy")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    worst = {k: float(np.min([r[k] for r in rows])) for k in keys}
    print(f"| mean | {mean['unseen_no_breed']:.1%} | {mean['learned_named']:.1%} | {mean['named_right']:.1%} |")
    print(f"| worst | {worst['unseen_no_breed']:.1%} | {worst['learned_named']:.1%} | {worst['named_right']:.1%} |")
    print(json.dumps({"mode": args.mode, "draws": rows, "mean": mean, "worst": worst}))


if __name__ == "__main__":
    main()

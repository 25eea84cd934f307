"""catbreed's benchmark on the Oxford-IIIT cats: speed and accuracy, beside the usual Keras recipe.

    python benchmarks/bench.py [--data ../shared/data/oxford-cats] [--skip-recipe] [--skip-accurate]

Prints a Markdown table, then one JSON line with every figure. Accuracy is catbreed's own
cross-validated estimate on every photo, with its 95% interval; the "kept word" rows train on
three quarters of each breed (the hash split's test set) and compare the estimate with the
accuracy on the quarter never seen. Cold trainings are `python -m catbreed train` in a new process
with an empty CATBREED_HOME, as a new user meets them: imports, weight conversion, the LiteRT
conversion and every photo's features included.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from catbreed.data.dataset import check_folder  # noqa: E402
from catbreed.data.split import near_duplicate_groups  # noqa: E402
from catbreed.learn.features import ORIGINAL, FeatureCache, extract_features  # noqa: E402
from catbreed.learn.settings import TrainSettings  # noqa: E402
from catbreed.learn.training import train  # noqa: E402
from catbreed.models.predict import Predictor  # noqa: E402
from catbreed.nets.backbones import DEFAULT_BACKBONE, create_backbone, get_spec  # noqa: E402
from catbreed.nets.keras_features import feature_extractor  # noqa: E402
from catbreed.nets.runtime import load_extractor  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "oxford-cats"
SMALL_BREEDS = ("Bengal", "Birman", "Bombay", "Russian_Blue")


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def cold_training(data: Path, mode: str, home: Path) -> dict:
    """`catbreed train` in a new process from an empty CATBREED_HOME: (seconds, metrics, peak RSS)."""
    env = {**os.environ, "CATBREED_HOME": str(home), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "catbreed", "train", str(data), "--mode", mode, "--out", str(home / "m"), "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result, seconds = timed(subprocess.run, command, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"error: {' '.join(command)} failed: {result.stderr.strip().splitlines()[-1:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far, KiB
    metrics = json.loads(result.stdout.strip().splitlines()[-1])["metrics"]
    return {"seconds": seconds, "expected": metrics["expected_accuracy"], "peak_gb": max(peak, before) / 1024**2}


def kept_word(data: Path, home: Path, mode: str, breeds: tuple[str, ...] = (), per_breed: int = 0) -> dict:
    """Train on three quarters, estimate by cross-validation, score on the quarter held out."""
    dataset = check_folder(data)
    if breeds:
        dataset.classes = list(breeds)
        chosen = [p for p in dataset.photos if p.label in breeds]
        dataset.photos = [p for b in breeds for p in [q for q in chosen if q.label == b][: per_breed or None]]
    result = train(dataset, TrainSettings(mode=mode, test_percent=25), home=home)
    e = result.estimate
    return {
        "estimate": e.describe(),
        "held_out": result.test.accuracy,
        "held_out_n": result.test.n,
        "inside": e.low <= result.test.accuracy <= e.high,
        "gap_points": 100 * abs(result.test.accuracy - e.value),
    }


def random_quarters(data: Path, home: Path, seeds: int = 8) -> dict:
    """The estimate's word beyond one split: for each seed a random quarter of each breed (whole
    near-duplicate groups) is kept aside, quick mode trains on the rest, and the quarter is scored;
    `seeds` quarters with all the breeds, `seeds` more with four breeds drawn at random."""
    dataset = check_folder(data)
    groups = near_duplicate_groups(dataset.photos)
    extractor, cache = load_extractor(DEFAULT_BACKBONE, home), FeatureCache(home, DEFAULT_BACKBONE)
    gaps = {"all": [], "four": []}
    inside = 0
    for breeds in gaps:
        for seed in range(seeds):
            classes = list(dataset.classes)
            if breeds == "four":
                classes = sorted(np.random.default_rng(seed).choice(classes, 4, replace=False))
            chosen = [i for i, photo in enumerate(dataset.photos) if photo.label in classes]
            labels = [classes.index(dataset.photos[i].label) for i in chosen]
            quarters = StratifiedGroupKFold(4, shuffle=True, random_state=seed)
            keep, aside = next(quarters.split(np.zeros(len(chosen)), labels, groups[chosen]))
            part = copy.copy(dataset)
            part.classes, part.photos = classes, [dataset.photos[chosen[i]] for i in keep]
            result = train(part, TrainSettings(seed=seed), home=home)
            photos = [dataset.photos[chosen[i]] for i in aside]
            features = extract_features(photos, extractor, cache, views=(ORIGINAL,))[:, 0]
            predicted = result.bundle.head.predict_proba(features).argmax(1)
            held_out = float((predicted == np.asarray(labels)[aside]).mean())
            e = result.estimate
            gaps[breeds].append(100 * (held_out - e.value))
            inside += e.low <= held_out <= e.high
    worst = max(abs(g) for g in gaps["all"] + gaps["four"])
    return {"quarters": 2 * seeds, "inside": inside, "gaps": gaps, "worst_gap_points": worst}


def snapshot_bytes(photo: Path) -> bytes:
    buffer = io.BytesIO()
    Image.open(photo).convert("RGB").resize((640, 480)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def predict_latency(predictor: Predictor, photo: Path, runs: int = 60) -> tuple[float, float]:
    """(p50, p95) milliseconds for one 640x480 JPEG snapshot, decode included."""
    snapshot = snapshot_bytes(photo)
    for _ in range(5):
        predictor.predict(snapshot)
    times = [timed(predictor.predict, snapshot)[1] * 1000 for _ in range(runs)]
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def batch_ms_per_photo(predictor: Predictor, photos: list[Path]) -> float:
    """Milliseconds per photo when many are classified at once (decode included), as `catbreed predict` does."""
    predictor.breed_probabilities(photos[:32])
    return timed(predictor.breed_probabilities, photos)[1] * 1000 / len(photos)


def keras_predict_ms(backbone, photo: Path) -> float:
    """The same snapshot through the Keras feature extractor at batch 1, for comparison."""
    from catbreed.data.images import load_for_model

    model = feature_extractor(backbone, get_spec(DEFAULT_BACKBONE).layers)
    pixels = load_for_model(snapshot_bytes(photo), 224)[None].astype(np.float32)
    for _ in range(5):
        model.predict_on_batch(pixels)
    return float(np.median([timed(model.predict_on_batch, pixels)[1] * 1000 for _ in range(30)]))


def keras_recipe(data: Path, backbone, epochs: int = 10) -> dict:
    """The Keras transfer-learning guide's recipe on the same backbone and photos: 80/20 split,
    image_dataset_from_directory, random flip and rotation, frozen base, Dense head, model.fit."""
    import keras

    started = time.perf_counter()
    options = dict(image_size=(224, 224), batch_size=32, label_mode="int", validation_split=0.2, seed=0)
    train_ds = keras.utils.image_dataset_from_directory(data, subset="training", **options)
    test_ds = keras.utils.image_dataset_from_directory(data, subset="validation", **options)
    augment = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)])
    base = feature_extractor(backbone, get_spec(DEFAULT_BACKBONE).layers)
    base.trainable = False
    inputs = keras.Input((224, 224, 3))
    x = keras.layers.Dropout(0.2)(base(augment(inputs), training=False)[0])
    outputs = keras.layers.Dense(len(train_ds.class_names), activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train_ds, epochs=epochs, verbose=0)
    _, accuracy = model.evaluate(test_ds, verbose=0)
    return {"recipe_s": time.perf_counter() - started, "recipe_accuracy": float(accuracy)}


def visualisation_seconds(predictor: Predictor, backbone, photo: Path) -> float:
    """The slowest of the Learn page's pictures: filters, feature maps at three depths, Grad-CAM."""
    from catbreed.explain import gradcam, network

    data = photo.read_bytes()
    layers = get_spec(DEFAULT_BACKBONE).layers
    gradcam.gradcam(predictor.bundle, backbone, data)  # the first call builds the graph
    slowest = 0.0
    for draw in (
        lambda: network.first_layer_filters(backbone, layers.stem),
        *(
            lambda layer=layer: network.feature_maps(backbone, data, layer)
            for layer in (layers.shallow, layers.middle, layers.deep)
        ),
        lambda: gradcam.overlay(data, gradcam.gradcam(predictor.bundle, backbone, data)),
    ):
        slowest = max(slowest, timed(draw)[1])
    return slowest


def pct(value: float) -> str:
    return f"{value:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--skip-recipe", action="store_true", help="leave out the slow Keras recipe")
    parser.add_argument("--skip-accurate", action="store_true", help="leave out accurate mode (minutes cold)")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"error: no photos at {args.data}; pass --data FOLDER of breed folders")

    rows: list[tuple[str, str]] = []
    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}
    modes = ["quick"] + ([] if args.skip_accurate else ["accurate"])
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        for mode in modes:
            cold = cold_training(args.data, mode, scratch / f"cold-{mode}")
            figures[f"{mode}_cold"] = cold
            rows += [
                (
                    f"{mode} mode: expected accuracy on new photos (5-fold CV, 95% interval)",
                    _estimate(cold["expected"]),
                ),
                (f"{mode} mode: training from cold (new process, empty CATBREED_HOME)", f"{cold['seconds']:.1f} s"),
                (f"{mode} mode: peak memory of that training", f"{cold['peak_gb']:.2f} GB"),
            ]
        home = scratch / "cold-quick"  # warm: its caches are filled now
        os.environ["CATBREED_HOME"] = str(home)
        dataset = check_folder(args.data)
        warm, figures["quick_warm_s"] = timed(train, dataset, TrainSettings(), home=home)
        rows.append(("quick mode: training again, warm caches (in process)", f"{figures['quick_warm_s']:.1f} s"))
        for mode in modes:
            word = kept_word(args.data, scratch / f"cold-{mode}", mode)
            figures[f"{mode}_kept_word"] = word
            rows.append(
                (
                    f"{mode} mode, trained on 3/4: estimate vs the {word['held_out_n']} photos held out",
                    f"{word['estimate']} vs {pct(word['held_out'])}",
                )
            )
        small = kept_word(args.data, home, "quick", SMALL_BREEDS)
        figures["small_kept_word"] = small
        rows.append(
            (
                f"4 breeds, quick, trained on 3/4: estimate vs the {small['held_out_n']} held out",
                f"{small['estimate']} vs {pct(small['held_out'])}",
            )
        )
        quarters = random_quarters(args.data, home)
        figures["random_quarters"] = quarters
        mean_gap = {k: float(np.mean(v)) for k, v in quarters["gaps"].items()}
        rows.append(
            (
                f"quick, {quarters['quarters']} random quarters kept aside (half of them 4 breeds): "
                "inside the interval / worst gap / mean gap, 12 and 4 breeds",
                f"{quarters['inside']} of {quarters['quarters']} / {quarters['worst_gap_points']:.2f} points / "
                f"{mean_gap['all']:+.2f} and {mean_gap['four']:+.2f} points",
            )
        )
        tiny = kept_word(args.data, home, "quick", SMALL_BREEDS, per_breed=27)
        figures["tiny_kept_word"] = tiny
        rows.append(
            (
                f"4 breeds x 27 photos (a webcam-sized set): estimate vs the {tiny['held_out_n']} held out",
                f"{tiny['estimate']} vs {pct(tiny['held_out'])}",
            )
        )

        predictor = Predictor(warm.bundle)
        photos = [p.path for p in dataset.photos]
        p50, p95 = predict_latency(predictor, photos[0])
        figures.update(predict_p50_ms=p50, predict_p95_ms=p95)
        figures["predict_batch_ms_per_photo"] = batch_ms_per_photo(predictor, photos[:320])
        backbone = create_backbone()
        figures["keras_batch1_ms"] = keras_predict_ms(backbone, photos[0])
        figures["slowest_visualisation_s"] = visualisation_seconds(predictor, backbone, photos[0])
        rows += [
            ("predict one 640x480 webcam JPEG, p50 / p95 (LiteRT)", f"{p50:.1f} / {p95:.1f} ms"),
            ("the same photo's forward pass in Keras, p50", f"{figures['keras_batch1_ms']:.1f} ms"),
            ("predict many photos, per photo (decode included)", f"{figures['predict_batch_ms_per_photo']:.1f} ms"),
            ("slowest Learn-page picture", f"{figures['slowest_visualisation_s']:.2f} s"),
        ]
        if not args.skip_recipe:
            figures.update(keras_recipe(args.data, backbone))
            figures["speedup_vs_recipe"] = figures["recipe_s"] / figures["quick_cold"]["seconds"]
            rows += [
                ("Keras recipe (10 epochs, in process, weights already converted)", f"{figures['recipe_s']:.1f} s"),
                ("Keras recipe accuracy (one 80/20 split)", pct(figures["recipe_accuracy"])),
                ("speed-up, quick cold vs recipe", f"{figures['speedup_vs_recipe']:.1f}x"),
            ]

    print("| measure | value |\n| --- | --- |")
    print("\n".join(f"| {label} | {value} |" for label, value in rows))
    print(f"\nMachine: {figures['machine']}.")
    print(json.dumps(figures, default=float))


def _estimate(expected: dict) -> str:
    return f"{expected['value']:.1%} ({100 * expected['low']:.1f}-{100 * expected['high']:.1f}%)"


if __name__ == "__main__":
    main()

"""catbreed's benchmark on the Oxford-IIIT cats: speed and accuracy, beside the usual Keras recipe.

    python benchmarks/bench.py [--data ../shared/data/oxford-cats] [--skip-recipe] [--skip-fine-tune]

Prints a Markdown table, then one JSON line with every figure. Each catbreed run starts from an
empty CATBREED_HOME (cold) unless it says warm; accuracy is on the engine's own held-out test
photos, which the Keras recipe is scored on too.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from catbreed.backbones import create_backbone  # noqa: E402
from catbreed.classifier import feature_extractor  # noqa: E402
from catbreed.dataset import check_folder  # noqa: E402
from catbreed.features import FeatureCache, extract_features  # noqa: E402
from catbreed.predict import Predictor  # noqa: E402
from catbreed.settings import TrainSettings  # noqa: E402
from catbreed.training import train  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "oxford-cats"


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux reports KiB


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def feature_throughput(data: Path, backbone) -> float:
    """Photos per second for decoding + both views through the backbone, from an empty cache."""
    photos = check_folder(data).photos
    with tempfile.TemporaryDirectory() as home:
        _, seconds = timed(
            extract_features, photos, feature_extractor(backbone), FeatureCache(Path(home), "b", "avg_pool")
        )
    return len(photos) / seconds


def engine_runs(data: Path, backbone, fine_tune: bool) -> dict:
    figures = {}
    with tempfile.TemporaryDirectory() as home:
        home = Path(home)
        cold, figures["quick_cold_s"] = timed(
            lambda: train(check_folder(data), TrainSettings(), home=home, backbone=backbone)
        )
        figures["quick_test_accuracy"] = cold.test.accuracy
        figures["test_photos"] = cold.test.n
        figures["peak_rss_quick_gb"] = peak_rss_gb()
        warm, figures["quick_warm_s"] = timed(
            lambda: train(check_folder(data), TrainSettings(), home=home, backbone=backbone)
        )
        assert warm.test.accuracy == cold.test.accuracy
        if fine_tune:
            tuned, figures["fine_tune_s"] = timed(
                lambda: train(check_folder(data), TrainSettings(mode="fine-tune"), home=home, backbone=backbone)
            )
            figures["fine_tune_test_accuracy"] = tuned.test.accuracy
        figures["test_names"] = [cold.dataset.photos[i].name for i in cold.split.test]
        figures["train_names"] = [cold.dataset.photos[i].name for i in cold.split.train + cold.split.val]
        figures["predictor"] = Predictor(cold.bundle)
    return figures


def predict_latency(predictor: Predictor, photo: Path, runs: int = 60) -> tuple[float, float]:
    """(p50, p95) milliseconds for one 640x480 JPEG snapshot, decode included."""
    buffer = io.BytesIO()
    Image.open(photo).convert("RGB").resize((640, 480)).save(buffer, "JPEG", quality=90)
    snapshot = buffer.getvalue()
    for _ in range(5):
        predictor.predict(snapshot)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        predictor.predict(snapshot)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def visualisation_seconds(predictor: Predictor, backbone, photo: Path) -> float:
    """The slowest of the Learn page's pictures: filters, feature maps at three depths, Grad-CAM."""
    from catbreed import explain

    data = photo.read_bytes()
    explain.gradcam(predictor.bundle, data)  # the first call builds the graph
    slowest = 0.0
    for draw in (
        lambda: explain.first_layer_filters(backbone),
        lambda: explain.feature_maps(backbone, data, "stem_activation"),
        lambda: explain.feature_maps(backbone, data, "block4a_expand_activation"),
        lambda: explain.feature_maps(backbone, data, "top_activation"),
        lambda: explain.overlay(data, explain.gradcam(predictor.bundle, data)),
    ):
        slowest = max(slowest, timed(draw)[1])
    return slowest


def keras_recipe(data: Path, backbone, train_names: list[str], test_names: list[str], epochs: int = 10) -> dict:
    """The Keras transfer-learning guide's recipe on the same backbone, photos and test split:
    image_dataset_from_directory, random flip and rotation, frozen base, Dense head, model.fit."""
    import keras

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for split, names in (("train", train_names), ("test", test_names)):
            for name in names:
                target = folder / split / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(data / name)
        started = time.perf_counter()
        options = dict(image_size=(224, 224), batch_size=32, label_mode="int")
        train_ds = keras.utils.image_dataset_from_directory(folder / "train", shuffle=True, seed=0, **options)
        test_ds = keras.utils.image_dataset_from_directory(folder / "test", shuffle=False, **options)
        augment = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)])
        base = feature_extractor(backbone)
        base.trainable = False
        inputs = keras.Input((224, 224, 3))
        x = base(augment(inputs), training=False)
        x = keras.layers.Dropout(0.2)(x)
        outputs = keras.layers.Dense(len(train_ds.class_names), activation="softmax")(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(train_ds, epochs=epochs, verbose=0)
        _, accuracy = model.evaluate(test_ds, verbose=0)
        return {"recipe_s": time.perf_counter() - started, "recipe_test_accuracy": float(accuracy)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--skip-recipe", action="store_true", help="leave out the slow Keras recipe")
    parser.add_argument("--skip-fine-tune", action="store_true")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"error: no photos at {args.data}; pass --data FOLDER of breed folders")

    backbone = create_backbone()
    figures = {"photos_per_s": feature_throughput(args.data, backbone)}
    figures.update(engine_runs(args.data, backbone, not args.skip_fine_tune))
    predictor = figures.pop("predictor")
    first_test_photo = args.data / figures["test_names"][0]
    figures["predict_p50_ms"], figures["predict_p95_ms"] = predict_latency(predictor, first_test_photo)
    figures["slowest_visualisation_s"] = visualisation_seconds(predictor, backbone, first_test_photo)
    if not args.skip_recipe:
        figures.update(keras_recipe(args.data, backbone, figures["train_names"], figures["test_names"]))
        figures["speedup_vs_recipe"] = figures["recipe_s"] / figures["quick_cold_s"]
    del figures["train_names"], figures["test_names"]
    figures["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"

    def row(label: str, key: str, unit: str = "", percent: bool = False) -> str:
        if key not in figures:
            return ""
        value = figures[key]
        shown = f"{value:.1%}" if percent else f"{value:,.1f}{unit}"
        return f"| {label} | {shown} |\n"

    print("| measure | value |\n| --- | --- |")
    print(
        row("decode + features (both views)", "photos_per_s", " photos/s")
        + row("quick mode, cold caches", "quick_cold_s", " s")
        + row("quick mode, warm caches", "quick_warm_s", " s")
        + row("quick mode test accuracy", "quick_test_accuracy", percent=True)
        + row("fine-tune mode (warm pooled features)", "fine_tune_s", " s")
        + row("fine-tune test accuracy", "fine_tune_test_accuracy", percent=True)
        + row("predict p50, 640x480 JPEG", "predict_p50_ms", " ms")
        + row("predict p95", "predict_p95_ms", " ms")
        + row("peak RSS after quick training", "peak_rss_quick_gb", " GB")
        + row("slowest Learn-page picture", "slowest_visualisation_s", " s")
        + row("Keras recipe (10 epochs)", "recipe_s", " s")
        + row("Keras recipe test accuracy", "recipe_test_accuracy", percent=True)
        + row("speed-up, quick cold vs recipe", "speedup_vs_recipe", "x"),
        end="",
    )
    print(f"\nMachine: {figures['machine']}; {figures['test_photos']} test photos.")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()

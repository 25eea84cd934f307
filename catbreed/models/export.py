"""Exports you can trust: the model as one package for use without catbreed, checked right away.

A package is a folder (or its zip) holding the model (`model.tflite` or `saved_model/`),
`labels.txt`, `export.json` (the input it expects, its outputs, the versions it was made with and
the parity report), the model card and `classify.py`, a short example that classifies a photo
with the package alone.

The parity check loads the written file in a fresh interpreter and runs it on the same pixels as
the app (the model's own sample photos): how often the top breed agrees, and the largest
difference of any probability. An export that disagrees on more than 1% of the photos is flagged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from catbreed.errors import CatbreedError
from catbreed.messages import ENGLISH, Percent, message
from catbreed.models.bundle import EXPORT_FORMATS, LABELS_FILE, ModelBundle
from catbreed.models.card import model_card
from catbreed.models.predict import (
    CAT_PROBABILITY_THRESHOLD,
    CAT_TOP_K,
    DOMESTIC_CAT_CLASSES,
    Predictor,
    cat_verdict,
)
from catbreed.models.verdict import Thresholds, decide
from catbreed.paths import replace_folder, staging_beside, temp_folder, zip_folder
from catbreed.versions import library_versions

AGREEMENT_NEEDED = 0.99
REPORT_FILE, EXAMPLE_FILE, CARD_FILE = "export.json", "classify.py", "MODEL_CARD.md"
MODEL_FILES = {"tflite": "model.tflite", "saved_model": "saved_model"}

_LOAD_AND_RUN = {
    "tflite": (
        "from ai_edge_litert.interpreter import Interpreter",
        'runner = Interpreter(model_path=str(here / "model.tflite")).get_signature_runner()\n'
        "outputs = {name: value[0] for name, value in runner(image=pixels).items()}",
        "numpy pillow ai-edge-litert",
    ),
    "saved_model": (
        "import tensorflow as tf",
        'model = tf.saved_model.load(str(here / "saved_model"))\n'
        "outputs = {name: value.numpy()[0] for name, value in model.serve(tf.constant(pixels)).items()}",
        "numpy pillow tensorflow",
    ),
}

_EXAMPLE = '''"""Name the cat breed in a photo with this package alone: python classify.py photo.jpg
(needs {needs}). The first line is the verdict, as the catbreed app gives it."""

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
{import_line}

here = Path(__file__).parent
labels = (here / "labels.txt").read_text(encoding="utf-8").splitlines()
rule = json.loads((here / "export.json").read_text(encoding="utf-8"))["verdicts"]
image = ImageOps.exif_transpose(Image.open(sys.argv[1])).convert("RGB")
side = min(image.size)  # the model sees the photo's central square, {size} x {size} pixels, RGB 0..255
box = ((image.width - side) / 2, (image.height - side) / 2, (image.width + side) / 2, (image.height + side) / 2)
pixels = np.asarray(image.resize(({size}, {size}), Image.Resampling.BILINEAR, box=box), np.float32)[None]
{load_and_run}
breeds, imagenet = outputs["breeds"], outputs["imagenet"]

# A cat to ImageNet: its domestic-cat classes together reach the threshold, or one is among its likeliest.
cats = range(*rule["imagenet_cat_classes"])
is_cat = imagenet[cats].sum() >= rule["cat_probability"] or any(i in cats for i in np.argsort(imagenet)[-rule["cat_top_k"]:])
familiar = rule["unknown_below"] is None or float(outputs["familiarity"]) >= rule["unknown_below"]
clear = familiar and breeds.max() >= rule["not_sure_below"]
if clear and (is_cat or rule["unknown_below"] is not None):
    print(labels[int(breeds.argmax())])
elif not is_cat:
    print("not a cat")
else:
    print("not sure" if familiar else "not one of my breeds")
for i in np.argsort(breeds)[::-1][:3]:
    print(f"{{labels[i]}}\\t{{breeds[i]:.4f}}")
'''


@dataclass(frozen=True)
class ParityReport:
    photos: int
    agreement: float  # fraction of photos whose top breed and verdict are the app's
    max_difference: float  # largest |probability difference| over photos and breeds
    flagged: bool  # agreement below AGREEMENT_NEEDED: not to be offered as fine

    def describe(self, language: str = ENGLISH) -> str:
        shown = message(
            "export.disagrees" if self.flagged else "export.agrees",
            agreement=Percent(self.agreement),
            n=self.photos,
            difference=round(self.max_difference, 4),
        )
        return shown.text(language)


def example_script(format: str, image_size: int) -> str:
    import_line, load_and_run, needs = _LOAD_AND_RUN[format]
    return _EXAMPLE.format(import_line=import_line, load_and_run=load_and_run, needs=needs, size=image_size)


def _exported_outputs(package: Path, format: str, pixels: np.ndarray) -> dict[str, np.ndarray]:
    """Each output of the written file ("breeds": float32 (N, C), "imagenet", "familiarity" (N,)), in an
    interpreter of its own."""
    if format == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        runner = Interpreter(model_path=str(package / MODEL_FILES[format])).get_signature_runner()
        answers = [runner(image=pixels[i : i + 1]) for i in range(len(pixels))]
        return {name: np.concatenate([a[name] for a in answers]) for name in answers[0]}
    import tensorflow as tf

    model = tf.saved_model.load(str(package / MODEL_FILES[format]))
    return {name: value.numpy() for name, value in model.serve(tf.constant(pixels)).items()}


def _verdict(breeds: np.ndarray, imagenet: np.ndarray, familiarity, thresholds: Thresholds) -> str:
    familiar = None if familiarity is None else float(familiarity)
    return decide(float(breeds.max()), familiar, cat_verdict(imagenet)[0], thresholds)


def check_parity(
    package: Path, format: str, app: Predictor, pixels: np.ndarray, app_classes: Sequence[str]
) -> ParityReport:
    """Compare the package's answers on uint8 (N, S, S, 3) `pixels` with the app's, by breed name."""
    outputs = _exported_outputs(package, format, pixels.astype(np.float32))
    exported = outputs["breeds"]
    labels = (package / LABELS_FILE).read_text(encoding="utf-8").splitlines()
    if sorted(labels) != sorted(app_classes) or exported.shape[1] != len(labels):
        return ParityReport(len(pixels), 0.0, 1.0, True)
    ours, imagenet, familiarity = app.outputs(pixels)
    theirs = exported[:, [labels.index(c) for c in app_classes]]  # the app's class order
    same_top = [app_classes[a] == labels[b] for a, b in zip(ours.argmax(1), exported.argmax(1))]
    thresholds = app.bundle.metadata.thresholds
    same_verdict = [
        _verdict(ours[i], imagenet[i], None if familiarity is None else familiarity[i], thresholds)
        == _verdict(
            exported[i], outputs["imagenet"][i], outputs.get("familiarity", [None] * len(pixels))[i], thresholds
        )
        for i in range(len(pixels))
    ]
    agreement = float(np.mean(np.logical_and(same_top, same_verdict))) if len(same_top) else 0.0
    difference = float(np.abs(ours - theirs).max()) if len(pixels) else 0.0
    return ParityReport(len(pixels), agreement, difference, agreement < AGREEMENT_NEEDED)


def export_package(
    bundle: ModelBundle,
    format: str,
    out: Path,
    app: Predictor,
    quantize: bool = False,
    backbone=None,
    name: str = "",
) -> ParityReport:
    """Write the package folder `out` (replacing one there) and check it against `app`, the bundle's
    Predictor; returns the parity report, which export.json also holds."""
    if format not in EXPORT_FORMATS:
        raise CatbreedError("export.unknown_format", format=format, formats=list(EXPORT_FORMATS))
    pixels = bundle.sample_pixels()
    if not len(pixels):
        raise CatbreedError("export.no_samples")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with staging_beside(out) as staging:
        bundle.export(format, staging / MODEL_FILES[format], quantize=quantize, backbone=backbone)
        (staging / LABELS_FILE).write_text("".join(f"{c}\n" for c in bundle.classes), encoding="utf-8")
        (staging / EXAMPLE_FILE).write_text(example_script(format, bundle.image_size), encoding="utf-8")
        (staging / CARD_FILE).write_text(model_card(name or out.name, bundle.metadata), encoding="utf-8")
        report = check_parity(staging, format, app, pixels, bundle.classes)
        description = {
            "format": format,
            "quantized": quantize,
            "input": {
                "name": "image",
                "shape": [None, bundle.image_size, bundle.image_size, 3],
                "dtype": "float32",
                "pixels": "RGB 0..255, the photo's central square resized (bilinear); the model normalises inside",
            },
            "outputs": {
                "breeds": "probabilities in labels.txt order",
                "imagenet": "ImageNet's 1000 probabilities",
                "familiarity": "how like the breeds learned (higher: more alike); absent in older models",
            },
            "verdicts": {
                "not_sure_below": bundle.metadata.thresholds.not_sure_below,
                "unknown_below": bundle.metadata.thresholds.unknown_below if bundle.familiarity else None,
                "imagenet_cat_classes": [DOMESTIC_CAT_CLASSES.start, DOMESTIC_CAT_CLASSES.stop],
                "cat_probability": CAT_PROBABILITY_THRESHOLD,
                "cat_top_k": CAT_TOP_K,
            },
            "backbone": bundle.backbone,
            "preprocessing": bundle.metadata.preprocessing,
            "versions": library_versions(),
            "parity": asdict(report),
        }
        (staging / REPORT_FILE).write_text(json.dumps(description, indent=2, ensure_ascii=False), encoding="utf-8")
        replace_folder(staging, out)
    return report


def zip_package(package: Path) -> bytes:
    """The package folder as a .zip, for downloading."""
    with zip_folder(Path(package)) as file:
        return file.read()


def export_zip(
    bundle: ModelBundle, format: str, app: Predictor, quantize: bool = False, backbone=None, name: str = ""
) -> tuple[bytes, ParityReport]:
    """The checked package as .zip bytes, for a download button, and its parity report."""
    with temp_folder("export") as folder:
        package = folder / (name or "model").replace(" ", "_")
        report = export_package(bundle, format, package, app, quantize, backbone, name)
        return zip_package(package), report

"""Exports checked against the app: the package, its parity report, and the example that runs alone."""

import json
import subprocess
import sys
from dataclasses import asdict

import numpy as np
import pytest
from conftest import drawn_photo

from catbreed.errors import CatbreedError
from catbreed.models.export import (
    CARD_FILE,
    EXAMPLE_FILE,
    MODEL_FILES,
    REPORT_FILE,
    check_parity,
    export_package,
    zip_package,
)
from catbreed.models.predict import Predictor
from catbreed.models.verdict import BREED, NOT_SURE, UNKNOWN_BREED


@pytest.fixture(scope="module")
def app(trained, extractor):
    return Predictor(trained.bundle, extractor)


@pytest.fixture(scope="module")
def tflite_package(trained, app, backbone, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "shapes"
    report = export_package(trained.bundle, "tflite", out, app, backbone=backbone, name="shapes")
    return out, report


def test_a_float_tflite_package_answers_as_the_app_and_says_so(tflite_package, trained):
    out, report = tflite_package
    assert not report.flagged and report.agreement == 1.0 and report.max_difference < 1e-4
    assert report.photos == len(trained.bundle.samples) == 16
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MODEL_FILES["tflite"], "labels.txt", EXAMPLE_FILE, CARD_FILE, REPORT_FILE]
    )
    described = json.loads((out / REPORT_FILE).read_text())
    assert described["input"]["shape"] == [None, 32, 32, 3] and described["versions"]["tensorflow"]
    assert described["parity"] == asdict(report) and "answers as the app does" in report.describe()


def test_shuffled_labels_are_caught(tflite_package, trained, app):
    out, _ = tflite_package
    labels = (out / "labels.txt").read_text().splitlines()
    (out / "labels.txt").write_text("\n".join(labels[1:] + labels[:1]) + "\n")
    try:
        report = check_parity(out, "tflite", app, trained.bundle.sample_pixels(), trained.bundle.classes)
    finally:
        (out / "labels.txt").write_text("\n".join(labels) + "\n")
    assert report.flagged and report.agreement < 0.99 and "DISAGREES" in report.describe()


def test_a_package_missing_a_breed_is_flagged(tflite_package, trained, app):
    out, _ = tflite_package
    labels = (out / "labels.txt").read_text()
    (out / "labels.txt").write_text("\n".join(trained.bundle.classes[:-1] + ["Sphynx"]) + "\n")
    try:
        report = check_parity(out, "tflite", app, trained.bundle.sample_pixels(), trained.bundle.classes)
    finally:
        (out / "labels.txt").write_text(labels)
    assert report.flagged and report.agreement == 0.0


def test_the_example_runs_alone_and_names_the_apps_top_breed(tflite_package, app, tmp_path):
    out, _ = tflite_package
    photo = tmp_path / "bars.jpg"
    drawn_photo("green_bars", 321, size=(200, 150)).save(photo)
    result = subprocess.run(
        [sys.executable, str(out / EXAMPLE_FILE), str(photo)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4 and len((out / EXAMPLE_FILE).read_text().splitlines()) <= 45
    prediction = app.predict(photo, top_k=1)
    said = {BREED: prediction.top[0][0], NOT_SURE: "not sure", UNKNOWN_BREED: "not one of my breeds"}
    assert lines[0] == said.get(prediction.verdict, "not a cat")  # the verdict, as the app gives it
    top, probability = lines[1].split("\t")
    assert top == prediction.top[0][0] and float(probability) == pytest.approx(prediction.top[0][1], abs=0.02)


def test_an_export_whose_familiarity_disagrees_with_the_apps_is_flagged(tflite_package, trained, app, monkeypatch):
    from catbreed.models import export

    out, _ = tflite_package
    real = export._exported_outputs

    def estranged(*args):
        outputs = real(*args)
        return outputs | {"familiarity": outputs["familiarity"] - 1e6}  # every photo now looks unknown

    monkeypatch.setattr(export, "_exported_outputs", estranged)
    report = check_parity(out, "tflite", app, trained.bundle.sample_pixels(), trained.bundle.classes)
    assert report.flagged and report.max_difference < 1e-4  # the probabilities alone would have passed


def test_a_quantised_package_is_checked_too(trained, app, backbone, tmp_path):
    report = export_package(trained.bundle, "tflite", tmp_path / "q", app, quantize=True, backbone=backbone)
    assert report.photos == 16 and 0 <= report.max_difference < 0.2
    assert report.flagged == (report.agreement < 0.99)


@pytest.mark.slow  # loads TensorFlow's SavedModel machinery
def test_a_saved_model_package_is_checked_and_zipped(trained, app, backbone, tmp_path):
    import io
    import zipfile

    report = export_package(trained.bundle, "saved_model", tmp_path / "sm", app, backbone=backbone)
    assert not report.flagged and report.max_difference < 1e-4
    names = zipfile.ZipFile(io.BytesIO(zip_package(tmp_path / "sm"))).namelist()
    assert "sm/saved_model/saved_model.pb" in names and "sm/classify.py" in names


def test_a_model_without_sample_photos_cannot_be_checked(trained, app, tmp_path):
    from dataclasses import replace

    bare = replace(trained.bundle, samples=[])
    with pytest.raises(CatbreedError, match="no sample photos"):
        export_package(bare, "tflite", tmp_path / "x", app)
    assert not (tmp_path / "x").exists()


def test_sample_pixels_are_what_the_model_takes(trained):
    pixels = trained.bundle.sample_pixels()
    assert pixels.shape == (16, 32, 32, 3) and pixels.dtype == np.uint8

import dataclasses
import threading

import numpy as np
import pytest

from catbreed import progress
from catbreed.data.dataset import check_folder
from catbreed.errors import Cancelled, CatbreedError
from catbreed.learn.pace import PaceBook
from catbreed.learn.settings import TrainSettings
from catbreed.learn.training import train
from catbreed.nets.backbones import STANDIN_BACKBONE


def test_training_learns_the_drawn_breeds_and_estimates_its_accuracy(trained):
    assert trained.bundle.classes == ["blue_squares", "green_bars", "red_circles"]
    assert trained.test.accuracy == 1.0
    expected = trained.bundle.metadata.expected_accuracy
    assert expected == trained.estimate and expected.low <= expected.value <= expected.high
    assert expected.value >= 0.9 and "cross-validation" in str(expected.method)
    meta = trained.bundle.metadata
    assert meta.backbone == STANDIN_BACKBONE and meta.mode == "quick"
    assert meta.split.train + meta.split.test == 36 and meta.split.test > 0


def test_the_shipped_head_learns_from_every_photo_and_each_gets_an_out_of_fold_answer(
    shapes_folder, extractor, standin_settings
):
    dataset = check_folder(shapes_folder)
    result = train(dataset, standin_settings, extractor=extractor)
    assert result.test is None and result.split.sizes() == {"train": 36, "test": 0}
    assert result.bundle.head.n_photos_ == len(dataset.photos) == 36
    assert result.evaluation.n == 36  # the per-breed table and confusion matrix rest on every photo
    assert sum(map(sum, result.evaluation.confusion)) == 36


def test_progress_streams_features_folds_and_the_final_fit(shapes_folder, extractor, standin_settings):
    events = []
    train(check_folder(shapes_folder), standin_settings, on_event=events.append, extractor=extractor)
    stages = list(dict.fromkeys(e.stage for e in events))
    assert stages == [progress.FEATURES, progress.CROSS_VALIDATING, progress.LEARNING_CURVE, progress.TRAINING]
    folds = [e for e in events if e.stage == progress.CROSS_VALIDATING and e.step]
    assert len(folds) >= 2 and all(0 <= e.accuracy <= 1 for e in folds)
    assert folds[-1].eta_seconds == 0 and folds[-1].step == folds[-1].total


def test_training_can_be_cancelled_from_another_thread(shapes_folder, extractor, standin_settings):
    cancel = threading.Event()
    seen = []

    def on_event(event):
        seen.append(event)
        if event.stage == progress.CROSS_VALIDATING and event.step == 1:
            cancel.set()

    with pytest.raises(Cancelled):
        train(check_folder(shapes_folder), standin_settings, on_event, cancel, extractor=extractor)
    assert progress.TRAINING not in {e.stage for e in seen}


def test_without_mirror_images_the_head_learns_from_the_photos_alone(shapes_folder, extractor, standin_settings):
    settings = dataclasses.replace(standin_settings, augment=False)
    result = train(check_folder(shapes_folder), settings, extractor=extractor)
    assert result.bundle.head.n_photos_ == 36 and result.estimate.value >= 0.9


def test_two_photos_per_breed_still_train_and_estimate(tmp_path, extractor, standin_settings):
    from conftest import make_dataset_folder

    root = make_dataset_folder(tmp_path / "d", per_class=2, kinds=("red_circles", "blue_squares"))
    dataset = check_folder(root)
    dataset.photos[:] = [p.__class__(p.path, p.name, p.label, p.sha256) for p in dataset.photos]  # no near-twins
    result = train(dataset, standin_settings, extractor=extractor)
    assert result.bundle.metadata.split.folds == 2
    assert result.estimate.low <= result.estimate.value <= result.estimate.high


def test_calibration_is_recorded_and_applied(trained):
    calibration = trained.bundle.metadata.metrics.calibration
    assert calibration.temperature == trained.bundle.head.temperature_ > 0
    assert 0 <= calibration.ece_after <= 1 and 0 <= calibration.ece_before <= 1


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"mode": "slow"}, "Unknown mode 'slow'; expected one of: quick, accurate"),
        ({"inverse_regularization": 0}, "inverse regularization must be above 0"),
        ({"test_percent": 100}, "test percentage must be from 0 to 99; got 100"),
        ({"backbone": "vgg16"}, "Unknown backbone 'vgg16'"),
    ],
)
def test_bad_settings_say_what_to_fix(setting, message):
    with pytest.raises(CatbreedError, match=message):
        TrainSettings(**setting)


def test_each_mode_names_its_backbone():
    assert TrainSettings().backbone == "efficientnet_lite0"
    assert TrainSettings(mode="accurate").backbone == "efficientnet_lite0_1_2"
    assert TrainSettings(mode="accurate", backbone="efficientnet_lite2").backbone == "efficientnet_lite2"


@pytest.mark.slow
def test_the_ensemble_puts_three_backbones_side_by_side():
    from catbreed.nets.backbones import create_backbone, get_spec
    from catbreed.nets.keras_features import feature_extractor

    ensemble = create_backbone("efficientnet_lite0_1_2")
    assert ensemble.input_shape[1] == 260 and get_spec("efficientnet_lite0_1_2").feature_blocks == (1280, 1280, 1280)
    features, imagenet = feature_extractor(ensemble, get_spec("efficientnet_lite0_1_2").layers)(
        np.full((1, 260, 260, 3), 120, np.float32)
    )
    assert features.shape == (1, 3840) and abs(float(np.sum(imagenet)) - 1) < 1e-3


def test_expected_time_counts_only_the_photos_new_to_this_machine(shapes_folder, tmp_path, extractor, standin_settings):
    from catbreed.learn.settings import MODE_TABLE
    from catbreed.learn.training import expected_time

    dataset, quick = check_folder(shapes_folder), MODE_TABLE["quick"]
    fits = quick.first_use_seconds + quick.pace.fixed_seconds + 36 * quick.pace.seconds_per_photo  # no flatbuffer yet
    assert expected_time(dataset, standin_settings, tmp_path).total == pytest.approx(
        fits + 36 * quick.pace.seconds_per_new_photo
    )
    train(dataset, standin_settings, home=tmp_path, extractor=extractor)
    measured = PaceBook(tmp_path).pace(standin_settings.pace_key, quick.pace)  # this machine's own pace now
    assert measured != quick.pace
    assert expected_time(dataset, standin_settings, tmp_path).total == pytest.approx(
        quick.first_use_seconds + measured.fixed_seconds + 36 * measured.seconds_per_photo
    )
    slower = expected_time(dataset, TrainSettings(mode="accurate"), tmp_path).total
    assert slower > fits  # the ensemble's features are new here


def test_the_pace_book_blends_each_measurement_in_and_survives_a_damaged_file(tmp_path):
    from catbreed.learn.pace import Pace, PaceBook

    book, default = PaceBook(tmp_path), Pace(seconds_per_new_photo=0.01, seconds_per_photo=0.001)
    assert book.pace("lite0", default) == default  # nothing measured: the benchmarked rates
    book.record("lite0", seconds_per_new_photo=0.02)
    assert book.pace("lite0", default).seconds_per_new_photo == 0.02
    book.record("lite0", seconds_per_new_photo=0.04)  # one slow run moves it halfway
    assert book.pace("lite0", default) == Pace(0.03, 0.001)
    book.path.write_text("{cut sho")
    assert book.pace("lite0", default) == default and book.job().overhead_seconds > 0


def test_every_photo_trained_on_has_its_out_of_fold_answer(trained):
    answers = trained.answers
    assert len(answers) == trained.split.sizes()["train"] == trained.evaluation.n
    assert {a.path for a in answers} == {trained.dataset.photos[i].name for i in trained.split.train}
    wrong = [a for a in answers if not a.right]
    assert sorted(a.path for a in wrong) == sorted(m.path for m in trained.evaluation.misclassified)
    row = trained.answers_for(true="green_bars")
    assert {a.true for a in row} == {"green_bars"} and [a.probability for a in row] == sorted(
        a.probability for a in row
    )
    assert trained.least_sure(3) == sorted(answers, key=lambda a: a.probability)[:3]


def test_a_model_names_the_saved_data_set_and_version_it_learned_from(shapes_folder, extractor, standin_settings):
    from catbreed.models.metadata import DataSource, ModelMetadata

    source = DataSource("abc123", 7, "shapes")
    result = train(check_folder(shapes_folder), standin_settings, extractor=extractor, source=source)
    assert result.bundle.metadata.data.source == source
    assert ModelMetadata.from_json(result.bundle.metadata.to_json()).data.source == source

import dataclasses
import threading

import numpy as np
import pytest

from catbreed import progress
from catbreed.dataset import check_folder
from catbreed.errors import Cancelled, CatbreedError
from catbreed.settings import TrainSettings
from catbreed.training import train


def test_quick_mode_learns_the_drawn_breeds(trained):
    assert trained.test.accuracy == 1.0 and trained.val_accuracy == 1.0
    assert trained.bundle.classes == ["blue_squares", "green_bars", "red_circles"]
    meta = trained.bundle.metadata
    assert meta["backbone"] == "efficientnet_lite0"
    assert meta["metrics"]["test_accuracy"] == 1.0
    assert meta["split"]["train"] + meta["split"]["val"] + meta["split"]["test"] == 36
    assert meta["settings"]["mode"] == "quick"


def test_progress_streams_stages_epochs_and_eta(shapes_folder, backbone):
    events = []
    train(check_folder(shapes_folder), TrainSettings(epochs=5, patience=100), on_event=events.append, backbone=backbone)
    stages = list(dict.fromkeys(e.stage for e in events))
    assert stages == [progress.FEATURES, progress.TRAINING]
    epochs = [e for e in events if e.stage == progress.TRAINING and e.epoch]
    assert [e.epoch for e in epochs] == [1, 2, 3, 4, 5]
    assert all(e.loss > 0 and 0 <= e.accuracy <= 1 and e.val_loss is not None for e in epochs)
    assert epochs[-1].eta_seconds == 0 and epochs[0].eta_seconds > 0


def test_training_can_be_cancelled_from_another_thread(shapes_folder, backbone):
    cancel = threading.Event()
    seen = []

    def on_event(event):
        seen.append(event)
        if event.stage == progress.TRAINING and event.epoch == 2:
            threading.Thread(target=cancel.set).start()

    with pytest.raises(Cancelled):
        train(check_folder(shapes_folder), TrainSettings(epochs=500, patience=500), on_event, cancel, backbone=backbone)
    assert max(e.epoch or 0 for e in seen) < 10


def test_fine_tune_mode_retrains_the_top_and_keeps_imagenet_intact(shapes_folder, backbone):
    dataset = check_folder(shapes_folder)
    events = []
    result = train(
        dataset,
        TrainSettings(mode="fine-tune", fine_tune_epochs=2, val_percent=25, test_percent=25),
        on_event=events.append,
        backbone=backbone,
    )
    assert progress.FINE_TUNING in {e.stage for e in events}
    report = result.bundle.metadata["fine_tune"]
    before, after = report["validation_before"], report["validation_after"]
    assert report["kept"] == ((after["accuracy"], -after["loss"]) > (before["accuracy"], -before["loss"]))
    assert result.test.accuracy == 1.0
    model = result.bundle.model
    names = {layer.name for layer in model.layers}
    assert ("tuned_top" in names) == report["kept"]
    if report["kept"]:
        tuned, original = model.get_layer("tuned_top"), model.get_layer("top")
        assert any(not np.allclose(a, b) for a, b in zip(tuned.get_weights(), original.get_weights()))
    x = np.full((1, 224, 224, 3), 128, np.float32)
    np.testing.assert_allclose(model.predict_on_batch(x)["imagenet"], backbone.predict_on_batch(x), atol=1e-5)


@pytest.mark.parametrize(
    ("before", "after", "kept"),
    [
        ((0.9, 0.5), (0.95, 0.6), True),
        ((0.9, 0.5), (0.9, 0.4), True),
        ((0.9, 0.5), (0.9, 0.6), False),
        ((0.9, 0.5), (0.85, 0.1), False),
    ],
)
def test_fine_tuning_is_judged_by_photos_right_then_by_loss(before, after, kept):
    from catbreed.training import _better

    as_score = lambda pair: {"accuracy": pair[0], "loss": pair[1]}  # noqa: E731
    assert _better(as_score(after), as_score(before)) is kept
    assert _better(None, None) is True


def test_fine_tuning_that_does_not_help_validation_is_dropped(shapes_folder, backbone, monkeypatch):
    from catbreed import training

    monkeypatch.setattr(training, "_better", lambda after, before: False)  # validation says: worse
    dataset = check_folder(shapes_folder)
    settings = TrainSettings(val_percent=25, test_percent=25)
    quick = train(dataset, settings, backbone=backbone)
    tuned = train(dataset, dataclasses.replace(settings, mode="fine-tune", fine_tune_epochs=2), backbone=backbone)
    assert tuned.bundle.metadata["fine_tune"]["kept"] is False
    assert "tuned_top" not in {layer.name for layer in tuned.bundle.model.layers}
    x = np.full((1, 224, 224, 3), 90, np.float32)
    np.testing.assert_allclose(
        tuned.bundle.model.predict_on_batch(x)["breeds"], quick.bundle.model.predict_on_batch(x)["breeds"], atol=1e-6
    )


def test_a_class_missing_from_train_and_val_still_trains(tmp_path, backbone):
    from conftest import make_dataset_folder

    root = make_dataset_folder(tmp_path / "d", per_class=2, kinds=("red_circles", "blue_squares"))
    result = train(check_folder(root), TrainSettings(val_percent=0, test_percent=0, epochs=3), backbone=backbone)
    assert result.test is None and result.val_accuracy is None
    assert result.split.sizes() == {"train": 4, "val": 0, "test": 0}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"mode": "slow"}, "Unknown mode 'slow'; expected one of: quick, fine-tune"),
        ({"epochs": 0}, "Epochs must be at least 1; got 0"),
        ({"learning_rate": 0}, "learning rate must be above 0"),
        ({"dropout": 1.0}, "dropout must be from 0"),
        ({"val_percent": 60, "test_percent": 50}, "must leave photos to train on"),
        ({"backbone": "vgg16"}, "Unknown backbone 'vgg16'"),
    ],
)
def test_bad_settings_say_what_to_fix(setting, message):
    with pytest.raises(CatbreedError, match=message):
        TrainSettings(**setting)

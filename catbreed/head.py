"""The trained head: a softmax layer learning breeds from the backbone's cached features.

`fit` is shared with fine-tuning: Adam, label smoothing, class weights for unbalanced data, early
stopping that keeps the best validation epoch, and progress events that can cancel the fit.
"""

from __future__ import annotations

import keras
import numpy as np

from catbreed.progress import Reporter


def build_head(feature_dim: int, n_classes: int, dropout: float) -> keras.Model:
    """float32 (N, feature_dim) -> float32 (N, n_classes) class probabilities."""
    features = keras.Input((feature_dim,), name="features")
    x = keras.layers.Dropout(dropout, name="head_dropout")(features)
    probabilities = keras.layers.Dense(n_classes, activation="softmax", name="breed")(x)
    return keras.Model(features, probabilities, name="head")


def balanced_class_weights(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    """Weight each class by n / (k * count), so every class counts as much in the loss."""
    counts = np.bincount(labels, minlength=n_classes)
    return {c: len(labels) / (n_classes * count) for c, count in enumerate(counts) if count}


class _ReportEpochs(keras.callbacks.Callback):
    def __init__(self, reporter: Reporter):
        super().__init__()
        self.reporter = reporter

    def on_train_batch_end(self, batch, logs=None):
        self.reporter.check_cancelled()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        metrics = {k: float(logs[k]) for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in logs}
        self.reporter.step(epoch + 1, epoch=epoch + 1, **metrics)


def fit(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray] | None,
    *,
    stage: str,
    epochs: int,
    learning_rate: float,
    batch_size: int,
    label_smoothing: float,
    patience: int,
    reporter: Reporter,
) -> None:
    """Train `model` in place on (inputs, int class ids); keeps the weights of the best epoch."""
    n_classes = model.output_shape[-1]
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
    x, y = train
    has_val = val is not None and len(val[1]) > 0
    stopper = keras.callbacks.EarlyStopping(
        monitor="val_loss" if has_val else "loss", patience=patience, restore_best_weights=True
    )
    reporter.start(stage, epochs)
    model.fit(
        x,
        keras.utils.to_categorical(y, n_classes),
        validation_data=(val[0], keras.utils.to_categorical(val[1], n_classes)) if has_val else None,
        epochs=epochs,
        batch_size=min(batch_size, len(y)),
        class_weight=balanced_class_weights(y, n_classes),
        shuffle=True,
        verbose=0,
        callbacks=[stopper, _ReportEpochs(reporter)],
    )
    if stopper.stopped_epoch:  # the bar jumps to the end when early stopping cut the run short
        reporter.step(epochs, epoch=stopper.stopped_epoch + 1)

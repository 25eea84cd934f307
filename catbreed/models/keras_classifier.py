"""Putting a backbone and a trained head together, in Keras.

The app and the command line run the frozen backbone as a LiteRT feature extractor (nets/runtime.py)
and the small head in NumPy (head.py). For export and for gradients the two are composed here
into one Keras model mapping float32 (N, S, S, 3) pixels in 0..255 to "breeds" (the head's
probabilities) and "imagenet" (the backbone's own 1000-class head, which says whether the photo
shows a cat at all). Only those faces import this module: Keras takes seconds to import.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from catbreed.models.familiarity import Familiarity
from catbreed.models.head import LinearHead
from catbreed.nets.backbones import LayerNames
from catbreed.nets.keras_features import feature_extractor

BREEDS, IMAGENET, FAMILIARITY = "breeds", "imagenet", "familiarity"


def compose(
    backbone: keras.Model, layers: LayerNames, head: keras.Model, familiarity: keras.Model | None = None
) -> keras.Model:
    """One model, pixels -> {"breeds": head probabilities, "imagenet": ImageNet probabilities} and,
    given its model, "familiarity" (models/familiarity.py: how like the breeds learned)."""
    image = keras.Input(backbone.input_shape[1:], name="image")
    features, imagenet = feature_extractor(backbone, layers)(image)
    outputs = {BREEDS: head(features), IMAGENET: imagenet}
    if familiarity is not None:
        outputs[FAMILIARITY] = familiarity(features)
    return keras.Model(image, outputs, name="catbreed_classifier")


def head_model(head: LinearHead) -> keras.Model:
    """`head` as a Keras model, float32 (N, D) -> (N, C), the same function as `head.predict_proba`."""
    head.check_fitted()
    features = keras.Input((sum(head.blocks),), name="features")
    normalised = BlockNormalisation(head.blocks, name="block_normalisation")(features)
    logits = keras.layers.Dense(head.n_classes, name="breed_logits")(normalised)
    probabilities = keras.layers.Activation("softmax", name="breed")(logits / head.temperature_)
    model = keras.Model(features, probabilities, name="head")
    model.get_layer("breed_logits").set_weights([head.weights_, head.bias_])
    return model


def familiarity_model(familiarity: Familiarity) -> keras.Model:
    """`familiarity` as a Keras model, float32 (N, D) -> (N,), the same function as `familiarity.score`."""
    features = keras.Input((sum(familiarity.blocks),), name="features")
    normalised = BlockNormalisation(familiarity.blocks, name="familiarity_normalisation")(features)
    whitened = keras.layers.Dense(familiarity.centres_.shape[1], name="familiarity_projection")(normalised)
    centres = keras.ops.convert_to_tensor(familiarity.centres_)
    squared = (
        keras.ops.sum(whitened**2, axis=1, keepdims=True)
        - 2 * keras.ops.matmul(whitened, keras.ops.transpose(centres))
        + keras.ops.sum(centres**2, axis=1)[None]
    )
    model = keras.Model(features, -keras.ops.min(squared, axis=1), name="familiarity")
    model.get_layer("familiarity_projection").set_weights([familiarity.projection_, -familiarity.offset_])
    return model


class BlockNormalisation(keras.layers.Layer):
    """head.normalise as a Keras layer."""

    def __init__(self, blocks: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.blocks = tuple(int(b) for b in blocks)

    def call(self, features):
        starts = np.cumsum((0, *self.blocks))
        scale = 1 / np.sqrt(len(self.blocks))
        parts = [features[:, a:b] for a, b in zip(starts[:-1], starts[1:])]
        return keras.ops.concatenate(
            [scale * p / keras.ops.maximum(keras.ops.norm(p, axis=-1, keepdims=True), 1e-12) for p in parts], axis=-1
        )

    def get_config(self):
        return {**super().get_config(), "blocks": list(self.blocks)}

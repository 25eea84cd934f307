"""Putting a backbone and a trained head together.

The app and the command line run the frozen backbone as a feature extractor (pixels -> pooled
features and ImageNet probabilities, one pass) and the small head on its features. For export
and for gradients the two are composed into one Keras model mapping float32 (N, S, S, 3) pixels
in 0..255 to "breeds" (the head's probabilities) and "imagenet" (the backbone's own 1000-class
head, which says whether the photo shows a cat at all).
"""

from __future__ import annotations

import keras

BREEDS, IMAGENET = "breeds", "imagenet"


def feature_extractor(backbone: keras.Model) -> keras.Model:
    """pixels -> [float32 (N, D) pooled features, float32 (N, 1000) ImageNet probabilities]."""
    return keras.Model(
        backbone.input,
        [backbone.get_layer("avg_pool").output, backbone.get_layer("predictions").output],
        name="features",
    )


def compose(backbone: keras.Model, head: keras.Model) -> keras.Model:
    """One model, pixels -> {"breeds": head probabilities, "imagenet": ImageNet probabilities}."""
    image = keras.Input(backbone.input_shape[1:], name="image")
    features, imagenet = feature_extractor(backbone)(image)
    return keras.Model(image, {BREEDS: head(features), IMAGENET: imagenet}, name="catbreed_classifier")

"""Putting a backbone and a trained head together.

The app and the command line run the frozen backbone as a feature extractor (pixels -> pooled
features and ImageNet probabilities, one pass) and the small head on its features. For export
and for gradients the two are composed into one Keras model mapping float32 (N, S, S, 3) pixels
in 0..255 to "breeds" (the head's probabilities) and "imagenet" (the backbone's own 1000-class
head, which says whether the photo shows a cat at all).
"""

from __future__ import annotations

import keras

from catbreed.nets.backbones import LayerNames

BREEDS, IMAGENET = "breeds", "imagenet"


def feature_extractor(backbone: keras.Model, layers: LayerNames) -> keras.Model:
    """pixels -> [float32 (N, D) pooled features, float32 (N, 1000) ImageNet probabilities];
    `layers` is the backbone's registry row's `layers`."""
    return keras.Model(
        backbone.input,
        [backbone.get_layer(layers.pooled).output, backbone.get_layer(layers.imagenet).output],
        name="features",
    )


def compose(backbone: keras.Model, layers: LayerNames, head: keras.Model) -> keras.Model:
    """One model, pixels -> {"breeds": head probabilities, "imagenet": ImageNet probabilities}."""
    image = keras.Input(backbone.input_shape[1:], name="image")
    features, imagenet = feature_extractor(backbone, layers)(image)
    return keras.Model(image, {BREEDS: head(features), IMAGENET: imagenet}, name="catbreed_classifier")

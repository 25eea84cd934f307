"""Putting a backbone and a trained head together into one model that reads a photo.

Every classifier maps float32 (N, S, S, 3) pixels in 0..255 to two outputs from one backbone
pass: "breeds" (the trained head's probabilities) and "imagenet" (the backbone's own 1000-class
head, which says whether the photo shows a cat at all). The backbone is split at its spec's
`fine_tune_from` layer into a frozen `trunk` and a `top`; fine-tuning retrains a copy of the top,
so the ImageNet answer still comes from the untouched original.
"""

from __future__ import annotations

import keras

from catbreed.backbones import BackboneSpec

BREEDS, IMAGENET = "breeds", "imagenet"


def split_backbone(backbone: keras.Model, spec: BackboneSpec) -> tuple[keras.Model, keras.Model]:
    """(trunk: pixels -> feature map at `fine_tune_from`, top: that map -> pooled features)."""
    boundary = backbone.get_layer(spec.fine_tune_from).input
    trunk = keras.Model(backbone.input, boundary, name="trunk")
    top = keras.Model(boundary, backbone.get_layer("avg_pool").output, name="top")
    return trunk, top


def feature_extractor(backbone: keras.Model) -> keras.Model:
    """pixels -> float32 (N, D) pooled features, the input of the breed head."""
    return keras.Model(backbone.input, backbone.get_layer("avg_pool").output, name="features")


def trainable_copy(top: keras.Model) -> keras.Model:
    """A copy of `top` with the same weights to fine-tune; its batch norms stay frozen (inference mode)."""
    clone = keras.models.clone_model(top)
    copy = keras.Model(clone.inputs[0], clone.outputs[0], name="tuned_top")
    copy.set_weights(top.get_weights())
    for layer in copy.layers:
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    return copy


def compose(
    backbone: keras.Model, spec: BackboneSpec, head: keras.Model, tuned_top: keras.Model | None = None
) -> keras.Model:
    trunk, top = split_backbone(backbone, spec)
    image = keras.Input(backbone.input_shape[1:], name="image")
    feature_map = trunk(image)
    imagenet_features = top(feature_map)
    breed_features = tuned_top(feature_map) if tuned_top is not None else imagenet_features
    outputs = {BREEDS: head(breed_features), IMAGENET: backbone.get_layer("predictions")(imagenet_features)}
    return keras.Model(image, outputs, name="catbreed_classifier")


def imagenet_classifier(backbone: keras.Model) -> keras.Model:
    """The built-in model: before any training, the 'breeds' are ImageNet's own 1000 classes."""
    image = keras.Input(backbone.input_shape[1:], name="image")
    probabilities = backbone(image)
    return keras.Model(image, {BREEDS: probabilities, IMAGENET: probabilities}, name="imagenet_classifier")

"""A backbone's feature extractor in Keras: the network whose outputs every answer starts from.

Pixels go in; the pooled features (what a head learns from) and the backbone's own ImageNet
probabilities (whether the photo shows a cat at all) come out, read from the layers its registry
row names. nets/runtime.py writes the same function as a LiteRT flatbuffer for fast answers; this
Keras face serves what needs gradients (Grad-CAM), export (models/keras_classifier.py) and the
converter of rows that cannot write themselves. Keras takes seconds to import: only they import it.
"""

from __future__ import annotations

import keras

from catbreed.nets.backbones import LayerNames


def feature_extractor(backbone: keras.Model, layers: LayerNames) -> keras.Model:
    """pixels -> [float32 (N, D) pooled features, float32 (N, 1000) ImageNet probabilities];
    `layers` is the backbone's registry row's `layers`."""
    return keras.Model(
        backbone.input,
        [backbone.get_layer(layers.pooled).output, backbone.get_layer(layers.imagenet).output],
        name="features",
    )

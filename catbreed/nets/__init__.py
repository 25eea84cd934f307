"""The frozen pretrained networks: the backbone registry, EfficientNet-Lite and its weights, and the LiteRT runtime."""

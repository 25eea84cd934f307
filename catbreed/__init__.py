"""catbreed: teach a computer to tell cat breeds apart, offline, on an ordinary laptop.

The data's journey, one module each: archive -> dataset (checked) -> split -> features (cached)
-> head (trained) -> bundle (saved model) -> predict. `training.train` runs the whole way.
"""

__version__ = "0.1.0"

"""`python -m catbreed.warmup`: convert every mode's backbone weights and LiteRT flatbuffer ahead of
use, so the first visitor of a new server (or a Docker image) does not wait for them."""

from catbreed.learn.settings import MODE_TABLE
from catbreed.nets.runtime import flatbuffer_path, load_extractor

if __name__ == "__main__":
    for name, mode in MODE_TABLE.items():
        load_extractor(mode.backbone)  # builds the weights first, then converts
        print(f"{name} mode: {mode.backbone} ready in {flatbuffer_path(mode.backbone)}")

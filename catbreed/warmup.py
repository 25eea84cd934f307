"""`python -m catbreed.warmup`: write every mode's LiteRT flatbuffer and convert its Keras weights
ahead of use, so the first visitor of a new server (or a Docker image) does not wait for them.
Training and Classify run the flatbuffer; the Keras weights serve Grad-CAM and the Learn page."""

from catbreed.learn.settings import MODE_TABLE
from catbreed.nets.backbones import create_backbone
from catbreed.nets.runtime import flatbuffer_path, load_extractor

if __name__ == "__main__":
    for name, mode in MODE_TABLE.items():
        load_extractor(mode.backbone)
        create_backbone(mode.backbone)
        print(f"{name} mode: {mode.backbone} ready in {flatbuffer_path(mode.backbone)}")

"""`python -m catbreed.warmup`: convert and cache every mode's backbone weights ahead of use."""

from catbreed.learn.settings import MODE_TABLE
from catbreed.nets.backbones import create_backbone
from catbreed.paths import catbreed_home

if __name__ == "__main__":
    for name, mode in MODE_TABLE.items():
        create_backbone(mode.backbone)
        print(f"{name} mode: {mode.backbone} weights cached under {catbreed_home() / 'backbones'}")

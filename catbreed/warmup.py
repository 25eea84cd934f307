"""`python -m catbreed.warmup`: convert and cache the default backbone's weights ahead of use."""

from catbreed.backbones import DEFAULT_BACKBONE, create_backbone
from catbreed.paths import catbreed_home

if __name__ == "__main__":
    create_backbone(DEFAULT_BACKBONE)
    print(f"{DEFAULT_BACKBONE} weights cached under {catbreed_home() / 'backbones'}")

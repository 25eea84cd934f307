"""`python -m catbreed.warmup`: convert and cache every mode's backbone weights ahead of use."""

from catbreed.backbones import create_backbone
from catbreed.paths import catbreed_home
from catbreed.settings import MODE_BACKBONES

if __name__ == "__main__":
    for mode, backbone in MODE_BACKBONES.items():
        create_backbone(backbone)
        print(f"{mode} mode: {backbone} weights cached under {catbreed_home() / 'backbones'}")

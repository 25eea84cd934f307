"""Training settings: defaults and help texts live here, and the CLI and the app read them from here."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from catbreed.data.split import check_test_percent
from catbreed.errors import CatbreedError
from catbreed.learn.pace import Pace
from catbreed.messages import ENGLISH, text
from catbreed.models.head import DEFAULT_INVERSE_REGULARIZATION
from catbreed.nets.backbones import DEFAULT_BACKBONE, ENSEMBLE_BACKBONE, get_spec


@dataclass(frozen=True)
class Mode:
    backbone: str
    augment: bool  # mirror images: measured to pay for the ensemble (+0.3 points), not for Lite0 (+0.03)
    summary: str  # the code of its words
    # Measured on a 2-core laptop (README, "Time estimates"): writing the backbone's flatbuffer once,
    # and the rates a machine uses until it has measured its own (learn/pace.py).
    first_use_seconds: float
    pace: Pace


QUICK, ACCURATE = "quick", "accurate"
MODE_TABLE = {
    QUICK: Mode(
        backbone=DEFAULT_BACKBONE,
        augment=False,
        summary="mode.quick.summary",
        first_use_seconds=0.3,
        # Fits: 0.0034 s a photo, and the learning curve 1.7 ms more (3.0 s for the 1,799 cats).
        pace=Pace(seconds_per_new_photo=0.006, seconds_per_photo=0.0051),
    ),
    ACCURATE: Mode(
        backbone=ENSEMBLE_BACKBONE,
        augment=True,
        summary="mode.accurate.summary",
        first_use_seconds=0.5,
        # Fits: 0.012 s a photo, and the learning curve 6.7 ms more (12 s for the 1,799 cats).
        pace=Pace(seconds_per_new_photo=0.065, seconds_per_photo=0.019),
    ),
}
MODES = tuple(MODE_TABLE)


def _setting(default, help: str | None):
    """A setting with the code of its help text (None: made from the modes' summaries)."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainSettings:
    mode: str = _setting(QUICK, None)
    backbone: str = _setting("", "settings.backbone.help")
    inverse_regularization: float = _setting(DEFAULT_INVERSE_REGULARIZATION, "settings.inverse_regularization.help")
    augment: bool | None = _setting(None, "settings.augment.help")
    test_percent: float = _setting(0.0, "settings.test_percent.help")
    seed: int = _setting(0, "settings.seed.help")

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise CatbreedError("settings.unknown_mode", mode=self.mode, modes=list(MODES))
        if not self.backbone:
            object.__setattr__(self, "backbone", MODE_TABLE[self.mode].backbone)
        if self.augment is None:
            object.__setattr__(self, "augment", MODE_TABLE[self.mode].augment)
        get_spec(self.backbone)
        if not 0 < self.inverse_regularization <= 1e6:
            raise CatbreedError("settings.inverse_regularization", value=self.inverse_regularization)
        check_test_percent(self.test_percent)

    @property
    def pace_key(self) -> str:
        """What a measured pace is kept under: the backbone and whether mirror images are computed too."""
        return f"{self.backbone}-{'mirrored' if self.augment else 'original'}"

    @classmethod
    def help(cls, name: str, language: str = ENGLISH) -> str:
        code = next(f.metadata["help"] for f in fields(cls) if f.name == name)
        if code is None:
            return "; ".join(f"{mode}: {text(row.summary, language)}" for mode, row in MODE_TABLE.items())
        return text(code, language)

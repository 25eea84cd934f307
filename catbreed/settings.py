"""Training settings: defaults and help texts live here, and the CLI and the app read them from here."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from catbreed.backbones import DEFAULT_BACKBONE, get_spec
from catbreed.errors import CatbreedError
from catbreed.split import check_percentages

QUICK, FINE_TUNE = "quick", "fine-tune"
MODES = (QUICK, FINE_TUNE)


def _setting(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainSettings:
    mode: str = _setting(
        QUICK, "quick trains a new head on cached features; fine-tune then also retrains the top of the CNN"
    )
    backbone: str = _setting(DEFAULT_BACKBONE, "the pretrained ImageNet CNN whose features the breeds are learned from")
    epochs: int = _setting(
        80, "most passes over the training photos; training stops early when validation stops improving"
    )
    learning_rate: float = _setting(1e-3, "step size of the head's optimiser (Adam)")
    batch_size: int = _setting(128, "photos per training step")
    label_smoothing: float = _setting(0.1, "how much to soften the targets, against over-confident predictions")
    dropout: float = _setting(0.2, "fraction of features dropped at random during training, against overfitting")
    augment: bool = _setting(True, "also learn from each photo's mirror image")
    val_percent: float = _setting(10.0, "share of photos held out to decide when to stop")
    test_percent: float = _setting(10.0, "share of photos held out to measure accuracy on photos never seen")
    patience: int = _setting(10, "epochs without a better validation loss before stopping")
    fine_tune_epochs: int = _setting(8, "passes over the photos while the top of the CNN is retrained (fine-tune mode)")
    fine_tune_learning_rate: float = _setting(1e-4, "the smaller step size used while fine-tuning the CNN")
    seed: int = _setting(0, "random seed, so a run can be repeated")

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise CatbreedError(f"Unknown mode '{self.mode}'; expected one of: {', '.join(MODES)}.")
        get_spec(self.backbone)
        for name in ("epochs", "batch_size", "fine_tune_epochs"):
            if getattr(self, name) < 1:
                raise CatbreedError(
                    f"{name.replace('_', ' ').capitalize()} must be at least 1; got {getattr(self, name)}."
                )
        for name in ("learning_rate", "fine_tune_learning_rate"):
            if not 0 < getattr(self, name) <= 1:
                raise CatbreedError(
                    f"The {name.replace('_', ' ')} must be above 0 and at most 1; got {getattr(self, name)}."
                )
        for name in ("label_smoothing", "dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise CatbreedError(
                    f"The {name.replace('_', ' ')} must be from 0 up to (not including) 1; got {getattr(self, name)}."
                )
        if self.patience < 0:
            raise CatbreedError(f"Patience must be 0 or more; got {self.patience}.")
        check_percentages(self.val_percent, self.test_percent)

    @classmethod
    def help(cls, name: str) -> str:
        return next(f.metadata["help"] for f in fields(cls) if f.name == name)

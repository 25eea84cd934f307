"""Progress events and cancellation for long work, readable by any face: page, CLI or test.

Long functions take `on_event` (a plain callable receiving `Progress`) and `cancel` (anything
with `is_set()`, such as `threading.Event`). Setting `cancel` from another thread makes the work
raise `Cancelled` at its next step, before it writes anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from catbreed.errors import Cancelled
from catbreed.messages import ENGLISH, Message, message, text

CHECKING = "stage.checking"
FEATURES = "stage.features"
CROSS_VALIDATING = "stage.estimating"
LEARNING_CURVE = "stage.learning_curve"
TRAINING = "stage.training"
EVALUATING = "stage.evaluating"


@dataclass(frozen=True)
class Progress:
    stage: str
    step: int
    total: int
    eta_seconds: float | None = None
    accuracy: float | None = None  # of the fold just held out, while estimating accuracy

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 1.0

    def describe(self, language: str = ENGLISH) -> str:
        """'Computing features: 64 of 600', in words a person reads; a stage with nothing to do says so."""
        if self.stage == FEATURES and not self.total:
            return text("progress.all_cached", language)
        said = message("progress.step", stage=Message(self.stage), step=self.step, total=self.total).text(language)
        return said[:1].upper() + said[1:]


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


ProgressCallback = Callable[[Progress], None]


class Reporter:
    """Emits a stage's steps with an ETA measured from the stage's own pace, and honours `cancel`."""

    def __init__(self, on_event: ProgressCallback | None = None, cancel: CancelFlag | None = None):
        self._on_event = on_event
        self._cancel = cancel
        self._stage = ""
        self._total = 0
        self._started = 0.0

    def check_cancelled(self) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise Cancelled("cancelled on request")

    def start(self, stage: str, total: int) -> None:
        self.check_cancelled()
        self._stage, self._total, self._started = stage, total, time.perf_counter()
        self._emit(Progress(stage, 0, total))

    def step(self, done: int, **metrics: float | int | None) -> None:
        self.check_cancelled()
        elapsed = time.perf_counter() - self._started
        eta = elapsed / done * (self._total - done) if done else None
        self._emit(Progress(self._stage, done, self._total, eta_seconds=eta, **metrics))

    def _emit(self, event: Progress) -> None:
        if self._on_event is not None:
            self._on_event(event)

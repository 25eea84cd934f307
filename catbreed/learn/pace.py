"""How fast this machine trains, measured on it: time estimates from its own rates, not a laptop's.

Every training writes what it measured (seconds per photo whose features were computed, seconds
per photo of the fits) into `CATBREED_HOME/pace.json`, and the job manager adds what a job costs
around the training (handing it to the worker and back, and starting the worker). An estimate
uses those rates once there are some, the mode's benchmarked ones (settings.MODE_TABLE) before.
Each new measurement counts half, so one slow run (another person's page busy) moves an estimate
without taking it over. A rate is only recorded from enough photos to say something.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from catbreed.paths import atomic_write_bytes

PACE_FILE = "pace.json"
MIN_PHOTOS_MEASURED = 32  # features of fewer: the first batch's warm-up is most of what is measured
# Fits of fewer photos are mostly their fixed cost: 40 photos in accurate mode measured a rate 60%
# above the one that 160 or 1,799 gave, and the next estimate missed by 41%.
MIN_PHOTOS_FITTED = 100
NEW_WEIGHT = 0.5
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Pace:
    seconds_per_new_photo: float  # the backbone's features of a photo this machine has not seen
    seconds_per_photo: float  # cross-validation, the verdicts' fits and the final fit, per photo
    fixed_seconds: float = 0.3  # whatever a training costs however few its photos


@dataclass(frozen=True)
class JobPace:
    overhead_seconds: float = 0.3  # a job around its training: to the worker, results and events back
    worker_start_seconds: float = 1.7  # a new server's worker: starting it, writing and loading the network


class PaceBook:
    """The rates measured in `home`, by key (a backbone and its views, or "job")."""

    def __init__(self, home: Path):
        self.path = Path(home) / PACE_FILE

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}  # none yet, or a file cut short: the defaults serve until the next training

    def pace(self, key: str, default: Pace) -> Pace:
        return self._get(key, default)

    def job(self) -> JobPace:
        return self._get("job", JobPace())

    def _get(self, key: str, default):
        known = self._read().get(key, {})
        fields = {name: float(known[name]) for name in asdict(default) if isinstance(known.get(name), int | float)}
        return replace(default, **fields)

    def record(self, key: str, **measured: float) -> None:
        """Blend each measured rate into the book (see the module docstring)."""
        with _LOCK:
            data = self._read()
            entry = data.setdefault(key, {})
            for name, value in measured.items():
                old = entry.get(name)
                entry[name] = value if not isinstance(old, int | float) else (1 - NEW_WEIGHT) * old + NEW_WEIGHT * value
            atomic_write_bytes(self.path, json.dumps(data, indent=1).encode("utf-8"))

"""What a server does when it starts (and once a day after): finish what a crash interrupted and
drop what nobody needs any more, so that a long-running server's disk use stays bounded.

- models a crash left half-saved are put back or removed (`ModelStore.recover`);
- temporary folders of processes that ended are deleted (`paths.clear_stale_temp`);
- data sets unused for `limits.keep_datasets_days` are deleted (`DatasetStore.expire`).
Finished training jobs are dropped by their `JobManager` itself, which holds them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from catbreed.data.saved_datasets import DatasetStore
from catbreed.models.store import ModelStore
from catbreed.paths import catbreed_home, clear_stale_temp, models_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tidied:
    models_restored: list[str]
    temp_folders_removed: list[str]
    datasets_expired: list[str]


def tidy_up(home: Path | None = None) -> Tidied:
    home = home or catbreed_home()
    tidied = Tidied(
        models_restored=ModelStore(models_dir(home)).recover(),
        temp_folders_removed=clear_stale_temp(home),
        datasets_expired=_expired_after_recovery(DatasetStore(home / "datasets")),
    )
    if any(vars(tidied).values()):
        log.info("tidied up %s: %s", home, tidied)
    return tidied


def _expired_after_recovery(datasets: DatasetStore) -> list[str]:
    datasets.recover()  # half-made data sets a crash left go first
    return datasets.expire()

"""Training jobs that outlive the page that started them.

A `JobManager` owns one worker thread and a queue: jobs run one after another (two trainings at
once would only halve each other's share of the cores), each with its own dataset, settings,
event history, result and cancel flag. A page keeps nothing but a job id, so a reload, another
tab or another browser session can find the job again, and no two jobs ever share a result.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from catbreed.data.dataset import Dataset
from catbreed.errors import Cancelled, CatbreedError
from catbreed.learn.features import FeatureExtractor
from catbreed.learn.settings import TrainSettings
from catbreed.learn.training import ExpectedTime, TrainResult, expected_time, train
from catbreed.models.metadata import DataSource
from catbreed.progress import FEATURES, Progress

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
# A stage's first batches include warming up (the interpreter's first call, threads starting): its
# pace says little before a few steps, so until then the time left comes from the expected time.
MEASURED_STEPS = 64


@dataclass
class TrainingJob:
    dataset: Dataset
    settings: TrainSettings
    source: DataSource | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: str = QUEUED
    events: list[Progress] = field(default_factory=list)  # appended by the worker, read by pages
    result: TrainResult | None = None
    error: str | None = None
    cancel_flag: threading.Event = field(default_factory=threading.Event)
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    expected: ExpectedTime | None = None  # set when submitted

    def seconds_left(self, now: float | None = None) -> float | None:
        """About how long until it ends: the running stage's own pace once it has one, plus the
        expected time of the stages after it; before that, the expected time less the time spent."""
        if self.state in FINISHED:
            return 0.0
        if self.expected is None:
            return None
        if self.state == QUEUED or self.started is None:
            return self.expected.total
        latest = self.latest
        if latest is not None and latest.eta_seconds is not None and latest.step >= MEASURED_STEPS:
            later = self.expected.fits if latest.stage == FEATURES else 0.0
            return latest.eta_seconds + later
        return max(self.expected.total - ((now or time.time()) - self.started), 1.0)

    @property
    def latest(self) -> Progress | None:
        return self.events[-1] if self.events else None

    @property
    def folds(self) -> list[Progress]:
        """The cross-validation folds finished so far, each with its held-out accuracy."""
        return [e for e in list(self.events) if e.accuracy is not None]

    def cancel(self) -> None:
        self.cancel_flag.set()


class JobManager:
    def __init__(self, extractor_for: Callable[[str], FeatureExtractor], home: Path | None = None):
        self._extractor_for = extractor_for
        self._home = home
        self._jobs: dict[str, TrainingJob] = {}
        self._queue: queue.Queue[TrainingJob] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="catbreed-training", daemon=True)
        self._worker.start()

    def submit(self, dataset: Dataset, settings: TrainSettings, source: DataSource | None = None) -> TrainingJob:
        """Queue a training; `source` names the saved data set the photos are, for the model to record."""
        job = TrainingJob(dataset, settings, source, expected=expected_time(dataset, settings, self._home))
        self._jobs[job.id] = job
        self._queue.put(job)
        return job

    def get(self, job_id: str | None) -> TrainingJob | None:
        return self._jobs.get(job_id) if job_id else None

    def position(self, job: TrainingJob) -> int:
        """How many jobs will run before `job` (0 when it runs now or has finished)."""
        return len(self._ahead_of(job))

    def wait_seconds(self, job: TrainingJob) -> float | None:
        """About how long until `job` starts: what the jobs before it have left."""
        left = [j.seconds_left() for j in self._ahead_of(job)]
        return None if None in left else sum(left)

    def _ahead_of(self, job: TrainingJob) -> list[TrainingJob]:
        if job.state != QUEUED:
            return []
        jobs = list(self._jobs.values())  # a copy: other sessions add jobs while this one reads
        return [j for j in jobs if j.state in (QUEUED, RUNNING) and j.submitted < job.submitted]

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            self._run(job)
            job.finished = time.time()

    def _run(self, job: TrainingJob) -> None:
        if job.cancel_flag.is_set():
            job.state = CANCELLED
            return
        job.state, job.started = RUNNING, time.time()
        try:
            extractor = self._extractor_for(job.settings.backbone)
            job.result = train(
                job.dataset, job.settings, job.events.append, job.cancel_flag, self._home, extractor, job.source
            )
            job.state = DONE
        except Cancelled:
            job.state = CANCELLED
        except CatbreedError as error:
            job.error, job.state = str(error), FAILED
        except Exception as error:  # the worker must survive to run the next job
            log.exception("training job %s failed", job.id)
            job.error, job.state = f"Training failed unexpectedly ({type(error).__name__}: {error}).", FAILED

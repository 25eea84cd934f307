"""Training jobs that run beside the server, not inside it, and outlive the page that started them.

A `JobManager` keeps each job's record (dataset, settings, progress events, result, cancel flag)
in the server and sends the training itself to a Dask worker process: a training's busy threads
then no longer slow down everyone else's pages, and a training that dies (out of memory) takes
only its worker with it. By default the manager starts a `LocalCluster` of one worker process;
with CATBREED_SCHEDULER set to a Dask scheduler's address it sends trainings there instead, to
workers on other machines that share CATBREED_HOME (photos, feature cache) with the server.

Jobs run one after another (two trainings at once would only halve each other's share of the
cores), each on a snapshot of its photos taken at submit. Before each job the manager makes sure it
is connected to a scheduler with a worker, connecting again if the scheduler started late or came
back, so a cluster's failures fail the job at hand with a message, never the server. Progress
crosses the process boundary as Dask worker events on a topic of the job's own; cancelling sets a
Dask `Event` the training checks between steps, and drops its future at once. A page keeps nothing
but a job id, so a reload, another tab or another browser session can find the job again. Finished jobs
are dropped after `limits.keep_jobs_hours`, and beyond `KEPT_FINISHED` of them, oldest first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from pathlib import Path

from catbreed.data.dataset import Dataset, snapshot
from catbreed.errors import Cancelled, CatbreedError
from catbreed.learn.pace import PaceBook
from catbreed.learn.settings import TrainSettings
from catbreed.learn.training import ExpectedTime, TrainResult, expected_time, train
from catbreed.limits import limits
from catbreed.messages import Message, message
from catbreed.models.metadata import DataSource
from catbreed.nets.backbones import DEFAULT_BACKBONE
from catbreed.paths import catbreed_home, new_temp_folder
from catbreed.progress import FEATURES, CancelFlag, Progress, ProgressCallback

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
SCHEDULER_VARIABLE = "CATBREED_SCHEDULER"
# The app's own certificate and key and the authority that signed every member's: a scheduler of
# one's own is spoken to over mutual TLS only (`python -m catbreed certificates` makes them).
TLS_VARIABLES = ("CATBREED_TLS_CA", "CATBREED_TLS_CERT", "CATBREED_TLS_KEY")
# What the server reads from the cluster: msgpack (numbers, strings, bytes, lists, dicts), never a
# pickle, so a worker's answer is data to check, not code that runs in the server when read.
PLAIN_DATA = ("msgpack", "error")
# Dask's scheduler and workers also serve web pages (the workers, tasks and their errors, logs, call
# stacks) to anyone who reaches their HTTP port, with no TLS and no certificate even where their own
# connections need both, and with no dashboard asked for. Ours serve none.
NO_WEB_PAGES = {"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}
KEPT_FINISHED = 100  # finished jobs kept at most, whatever their age: each holds a trained model
_CANCEL_CHECK_SECONDS = 0.5  # how often a worker asks the scheduler whether its job was cancelled
_LATE_EVENTS_SECONDS = 5.0  # events travel apart from the result: wait this long for the last ones
_RECONNECT_SECONDS = 20.0  # how long a job waits for an unreachable scheduler before it fails
_NO_WORKER_SECONDS = 30.0  # how long a job waits for a worker to join the scheduler before it fails
SCHEDULER_LOST = message("jobs.scheduler_lost")
WORKER_DIED = message("jobs.worker_died")

# What a worker runs: (dataset, settings, source, home, on_event, cancel) -> TrainResult.
Training = Callable[[Dataset, TrainSettings, DataSource | None, Path, ProgressCallback, CancelFlag], TrainResult]


@dataclass
class TrainingJob:
    dataset: Dataset
    settings: TrainSettings
    source: DataSource | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: str = QUEUED
    events: list[Progress] = field(default_factory=list)  # appended as they arrive, read by pages
    stage_started: dict[str, float] = field(default_factory=dict)  # when each stage's first event arrived
    result: TrainResult | None = None
    error: Message | None = None  # why it failed, for the page to say in its person's language
    cancel_flag: threading.Event = field(default_factory=threading.Event)
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    expected: ExpectedTime | None = None  # set when submitted
    owner: str | None = None  # the identity that asked for it: only they see it (and its photos)
    # What the worker learns from: the checked photos as they were at submit, unmoved by later edits.
    photos: Dataset | None = None

    def seconds_left(self, now: float | None = None) -> float | None:
        """About how long until it ends, or None while there is nothing measured to say it from.

        Queued: the expected time. Computing features: that stage's own measured pace once a batch
        is done (none before: a countdown from a guess only misleads), plus the fits' expected time.
        After the features: the fits' expected time less the time they have taken so far."""
        if self.state in FINISHED:
            return 0.0
        if self.expected is None:
            return None
        if self.state == QUEUED or self.started is None:
            return self.expected.total
        latest, after = self.latest, self.expected.fits + self.expected.overhead / 2  # half of it is the hand-back
        if latest is None or (latest.stage == FEATURES and latest.total and latest.eta_seconds is None):
            return None
        if latest.stage == FEATURES:
            return (latest.eta_seconds or 0.0) + after
        fits_started = min(t for stage, t in self.stage_started.items() if stage != FEATURES)
        return max(after - ((now or time.time()) - fits_started), 0.5)

    def end(self, state: str, result: TrainResult | None = None, error: Message | None = None) -> None:
        """Finish with `state`: the time, result and error are set first, so whoever sees the state
        finished sees them too."""
        self.finished, self.result, self.error = time.time(), result, error
        self.state = state

    def add_event(self, event: Progress) -> None:
        self.stage_started.setdefault(event.stage, time.time())
        self.events.append(event)

    @property
    def latest(self) -> Progress | None:
        return self.events[-1] if self.events else None

    @property
    def folds(self) -> list[Progress]:
        """The cross-validation folds finished so far, each with its held-out accuracy."""
        return [e for e in list(self.events) if e.accuracy is not None]

    def cancel(self) -> None:
        self.cancel_flag.set()


# --- on the worker -------------------------------------------------------------------------


@functools.cache
def _extractor(backbone: str, home: Path):
    from catbreed.nets.runtime import load_extractor

    return load_extractor(backbone, home)


def train_on_worker(dataset, settings, source, home, on_event, cancel) -> TrainResult:
    """The default `Training`: the worker keeps each backbone's extractor loaded between jobs."""
    return train(dataset, settings, on_event, cancel, home, _extractor(settings.backbone, home), source)


def warm_up_worker(backbone: str, home: Path) -> None:
    """Load what the first training needs (the backbone's flatbuffer, the fits' first calls), before
    anyone waits: a new worker's first fits cost a second more than later ones (BLAS and
    threadpoolctl start up), which the first training paid and its measured pace carried."""
    import numpy as np

    from catbreed.models.familiarity import Familiarity
    from catbreed.models.head import LinearHead

    _yield_the_cores()
    _extractor(backbone, home)
    features, labels = np.random.default_rng(0).normal(size=(8, 1, 16)).astype(np.float32), np.arange(8) % 2
    LinearHead([16], 2).fit(features, labels)
    Familiarity([16]).fit(features[:, 0], labels)


@functools.cache
def _yield_the_cores() -> None:
    """Once per worker process: let the server's pages win when both want the cores."""
    if hasattr(os, "nice"):
        os.nice(19)


class _RemoteCancel:
    """`is_set()` of the job's Dask Event, asked at most every `_CANCEL_CHECK_SECONDS`."""

    def __init__(self, name: str):
        from distributed import Event

        self._event, self._checked, self._set = Event(name), 0.0, False

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._set and now - self._checked >= _CANCEL_CHECK_SECONDS:
            self._set, self._checked = self._event.is_set(), now
        return self._set


def _run_on_worker(training: Training, dataset, settings, source, home, topic: str, cancel_name: str):
    """The task sent to Dask: runs `training`, publishing progress on `topic`. Returns plain data
    only (the server refuses anything else, see PLAIN_DATA): the result's `to_plain`, or how it
    ended otherwise, with how many events it sent and the seconds it took on the worker."""
    from distributed import get_worker

    _yield_the_cores()
    worker, sent, started = get_worker(), 0, time.perf_counter()

    def publish(event: Progress) -> None:
        nonlocal sent
        worker.log_event(topic, dataclasses.asdict(event))
        sent += 1

    try:
        outcome = {"result": training(dataset, settings, source, home, publish, _RemoteCancel(cancel_name)).to_plain()}
    except Cancelled:
        outcome = {"cancelled": True}
    except CatbreedError as error:
        outcome = {"error": error.message.to_json()}  # codes: the server says it in each person's language
    except Exception as error:  # as text: an exception object would have to be unpickled in the server
        log.exception("training failed on the worker")
        outcome = {"failed": f"{type(error).__name__}: {error}"}
    return outcome | {"events": sent, "seconds": time.perf_counter() - started}


# --- in the server -------------------------------------------------------------------------


class JobManager:
    """`scheduler`: a Dask scheduler's address (default: CATBREED_SCHEDULER, else a LocalCluster of
    one worker process; `processes=False` makes it a thread, for tests). `warm_up`: the backbone
    the workers load as soon as they start (None: none)."""

    def __init__(
        self,
        home: Path | None = None,
        scheduler: str | None = None,
        processes: bool = True,
        training: Training = train_on_worker,
        warm_up: str | None = DEFAULT_BACKBONE,
    ):
        self._home = home
        self._scheduler = scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
        self._processes = processes
        self._training = training
        self._warm_up = warm_up
        self._jobs: dict[str, TrainingJob] = {}
        self._jobs_lock = threading.Lock()
        self._wakeup = threading.Condition(self._jobs_lock)  # a job submitted or cancelled, or closing
        self._closing = False
        self._served: dict[str | None, int] = {}  # person -> the tick their last training started at
        self._ticks = 0
        self._client = None
        self._cluster = None
        self._security = None
        self._ready = threading.Event()  # the workers are started and warmed up
        self._dispatcher = threading.Thread(target=self._dispatch, name="catbreed-training", daemon=True)
        self._dispatcher.start()

    def submit(
        self, dataset: Dataset, settings: TrainSettings, source: DataSource | None = None, owner: str | None = None
    ) -> TrainingJob:
        """Queue a training; `source` names the saved data set the photos are, for the model to record;
        `owner` the identity whose it is."""
        self.expire()
        expected = self.expected_time(dataset, settings)
        job = TrainingJob(dataset, settings, source, expected=expected, owner=owner)
        allowed = limits().waiting_per_person
        with self._wakeup:
            waiting = owner and sum(
                j.owner == owner and j.state == QUEUED and not j.cancel_flag.is_set() for j in self._jobs.values()
            )
        if waiting and waiting >= allowed:
            raise CatbreedError("jobs.too_many_waiting", n=waiting)
        folder = new_temp_folder("training", self._home_now())
        try:
            job.photos = snapshot(dataset, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        with self._wakeup:
            self._jobs[job.id] = job
            self._wakeup.notify()
        return job

    def expected_time(self, dataset: Dataset, settings: TrainSettings) -> ExpectedTime:
        """How long a training of `dataset` would take here if submitted now, worker start included."""
        ready, pace = self._ready.is_set(), PaceBook(self._home_now()).job()
        # A worker still starting writes its warm-up network's flatbuffer as part of its start.
        training = expected_time(dataset, settings, self._home, not ready and settings.backbone == self._warm_up)
        start = 0.0 if ready else pace.worker_start_seconds
        return dataclasses.replace(training, overhead=pace.overhead_seconds + start)

    def get(self, job_id: str | None) -> TrainingJob | None:
        self.expire()
        with self._jobs_lock:
            return self._jobs.get(job_id) if job_id else None

    def position(self, job: TrainingJob) -> int:
        """How many jobs will run before `job` (0 when it runs now or has finished)."""
        return len(self._ahead_of(job))

    def wait_seconds(self, job: TrainingJob) -> float | None:
        """About how long until `job` starts: what the jobs before it have left."""
        left = [j.seconds_left() for j in self._ahead_of(job)]
        return None if None in left else sum(left)

    def expire(self, now: float | None = None) -> list[str]:
        """Drop finished jobs older than the limit, and the oldest beyond KEPT_FINISHED; their ids."""
        oldest_kept = (now or time.time()) - limits().keep_jobs_hours * 3600
        with self._jobs_lock:
            finished = sorted((j for j in self._jobs.values() if j.finished is not None), key=lambda j: j.finished)
            dropped = [j for j in finished if j.finished < oldest_kept]
            dropped += [j for j in finished[: max(0, len(finished) - KEPT_FINISHED)] if j not in dropped]
            for job in dropped:
                del self._jobs[job.id]
        return [job.id for job in dropped]

    def close(self) -> None:
        """Stop taking jobs and shut the workers down (the embedded cluster's)."""
        with self._wakeup:
            self._closing = True
            self._wakeup.notify()
        self._dispatcher.join(timeout=60)
        with self._jobs_lock:
            for job in self._jobs.values():
                if job.state == QUEUED:
                    shutil.rmtree(job.photos.root, ignore_errors=True)
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def _ahead_of(self, job: TrainingJob) -> list[TrainingJob]:
        if job.state != QUEUED:
            return []
        with self._jobs_lock:
            running = [j for j in self._jobs.values() if j.state == RUNNING]
            order = self._waiting()
        return running + (order[: order.index(job)] if job in order else [])

    def _waiting(self) -> list[TrainingJob]:
        """Queued jobs (cancelled ones aside) in the order they will run: round-robin between people,
        the person served longest ago first, each person's own trainings oldest first, so one
        person's many trainings never keep another's waiting behind them all. Call with the lock held."""
        queued: dict[str | None, list[TrainingJob]] = {}
        for job in sorted(self._jobs.values(), key=lambda j: j.submitted):
            if job.state == QUEUED and not job.cancel_flag.is_set():
                queued.setdefault(job.owner, []).append(job)
        served, tick, order = dict(self._served), self._ticks, []
        while queued:
            person = min(queued, key=lambda o: (served.get(o, -1), queued[o][0].submitted))
            order.append(queued[person].pop(0))
            tick += 1
            served[person] = tick
            if not queued[person]:
                del queued[person]
        return order

    def _next(self) -> TrainingJob | None:
        """The next job to run or to end as cancelled; None once closing. Waits for one."""
        with self._wakeup:
            while True:
                if self._closing:
                    return None
                cancelled = [j for j in self._jobs.values() if j.state == QUEUED and j.cancel_flag.is_set()]
                if cancelled:
                    return cancelled[0]
                if waiting := self._waiting():
                    self._ticks += 1
                    self._served[waiting[0].owner] = self._ticks
                    return waiting[0]  # still QUEUED until _run starts it: this thread alone runs jobs
                self._wakeup.wait()

    def _connected(self) -> Message | None:
        """None once a client is connected to a scheduler with workers to run trainings (started
        here, or found again after the scheduler restarted); otherwise, for the job's page, why not.
        Asked before every job, so a scheduler that started late or came back is used without
        restarting the server."""
        if self._client is not None:
            deadline = time.monotonic() + _RECONNECT_SECONDS
            while self._client.status == "connecting" and time.monotonic() < deadline:
                time.sleep(0.1)  # the client finds a restarted scheduler by itself, given a moment
            if self._client.status == "running":
                return self._workers_present()
            self._client.close()
            self._client = None
        try:
            self._client = self._new_client()
            # One death is enough to call a training failed: retrying what ran out of memory would
            # only run out of memory again, and keep everyone else waiting. Set on the scheduler
            # itself, whoever started it, on every connection (a restarted one starts afresh).
            self._client.run_on_scheduler(_no_retries)
        except Exception as error:  # no workers: say so on the job instead of failing the page
            log.warning("could not reach the training scheduler: %s: %s", type(error).__name__, error)
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._scheduler:
                return message("jobs.scheduler_unreachable", address=self._scheduler, problem=type(error).__name__)
            return message("jobs.workers_not_started", problem=f"{type(error).__name__}: {error}")
        if self._warm_up and not self._ready.is_set():
            started = time.perf_counter()
            try:
                self._client.submit(warm_up_worker, self._warm_up, self._home_now(), pure=False).result()
                PaceBook(self._home_now()).record("job", worker_start_seconds=time.perf_counter() - started)
            except Exception:  # the first training meets the same problem and says so on its page
                log.exception("warming up the training worker failed")
        self._ready.set()
        return self._workers_present()

    def _new_client(self):
        import dask
        from distributed import Client, LocalCluster
        from distributed.security import Security

        if self._scheduler:
            return Client(
                self._scheduler, timeout=_RECONNECT_SECONDS, security=scheduler_security(), deserializers=PLAIN_DATA
            )
        if self._cluster is None:
            # Whoever reaches the scheduler can run code in this server: every member proves
            # itself with a certificate made for this process alone, kept in its memory.
            self._security = Security.temporary()
            with dask.config.set(NO_WEB_PAGES):  # a worker process takes the configuration it starts with
                self._cluster = LocalCluster(
                    n_workers=1,
                    threads_per_worker=1,
                    processes=self._processes,
                    protocol="tls://",
                    host="127.0.0.1",
                    security=self._security,
                    dashboard_address=None,
                    # the scheduler's HTTP port, empty, on loopback: without a port of its own it tries 8787
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                )
        return Client(self._cluster, security=self._security, deserializers=PLAIN_DATA)

    def _workers_present(self) -> Message | None:
        """None when the scheduler has a worker, or gets one within `_NO_WORKER_SECONDS`."""
        deadline = time.monotonic() + _NO_WORKER_SECONDS
        while not self._client.nthreads():
            if time.monotonic() > deadline:
                return message("jobs.no_worker", address=self._scheduler)
            time.sleep(0.5)
        return None

    def _home_now(self) -> Path:
        return self._home or catbreed_home()

    def _dispatch(self) -> None:
        self._connected()  # before anyone waits: the workers start and warm up
        while (job := self._next()) is not None:
            self._run(job)

    def _run(self, job: TrainingJob) -> None:
        try:
            self._train(job)
        finally:
            shutil.rmtree(job.photos.root, ignore_errors=True)

    def _train(self, job: TrainingJob) -> None:
        if job.cancel_flag.is_set():
            job.end(CANCELLED)
            return
        if problem := self._connected():
            job.end(FAILED, error=problem)
            return
        from distributed import Event
        from distributed import wait as wait_for

        job.state, job.started = RUNNING, time.time()
        topic, cancel_name = f"catbreed-progress-{job.id}", f"catbreed-cancel-{job.id}"
        self._client.subscribe_topic(topic, lambda event: job.add_event(Progress(**_fields(event[1]))))
        cancel = Event(cancel_name, client=self._client)
        try:
            future = self._client.submit(
                _run_on_worker,
                self._training,
                job.photos,
                job.settings,
                job.source,
                self._home_now(),
                topic,
                cancel_name,
                key=f"catbreed-training-{job.id}",
                pure=False,
            )
            while not future.done():
                with contextlib.suppress(TimeoutError, CancelledError):  # cancelled: checked below
                    wait_for(future, timeout=_CANCEL_CHECK_SECONDS)
                if job.cancel_flag.is_set():
                    # The worker stops at its next check of the event; the queue need not wait for it.
                    cancel.set()
                    future.cancel()
            if job.cancel_flag.is_set():
                job.end(CANCELLED)
                return
            if future.cancelled():
                job.end(FAILED, error=SCHEDULER_LOST)
                return
            outcome = future.result()
            self._wait_for_events(job, int(outcome["events"]))
            if outcome.get("cancelled"):
                job.end(CANCELLED)
            elif "error" in outcome:
                job.end(FAILED, error=Message.from_json(outcome["error"]))
            elif "failed" in outcome:
                job.end(FAILED, error=message("jobs.failed", problem=str(outcome["failed"])))
            else:
                result = TrainResult.from_plain(outcome["result"], job.dataset)
                around = time.time() - job.started - float(outcome["seconds"])  # the hand-over, both ways
                PaceBook(self._home_now()).record("job", overhead_seconds=max(around, 0.0))
                job.end(DONE, result=result)
        except Exception as error:  # the dispatcher must survive to run the next job
            job.end(FAILED, error=_failure(error))
            log.warning("training job %s failed: %s", job.id, job.error)
        finally:
            with contextlib.suppress(Exception):  # a scheduler gone takes its topics and events with it
                self._client.unsubscribe_topic(topic)
                if not job.cancel_flag.is_set():  # a cancelled training may still be reading it
                    cancel.clear()

    @staticmethod
    def _wait_for_events(job: TrainingJob, sent: int) -> None:
        deadline = time.monotonic() + _LATE_EVENTS_SECONDS
        while len(job.events) < sent and time.monotonic() < deadline:
            time.sleep(0.02)


def scheduler_security():
    """Mutual TLS for a scheduler of one's own, from TLS_VARIABLES; CatbreedError when any is missing,
    since a scheduler without it runs whatever code anyone who reaches it sends."""
    from distributed.security import Security

    files = [os.environ.get(name) for name in TLS_VARIABLES]
    if not all(files):
        raise CatbreedError("jobs.tls_needed", variable=SCHEDULER_VARIABLE, files=list(TLS_VARIABLES))
    ca, cert, key = files
    return Security(tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True)


def _fields(message: dict) -> dict:
    """A Progress's own fields from a worker event (Dask adds the worker's address)."""
    return {f.name: message[f.name] for f in dataclasses.fields(Progress) if f.name in message}


def _no_retries(dask_scheduler) -> None:
    dask_scheduler.allowed_failures = 0


def _failure(error: Exception) -> Message:
    from distributed.scheduler import KilledWorker

    if isinstance(error, KilledWorker):
        return WORKER_DIED
    return message("jobs.failed", problem=f"{type(error).__name__}: {error}")

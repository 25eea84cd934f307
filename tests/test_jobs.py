import functools
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from catbreed.data.dataset import check_folder
from catbreed.errors import Cancelled, CatbreedError
from catbreed.jobs import CANCELLED, DONE, FAILED, FINISHED, QUEUED, WORKER_DIED, JobManager, train_on_worker
from catbreed.learn.settings import TrainSettings
from catbreed.nets.backbones import STANDIN_BACKBONE


def wait(job, timeout=120):
    deadline = time.monotonic() + timeout
    while job.state not in FINISHED:
        assert time.monotonic() < deadline, f"job still {job.state}"
        time.sleep(0.05)


def wait_for_file(path: Path, timeout=60) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# Trainings for the worker: module-level, so Dask can send them to a worker (even another process).
def held_training(started: Path, release: Path, dataset, settings, source, home, on_event, cancel):
    """Says it started, then waits for `release` (or a cancel) before training for real."""
    started.touch()
    while not release.exists():
        if cancel.is_set():
            raise Cancelled("cancelled on request")
        time.sleep(0.05)
    return train_on_worker(dataset, settings, source, home, on_event, cancel)


def deaf_training(started: Path, release: Path, dataset, settings, source, home, on_event, cancel):
    """Busy in one long step that never looks at `cancel`, until `release` exists."""
    started.touch()
    while not release.exists():
        time.sleep(0.05)
    return train_on_worker(dataset, settings, source, home, on_event, cancel)


def fails_first_time(marker: Path, dataset, settings, source, home, on_event, cancel):
    if not marker.exists():
        marker.touch()
        raise RuntimeError("out of memory")
    return train_on_worker(dataset, settings, source, home, on_event, cancel)


def managed(request, **options) -> JobManager:
    manager = JobManager(warm_up=None, **options)
    request.addfinalizer(manager.close)
    return manager


@pytest.fixture
def manager(request, catbreed_home, extractor):
    return managed(request, home=catbreed_home, processes=False)


@pytest.fixture
def held(request, catbreed_home, extractor, tmp_path):
    """A manager whose first job holds at its start until the file `release` exists; `started` says it got there."""
    started, release = tmp_path / "started", tmp_path / "release"
    manager = managed(
        request, home=catbreed_home, processes=False, training=functools.partial(held_training, started, release)
    )
    yield manager, started, release
    release.touch()


def test_jobs_run_one_after_another_and_keep_their_own_results(manager, shapes_folder, tmp_path):
    from conftest import make_dataset_folder

    two = check_folder(make_dataset_folder(tmp_path / "two", per_class=4, kinds=("red_circles", "blue_squares")))
    three = check_folder(shapes_folder)
    first = manager.submit(three, TrainSettings(backbone=STANDIN_BACKBONE))
    second = manager.submit(two, TrainSettings(backbone=STANDIN_BACKBONE))
    assert second.state == QUEUED and manager.position(second) == 1
    wait(first)
    wait(second)
    assert first.state == second.state == DONE, first.error
    assert first.result.bundle.classes == three.classes and second.result.bundle.classes == two.classes
    assert first.events[-1].stage == "stage.training" and len(first.folds) >= 2
    assert manager.get(first.id) is first and manager.get("nope") is None


def test_the_cluster_serves_no_web_pages_and_listens_on_loopback_only(manager, shapes_folder):
    from test_cluster_security import http_addresses, web_pages

    wait(manager.submit(check_folder(shapes_folder), TrainSettings(backbone=STANDIN_BACKBONE)))
    from distributed.comm.utils import get_tcp_server_addresses

    members = [manager._cluster.scheduler, *manager._cluster.workers.values()]  # in threads of this process
    assert {address[0] for m in members for address in get_tcp_server_addresses(m.http_server)} == {"127.0.0.1"}
    served = http_addresses(manager._client)
    assert [web_pages(a) for a in served] == [[], []]  # Dask's own would list the workers, tasks, errors, logs


def test_a_job_can_be_cancelled_while_running_or_before_it_starts(shapes_folder, held):
    manager, started, release = held
    dataset = check_folder(shapes_folder)
    running = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    waiting = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    waiting.cancel()
    assert wait_for_file(started) and running.state == "running"
    running.cancel()  # reaches the worker through the scheduler
    wait(running)
    wait(waiting)
    assert running.state == waiting.state == CANCELLED
    assert running.result is None and waiting.result is None


def test_a_failing_job_reports_why_and_the_worker_goes_on(request, shapes_folder, tmp_path, catbreed_home, extractor):
    training = functools.partial(fails_first_time, tmp_path / "failed once")
    manager = managed(request, home=catbreed_home, processes=False, training=training)
    dataset = check_folder(shapes_folder)
    broken = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    fine = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    wait(broken)
    wait(fine)
    assert broken.state == FAILED and "RuntimeError: out of memory" in str(broken.error)
    assert fine.state == DONE


@pytest.mark.slow  # a worker process of its own
def test_a_worker_killed_mid_training_fails_its_job_and_the_next_training_runs(
    request, shapes_folder, tmp_path, catbreed_home, extractor
):
    started, release = tmp_path / "started", tmp_path / "release"
    training = functools.partial(held_training, started, release)
    manager = managed(request, home=catbreed_home, processes=True, training=training)
    dataset = check_folder(shapes_folder)
    doomed = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    assert wait_for_file(started, timeout=180), doomed.error
    (worker_pid,) = manager._client.run(os.getpid).values()
    assert worker_pid != os.getpid()  # the training runs beside the server, not inside it
    os.kill(worker_pid, signal.SIGKILL)  # as the kernel does to a process that runs out of memory
    wait(doomed)
    assert doomed.state == FAILED and doomed.error == WORKER_DIED
    release.touch()
    after = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    wait(after, timeout=180)
    assert after.state == DONE, after.error
    assert after.result.bundle.classes == dataset.classes


@pytest.mark.slow  # a worker process of its own, and a conversion in a process of the worker's
def test_a_worker_process_converts_a_backbone_it_has_never_seen(request, shapes_folder, tmp_path):
    # The worker is a daemonic process: the conversion's own process must still be allowed.
    manager = managed(request, home=tmp_path / "fresh home", processes=True)
    job = manager.submit(check_folder(shapes_folder), TrainSettings(backbone=STANDIN_BACKBONE))
    wait(job, timeout=300)
    assert job.state == DONE, job.error
    assert list((tmp_path / "fresh home" / "runtime").glob("*.tflite"))


def test_finished_jobs_are_dropped_after_the_time_kept(manager, shapes_folder, monkeypatch):
    job = manager.submit(check_folder(shapes_folder), TrainSettings(backbone=STANDIN_BACKBONE))
    wait(job)
    monkeypatch.setenv("CATBREED_KEEP_JOBS_HOURS", "1")
    assert manager.expire(now=job.finished + 3599) == [] and manager.get(job.id) is job
    assert manager.expire(now=job.finished + 3601) == [job.id]
    assert manager.get(job.id) is None


def test_time_left_waits_for_a_measured_pace_then_follows_it(shapes_folder, monkeypatch):
    from catbreed import jobs
    from catbreed.jobs import TrainingJob
    from catbreed.learn.training import ExpectedTime
    from catbreed.progress import CROSS_VALIDATING, FEATURES, Progress

    expected = ExpectedTime(features=30, fits=10, overhead=2)
    job = TrainingJob(check_folder(shapes_folder), TrainSettings(), expected=expected)
    assert job.seconds_left() == 42  # queued: all of it
    job.state, job.started = "running", 1000.0
    assert job.seconds_left(now=1001.0) is None  # nothing measured yet: no countdown
    job.add_event(Progress(FEATURES, 0, 600))
    assert job.seconds_left(now=1009.0) is None  # still no batch done (this once counted down from a guess)
    job.add_event(Progress(FEATURES, 32, 600, eta_seconds=20))
    assert job.seconds_left(now=1012.0) == 20 + 10 + 1  # the stage's own pace, then the fits and the hand-back
    monkeypatch.setattr(jobs.time, "time", lambda: 1050.0)
    job.add_event(Progress(CROSS_VALIDATING, 0, 5))
    assert job.seconds_left(now=1054.0) == 11 - 4  # the fits' expected time less what they took so far
    assert job.seconds_left(now=1100.0) == 0.5  # late fits: never says 0 while running
    job.state = "done"
    assert job.seconds_left() == 0


def test_nothing_new_to_compute_counts_as_measured(shapes_folder):
    from catbreed.jobs import TrainingJob
    from catbreed.learn.training import ExpectedTime
    from catbreed.progress import FEATURES, Progress

    job = TrainingJob(check_folder(shapes_folder), TrainSettings(), expected=ExpectedTime(0, 3, 1))
    job.state, job.started = "running", 1000.0
    job.add_event(Progress(FEATURES, 0, 0))  # a retraining: every photo's features are cached
    assert job.seconds_left(now=1000.5) == 3.5


def test_the_wait_for_a_queued_job_is_what_the_jobs_before_it_have_left(shapes_folder, held):
    manager, started, release = held
    dataset = check_folder(shapes_folder)
    running = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    queued = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    assert wait_for_file(started)
    assert manager.position(queued) == 1 and running.expected.total > 0
    assert manager.wait_seconds(queued) == pytest.approx(running.seconds_left(), abs=1.0)
    assert manager.wait_seconds(running) == 0  # nothing before a running job
    release.touch()
    wait(running)
    wait(queued)


def test_many_sessions_reading_the_queue_while_others_submit_never_trip_over_each_other(held, tmp_path):
    from conftest import make_dataset_folder

    manager, started, release = held
    dataset = check_folder(make_dataset_folder(tmp_path, per_class=2, kinds=("red_circles", "blue_squares")))
    jobs, errors = [manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))], []
    stop = threading.Event()

    def read_positions():
        while not stop.is_set():
            try:
                for job in list(jobs):
                    manager.position(job), manager.wait_seconds(job), manager.get(job.id)
            except Exception as error:  # "dictionary changed size during iteration", as before
                errors.append(error)

    readers = [threading.Thread(target=read_positions) for _ in range(4)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns every few instructions: a race shows in a few turns
    try:
        [r.start() for r in readers]
        for _ in range(100):
            job = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
            job.cancel()  # queued only to be read; never trained
            jobs.append(job)
        stop.set()
        [r.join() for r in readers]
    finally:
        sys.setswitchinterval(switch)
    assert errors == []
    late = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    assert manager.position(late) == 1  # the running one; the cancelled ones will be skipped
    late.cancel()


def test_one_persons_trainings_take_turns_with_anothers_and_wait_within_a_limit(shapes_folder, held):
    """Six trainings queued by one person once kept the next person waiting behind all of them."""
    manager, started, release = held
    dataset, settings = check_folder(shapes_folder), TrainSettings(backbone=STANDIN_BACKBONE)
    ann_running = manager.submit(dataset, settings, owner="ann")
    assert wait_for_file(started)
    ann_second, ann_third = (manager.submit(dataset, settings, owner="ann") for _ in range(2))
    with pytest.raises(CatbreedError, match="You have 2 trainings waiting already"):
        manager.submit(dataset, settings, owner="ann")  # CATBREED_WAITING_PER_PERSON, 2 by default
    bob = manager.submit(dataset, settings, owner="bob")
    # Ann's first is running: Bob's first is next, then Ann's others.
    assert [manager.position(j) for j in (bob, ann_second, ann_third)] == [1, 2, 3]
    release.touch()
    for job in (ann_running, ann_second, bob, ann_third):
        wait(job)
    assert bob.started < ann_second.started < ann_third.started
    assert all(j.state == DONE for j in (ann_running, ann_second, bob, ann_third))


def test_edits_while_trainings_wait_or_run_never_reach_them_nor_the_shared_cache(held, tmp_path, catbreed_home):
    from conftest import drawn_photo, jpeg_bytes

    from catbreed.data.images import load_for_model
    from catbreed.data.saved_datasets import DatasetStore
    from catbreed.learn.features import ORIGINAL, FeatureCache
    from catbreed.nets.runtime import load_extractor

    manager, started, release = held
    saved = DatasetStore(tmp_path / "sets").create("race")
    for kind in ("red_circles", "blue_squares"):
        saved.add_breed(kind)
        for i in range(4):  # seeds no other test draws: their features are not cached yet
            saved.add_photo(kind, jpeg_bytes(drawn_photo(kind, 7000 + i)), f"{i}.jpg")
    checked, version = saved.check(), saved.version
    running = manager.submit(checked, TrainSettings(backbone=STANDIN_BACKBONE))
    waiting = manager.submit(checked, TrainSettings(backbone=STANDIN_BACKBONE))
    assert wait_for_file(started)
    # While one runs and one waits: a photo replaced by another under its very name, one removed.
    swapped, gone = checked.photos[0], checked.photos[-1]
    saved.remove_photo(swapped.name)
    saved.add_photo(swapped.label, jpeg_bytes(drawn_photo("green_bars", 7000)), swapped.path.name)
    saved.remove_photo(gone.name)
    assert saved.version > version and (saved.photos_folder / swapped.name).is_file()
    release.touch()
    wait(running)
    wait(waiting)
    assert running.state == waiting.state == DONE, running.error or waiting.error
    assert sum(running.result.bundle.metadata.data.counts.values()) == len(checked.photos)
    assert running.result.bundle.metadata.data.fingerprint == checked.fingerprint
    # The cache keeps, under the first photo's hash, the features of that photo, not of its successor.
    extractor = load_extractor(STANDIN_BACKBONE)
    original = jpeg_bytes(drawn_photo(swapped.label, 7000))
    expected = extractor.predict_on_batch(load_for_model(original, 32)[None].astype("float32"))[0][0]
    cached = FeatureCache(catbreed_home, STANDIN_BACKBONE).get(swapped.sha256, ORIGINAL)
    assert cached is not None and abs(cached.astype("float32") - expected).max() < 1e-2
    # The snapshots went with their jobs (other tests' jobs may still hold theirs in the same home).
    snapshots = [job.photos.root for job in (running, waiting)]
    assert all(folder.parent == catbreed_home / "tmp" and not folder.exists() for folder in snapshots)


def test_a_photo_changed_between_its_check_and_the_start_fails_the_training_in_one_line(manager, tmp_path):
    from conftest import make_dataset_folder

    folder = make_dataset_folder(tmp_path / "set", per_class=3, kinds=("red_circles", "blue_squares"))
    checked = check_folder(folder)
    changed = checked.photos[0]
    changed.path.write_bytes((folder / checked.photos[-1].name).read_bytes() + b"\0")
    job = manager.submit(checked, TrainSettings(backbone=STANDIN_BACKBONE))
    wait(job)
    assert job.state == FAILED and str(job.error) == (
        f"'{changed.name}' was changed or removed after the data set was checked; check it again and start again."
    )
    changed.path.unlink()
    with pytest.raises(CatbreedError, match="changed or removed after the data set was checked"):
        manager.submit(checked, TrainSettings(backbone=STANDIN_BACKBONE))


def test_cancel_ends_a_job_at_once_even_in_a_step_that_never_checks_for_it(request, catbreed_home, tmp_path):
    from conftest import make_dataset_folder

    started, release = tmp_path / "started", tmp_path / "release"
    training = functools.partial(deaf_training, started, release)
    manager = managed(request, home=catbreed_home, processes=False, training=training)
    request.addfinalizer(release.touch)
    dataset = check_folder(make_dataset_folder(tmp_path / "set", per_class=3, kinds=("red_circles", "blue_squares")))
    job = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    assert wait_for_file(started)
    job.cancel()
    wait(job, timeout=5)  # the future is cancelled: the page and the queue need not wait for the step
    assert job.state == CANCELLED

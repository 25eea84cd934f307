import threading
import time

import pytest

from catbreed.data.dataset import check_folder
from catbreed.jobs import CANCELLED, DONE, FAILED, FINISHED, QUEUED, JobManager
from catbreed.learn.settings import TrainSettings
from catbreed.nets.backbones import STANDIN_BACKBONE


def wait(job, timeout=120):
    deadline = time.monotonic() + timeout
    while job.state not in FINISHED:
        assert time.monotonic() < deadline, f"job still {job.state}"
        time.sleep(0.05)


@pytest.fixture
def manager(tmp_path, extractor):
    return JobManager(extractor_for=lambda name: extractor, home=tmp_path)


def test_jobs_run_one_after_another_and_keep_their_own_results(manager, shapes_folder, tmp_path):
    from conftest import make_dataset_folder

    two = check_folder(make_dataset_folder(tmp_path / "two", per_class=4, kinds=("red_circles", "blue_squares")))
    three = check_folder(shapes_folder)
    first = manager.submit(three, TrainSettings(backbone=STANDIN_BACKBONE))
    second = manager.submit(two, TrainSettings(backbone=STANDIN_BACKBONE))
    assert second.state == QUEUED and manager.position(second) == 1
    wait(first)
    wait(second)
    assert first.state == second.state == DONE
    assert first.result.bundle.classes == three.classes and second.result.bundle.classes == two.classes
    assert first.events[-1].stage == "training on every photo" and len(first.folds) >= 2
    assert manager.get(first.id) is first and manager.get("nope") is None


@pytest.fixture
def held(tmp_path, extractor):
    """A manager whose first job holds at its start until `release` is set; `started` says it got there."""
    started, release = threading.Event(), threading.Event()

    def slow_extractor(name):
        started.set()
        release.wait(30)
        return extractor

    yield JobManager(extractor_for=slow_extractor, home=tmp_path), started, release
    release.set()


def test_a_job_can_be_cancelled_while_running_or_before_it_starts(shapes_folder, held):
    manager, started, release = held
    dataset = check_folder(shapes_folder)
    running = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    waiting = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    waiting.cancel()
    assert started.wait(30) and running.state == "running"
    running.cancel()
    release.set()
    wait(running)
    wait(waiting)
    assert running.state == waiting.state == CANCELLED
    assert running.result is None and waiting.result is None


def test_a_failing_job_reports_why_and_the_worker_goes_on(shapes_folder, tmp_path, extractor):
    calls = []

    def flaky_extractor(name):
        calls.append(name)
        if len(calls) == 1:
            raise RuntimeError("out of memory")
        return extractor

    manager = JobManager(extractor_for=flaky_extractor, home=tmp_path)
    dataset = check_folder(shapes_folder)
    broken = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    fine = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    wait(broken)
    wait(fine)
    assert broken.state == FAILED and "RuntimeError: out of memory" in broken.error
    assert fine.state == DONE


def test_time_left_starts_from_the_expected_time_then_follows_the_stages_pace(shapes_folder, tmp_path):
    from catbreed.jobs import TrainingJob
    from catbreed.learn.training import ExpectedTime
    from catbreed.progress import CROSS_VALIDATING, FEATURES, Progress

    job = TrainingJob(check_folder(shapes_folder), TrainSettings(), expected=ExpectedTime(features=30, fits=10))
    assert job.seconds_left() == 40  # queued: all of it
    job.state, job.started = "running", 1000.0
    assert job.seconds_left(now=1010.0) == 30  # no pace yet: expected less spent
    job.events.append(Progress(FEATURES, 8, 600, eta_seconds=500))
    assert job.seconds_left(now=1010.0) == 30  # a few warm-up batches say little
    job.events.append(Progress(FEATURES, 100, 600, eta_seconds=20))
    assert job.seconds_left(now=1012.0) == 20 + 10  # the stage's pace, then the fits
    job.events.append(Progress(CROSS_VALIDATING, 3, 5, eta_seconds=4))
    assert job.seconds_left(now=1100.0) == 1.0  # late fits: never says 0 while running
    job.state = "done"
    assert job.seconds_left() == 0


def test_the_wait_for_a_queued_job_is_what_the_jobs_before_it_have_left(shapes_folder, held):
    manager, started, release = held
    dataset = check_folder(shapes_folder)
    running = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    queued = manager.submit(dataset, TrainSettings(backbone=STANDIN_BACKBONE))
    assert started.wait(30)
    assert manager.position(queued) == 1 and running.expected.total > 0
    assert manager.wait_seconds(queued) == pytest.approx(running.seconds_left(), abs=1.0)
    assert manager.wait_seconds(running) == 0  # nothing before a running job
    release.set()
    wait(running)
    wait(queued)

"""The scale-out recipe on 127.0.0.1: a separate `dask scheduler` and `dask worker`, as README's
"Trainings on other machines" starts them, over mutual TLS; and what the app does when they fail:
a worker killed mid-training, a scheduler that starts late, stops or restarts."""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cluster_security import http_addresses, refused, web_pages
from test_jobs import held_training, wait, wait_for_file

from catbreed import jobs
from catbreed.certificates import make_certificates
from catbreed.data.dataset import check_folder
from catbreed.jobs import DONE, FAILED, SCHEDULER_LOST, TLS_VARIABLES, WORKER_DIED, JobManager

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # processes of their own


# README's step 3: Dask's web pages off, for the scheduler and the workers alike.
NO_WEB_PAGES = {"DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES": "[]", "DASK_DISTRIBUTED__WORKER__HTTP__ROUTES": "[]"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SeparateCluster:
    """A scheduler and workers in processes of their own, sharing `home` with the app; the app's
    certificate in the environment (monkeypatch) as README's step 4 sets it."""

    def __init__(self, folder: Path, home: Path, monkeypatch):
        self.folder, self.processes = folder, {}
        self.certificates = make_certificates(folder / "tls", ["127.0.0.1"])
        self.address = f"tls://127.0.0.1:{free_port()}"
        # tests/ on the path: a test's own training function is sent to the workers by name
        self.env = {**os.environ, "CATBREED_HOME": str(home), "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
        self.env |= NO_WEB_PAGES
        for name, key in zip(TLS_VARIABLES, ("ca", "app", "app-key")):
            monkeypatch.setenv(name, str(self.certificates[key]))

    def _tls(self, member: str) -> list[str]:
        files = self.certificates
        return [
            "--tls-ca-file",
            str(files["ca"]),
            "--tls-cert",
            str(files[member]),
            "--tls-key",
            str(files[f"{member}-key"]),
        ]

    def _start(self, name: str, command: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)

    def start_scheduler(self) -> None:
        port = self.address.rsplit(":", 1)[1]
        command = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", port]
        command += ["--protocol", "tls", "--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
        self._start("scheduler", command + self._tls("scheduler"))

    def start_worker(self, name: str = "worker", certificate: bool = True) -> None:
        command = [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--host", "127.0.0.1"]
        command += ["--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
        self._start(name, command + (self._tls("worker") if certificate else []))

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.terminate()
        process.wait(timeout=30)

    def listening_on(self) -> set[str]:
        """The addresses every port of the scheduler's and the workers' processes listens on."""
        import psutil

        processes = [psutil.Process(p.pid) for p in self.processes.values()]
        processes += [child for p in processes for child in p.children(recursive=True)]
        return {c.laddr.ip for p in processes for c in p.net_connections("tcp") if c.status == psutil.CONN_LISTEN}

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)


@pytest.fixture
def cluster(tmp_path, monkeypatch, catbreed_home, extractor):
    # extractor: the stand-in's flatbuffer is written in catbreed_home, which the workers share
    cluster = SeparateCluster(tmp_path, catbreed_home, monkeypatch)
    yield cluster
    cluster.close()


def managed(request, cluster: SeparateCluster, home: Path, **options) -> JobManager:
    manager = JobManager(home=home, scheduler=cluster.address, warm_up=None, **options)
    request.addfinalizer(manager.close)
    return manager


def workers(manager: JobManager, count: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while manager._client is None or len(manager._client.nthreads()) < count:
        assert time.monotonic() < deadline, f"fewer than {count} workers joined"
        time.sleep(0.3)


def test_the_scale_out_recipe_trains_over_mutual_tls_and_refuses_a_worker_without_one(
    request, cluster, shapes_folder, standin_settings, catbreed_home
):
    cluster.start_scheduler()
    cluster.start_worker()
    cluster.start_worker("rogue worker", certificate=False)
    manager = managed(request, cluster, catbreed_home)
    workers(manager, 1)
    job = manager.submit(check_folder(shapes_folder), standin_settings)
    wait(job, timeout=180)
    assert job.state == DONE, job.error
    assert len(manager._client.nthreads()) == 1, cluster.log("rogue worker")  # the one without never joined
    assert refused(cluster.address)
    served = http_addresses(manager._client)
    assert len(served) == 2 and all(web_pages(a) == [] for a in served)
    assert cluster.listening_on() == {"127.0.0.1"}  # the recipe's --host, and its HTTP ports on loopback


def test_a_worker_killed_mid_training_fails_its_job_in_seconds_and_the_queue_moves_on(
    request, cluster, shapes_folder, standin_settings, catbreed_home, tmp_path
):
    started, release = tmp_path / "started", tmp_path / "release"
    cluster.start_scheduler()
    cluster.start_worker()
    manager = managed(request, cluster, catbreed_home, training=functools.partial(held_training, started, release))
    workers(manager, 1)
    dataset = check_folder(shapes_folder)
    doomed, after = (manager.submit(dataset, standin_settings) for _ in range(2))
    assert wait_for_file(started, timeout=120), cluster.log("worker")
    (worker_pid,) = manager._client.run(os.getpid).values()
    os.kill(worker_pid, signal.SIGKILL)  # as the kernel does to a process out of memory
    killed = time.monotonic()
    wait(doomed)
    assert doomed.state == FAILED and doomed.error == WORKER_DIED
    assert time.monotonic() - killed < 10  # not left "running" for minutes: no retry on another worker
    release.touch()
    wait(after, timeout=180)  # on the worker its nanny started again
    assert after.state == DONE, after.error


def test_a_scheduler_that_starts_late_stops_or_restarts_is_found_again_without_restarting_the_app(
    request, cluster, shapes_folder, standin_settings, catbreed_home, tmp_path, monkeypatch
):
    monkeypatch.setattr(jobs, "_RECONNECT_SECONDS", 3.0)
    monkeypatch.setattr(jobs, "_NO_WORKER_SECONDS", 5.0)
    started, release = tmp_path / "started", tmp_path / "release"
    manager = managed(request, cluster, catbreed_home, training=functools.partial(held_training, started, release))
    dataset = check_folder(shapes_folder)
    early = manager.submit(dataset, standin_settings)  # no scheduler yet
    wait(early)
    assert early.state == FAILED and str(early.error) == (
        f"The training scheduler at {cluster.address} cannot be reached (OSError); "
        "ask whoever runs this server to start it, then train again."
    )
    cluster.start_scheduler()
    lonely = manager.submit(dataset, standin_settings)  # a scheduler, but no worker
    wait(lonely, timeout=60)
    assert lonely.state == FAILED and "No training worker is connected" in str(lonely.error)
    cluster.start_worker()
    interrupted = manager.submit(dataset, standin_settings)
    assert wait_for_file(started, timeout=120), cluster.log("worker")
    cluster.stop("scheduler")  # mid-training
    wait(interrupted, timeout=60)
    assert interrupted.state == FAILED and interrupted.error == SCHEDULER_LOST
    release.touch()
    # A dask worker ends with its scheduler; the recipe's supervisor starts both again, at the
    # same address, and the app finds them without a restart of its own.
    cluster.processes.pop("worker").wait(timeout=60)
    cluster.start_scheduler()
    cluster.start_worker()
    monkeypatch.setattr(jobs, "_NO_WORKER_SECONDS", 90.0)
    again = manager.submit(dataset, standin_settings)
    wait(again, timeout=180)
    assert again.state == DONE, f"{again.error}\n{cluster.log('worker')}"

"""A long-running server's memory and disk stay bounded: 50 uploads and trainings in a row in one
process, the way the Train page makes them (a zip becomes a saved data set, the job manager
trains it in its worker process, the result is saved as a model)."""

import os
import time
from pathlib import Path

import psutil
import pytest
from conftest import zip_folder

from catbreed.data.saved_datasets import DatasetStore
from catbreed.jobs import DONE, FINISHED, JobManager
from catbreed.learn.settings import TrainSettings
from catbreed.models.store import ModelStore
from catbreed.nets.backbones import STANDIN_BACKBONE
from catbreed.paths import temp_root

ROUNDS = 50


def rss(process: psutil.Process) -> int:
    """The server's resident memory and its workers' together."""
    return process.memory_info().rss + sum(child.memory_info().rss for child in process.children(recursive=True))


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


@pytest.mark.slow
def test_fifty_uploads_and_trainings_leave_memory_and_temporary_files_where_the_first_did(
    shapes_folder, tmp_path, own_home, extractor
):
    """In a home of its own: other tests' trainings on this test worker may hold temporary files in the shared one."""
    archive = zip_folder(shapes_folder, tmp_path / "shapes.zip")
    manager = JobManager(home=own_home, warm_up=None)
    datasets, models, server = DatasetStore(tmp_path / "datasets"), ModelStore(tmp_path / "models"), psutil.Process()
    levels = []
    try:
        for round in range(ROUNDS):
            with open(archive, "rb") as stream:
                saved = datasets.from_upload(stream)
            job = manager.submit(saved.check(), TrainSettings(backbone=STANDIN_BACKBONE))
            deadline = time.monotonic() + 300
            while job.state not in FINISHED:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert job.state == DONE, job.error
            models.save(job.result.bundle, f"round {round}")
            levels.append((rss(server), folder_bytes(temp_root(own_home))))
    finally:
        manager.close()
    (first_rss, first_temp), (last_rss, last_temp) = levels[0], levels[-1]
    print(f"RSS after the first round {first_rss / 2**20:.0f} MiB, after {ROUNDS}: {last_rss / 2**20:.0f} MiB")
    assert last_rss <= 1.10 * first_rss
    assert last_temp <= 1.10 * first_temp
    assert os.listdir(temp_root(own_home)) == []  # nothing left behind at all, in fact

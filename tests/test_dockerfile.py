"""No Docker engine runs here, so the image's build step (converting every mode's weights and
flatbuffer) runs as it would inside the image."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from catbreed.learn.settings import MODE_TABLE
from catbreed.nets.runtime import flatbuffer_path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.startswith(name + " ")]


@pytest.mark.slow
def test_the_build_step_converts_and_caches_the_weights(tmp_path):
    (step,) = [run for run in instructions("RUN") if run.startswith("python ")]
    assert step == "python -m catbreed.warmup"
    env = {**os.environ, "CATBREED_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "catbreed.warmup"], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    for variant in ("lite0", "lite1", "lite2"):  # both modes are ready for the first visitor
        assert list((tmp_path / "backbones").glob(f"efficientnet_{variant}-*.weights.h5")), variant
    for mode in MODE_TABLE.values():
        assert flatbuffer_path(mode.backbone, tmp_path).is_file(), mode.backbone

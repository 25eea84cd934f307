"""No Docker engine runs here, so the Dockerfile is checked for what it promises, and its build
step (converting the backbone weights) runs as it would inside the image."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.startswith(name + " ")]


def test_dockerfile_runs_the_app_as_a_non_root_user_with_a_health_check():
    assert instructions("FROM") == ["python:3.11-slim"]
    assert instructions("USER") == ["catbreed"]
    assert instructions("EXPOSE") == ["8501"]
    assert "CATBREED_HOME=/data" in DOCKERFILE and instructions("VOLUME") == ["/data"]
    assert re.search(r"HEALTHCHECK .*\n?.*/_stcore/health", DOCKERFILE)
    assert "pip install -r requirements.txt" in DOCKERFILE
    assert instructions("CMD") == ['["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]']


def test_the_build_step_converts_and_caches_the_weights(tmp_path):
    (step,) = [run for run in instructions("RUN") if run.startswith("python ")]
    assert step == "python -m catbreed.warmup"
    env = {**os.environ, "CATBREED_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "catbreed.warmup"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    for variant in ("lite0", "lite1", "lite2"):  # both modes are ready for the first visitor
        assert list((tmp_path / "backbones").glob(f"efficientnet_{variant}-*.weights.h5")), variant

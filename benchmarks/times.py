"""Do the time estimates hold? What the Train page promises against what the training takes.

    python benchmarks/times.py [--data ../shared/data/oxford-cats] [--sizes 40 160 600 1799]

For each size and mode, a new CATBREED_HOME and a new job manager (its own worker process, as a
server starts one): the "cold" training is submitted at once, so its estimate must cover starting
the worker, writing the network and every photo's features; the "warm" one is the same photos
again, every feature cached, the estimate now from the rates the cold one measured. The time is
the person's: from submitting to the result being in the server, as the Train page sees it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from catbreed.data.dataset import check_folder  # noqa: E402
from catbreed.jobs import DONE, FINISHED, JobManager  # noqa: E402
from catbreed.learn.settings import MODES, TrainSettings  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "oxford-cats"
TOLERANCE = 0.30


def photos(data: Path, n: int):
    """The first n/12 photos of each breed (every photo for n >= all of them)."""
    dataset = check_folder(data)
    if n >= len(dataset.photos):
        return dataset
    per = -(-n // len(dataset.classes))
    dataset.photos = [p for c in dataset.classes for p in [q for q in dataset.photos if q.label == c][:per]][:n]
    return dataset


def timed_job(manager: JobManager, dataset, mode: str) -> tuple[float, float]:
    job = manager.submit(dataset, TrainSettings(mode=mode))
    while job.state not in FINISHED:
        time.sleep(0.1)
    if job.state != DONE:
        sys.exit(f"error: the training failed: {job.error}")
    return job.expected.total, job.finished - job.submitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", type=int, nargs="+", default=[40, 160, 600, 1799])
    args = parser.parse_args()
    rows = []
    for mode in MODES:
        for n in args.sizes:
            dataset = photos(args.data, n)
            with tempfile.TemporaryDirectory() as home:
                os.environ["CATBREED_HOME"] = home
                manager = JobManager(Path(home))
                for run in ("cold", "warm"):
                    expected, actual = timed_job(manager, dataset, mode)
                    rows.append(
                        {
                            "mode": mode,
                            "photos": len(dataset.photos),
                            "run": run,
                            "expected": expected,
                            "actual": actual,
                        }
                    )
                    print(json.dumps(rows[-1]), file=sys.stderr)
                manager.close()
    print("| mode | photos | run | estimate s | took s | error |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for r in rows:
        r["error"] = r["expected"] / r["actual"] - 1
        print(
            f"| {r['mode']} | {r['photos']} | {r['run']} | {r['expected']:.1f} | {r['actual']:.1f} | {r['error']:+.0%} |"
        )
    within = sum(abs(r["error"]) <= TOLERANCE for r in rows)
    print(f"\n{within} of {len(rows)} estimates within ±{TOLERANCE:.0%}.")
    print(json.dumps({"rows": rows, "within": within}))


if __name__ == "__main__":
    main()

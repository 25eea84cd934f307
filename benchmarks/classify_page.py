"""What a person's upload on the Classify page costs the server, measured in a real browser.

    python benchmarks/classify_page.py [--data ../shared/data/oxford-cats] [--photos 10] [--rounds 3]

Starts the app with an empty CATBREED_HOME, opens Classify in Chromium and uploads `--photos` cat
photos at once, `--rounds` times with other photos each time (the first round includes the model's
first use). For each round: the server process's CPU seconds per photo (user + system, from
psutil, so all its threads) and the seconds from the upload until every answer shows and the page
has finished its run. Then the same photos again after moving a slider (answers remembered: the
rerun should cost next to nothing). Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shared_server import CHROMIUM, READY, ROOT, start_server  # noqa: E402


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def upload_round(page, server: psutil.Process, photos: list[Path]) -> tuple[float, float]:
    """(server CPU seconds per photo, seconds until every answer shows) for one upload of `photos`."""
    page.wait_for_selector(READY, timeout=300_000)
    before, started = cpu_seconds(server), time.perf_counter()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(photos)
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=stHeading] h3').length >= {len(photos)}", timeout=300_000
    )
    page.wait_for_selector(READY, timeout=300_000)
    return (cpu_seconds(server) - before) / len(photos), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "oxford-cats")
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    breeds = sorted(p for p in args.data.iterdir() if p.is_dir())
    pool = [photo for breed in breeds for photo in sorted(breed.iterdir())[:20]]
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as home:
        process, url = start_server(Path(home))
        server = psutil.Process(process.pid)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
                )
                page = browser.new_context().new_page()
                page.goto(f"{url}/classify")
                page.get_by_text("Your model:").wait_for(timeout=300_000)
                rounds = []
                for number in range(args.rounds):
                    photos = pool[number * args.photos * 7 :: 7][: args.photos]  # a spread of breeds
                    page.reload()
                    page.get_by_text("Your model:").wait_for(timeout=300_000)
                    rounds.append(upload_round(page, server, photos))
                before = cpu_seconds(server)
                page.get_by_role("slider").first.press("ArrowRight")  # a rerun with the same photos
                time.sleep(1)
                page.wait_for_selector(READY, timeout=300_000)
                rerun = (cpu_seconds(server) - before) / args.photos
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"{args.photos} photos uploaded at once on Classify, {args.rounds} rounds:")
    print("round  server CPU ms/photo  seconds until all show")
    for number, (cpu, seconds) in enumerate(rounds, 1):
        print(f"{number:5}  {1000 * cpu:19.0f}  {seconds:22.2f}")
    print(f"a slider moved with the same photos: {1000 * rerun:.0f} ms of server CPU per photo")
    steady = rounds[1:] or rounds
    print(
        json.dumps(
            {
                "photos": args.photos,
                "cpu_ms_per_photo": [round(1000 * c) for c, _ in rounds],
                "seconds_until_all_show": [round(s, 2) for _, s in rounds],
                "steady_cpu_ms_per_photo": round(1000 * statistics.median(c for c, _ in steady)),
                "steady_seconds": round(statistics.median(s for _, s in steady), 2),
                "rerun_cpu_ms_per_photo": round(1000 * rerun),
            }
        )
    )


if __name__ == "__main__":
    main()

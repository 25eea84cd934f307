"""What live answers on Classify cost: answers a second per viewer and the server's CPU per answer.

    python benchmarks/live_camera.py [--data ../shared/data/oxford-cats] [--viewers 1 3] [--seconds 15]

Starts the app with an empty CATBREED_HOME and, for each number of viewers, opens that many
Chromium pages on Classify with a fake webcam (two cats in turn, a second each) and live answers on;
counts the frames each page had answered (its "Live frame N") over `--seconds`, and reads the server
process's CPU time (all its threads) over the same span. The browsers run on the same machine and
take part of its two cores. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from shared_server import CHROMIUM, READY, ROOT, start_server  # noqa: E402
from test_browser import write_y4m  # noqa: E402


def frame_number(page) -> int:
    shown = page.get_by_text(re.compile(r"^Live frame \d+$")).first.inner_text()
    return int(shown.split()[-1])


def measure(browser, url: str, server: psutil.Process, viewers: int, seconds: float) -> dict:
    pages = [browser.new_context().new_page() for _ in range(viewers)]
    for page in pages:
        page.goto(f"{url}/classify")
        page.wait_for_selector(READY, timeout=300_000)
        page.get_by_text("Answer live while the camera moves").click()
    for page in pages:
        page.get_by_text(re.compile(r"^Live frame \d+$")).first.wait_for(timeout=300_000)
    time.sleep(2)  # past the first answers' warm-up
    first = [frame_number(page) for page in pages]
    cpu = server.cpu_times()
    started = time.perf_counter()
    time.sleep(seconds)
    last = [frame_number(page) for page in pages]
    after = server.cpu_times()
    elapsed = time.perf_counter() - started
    for page in pages:
        page.context.close()
    answers = sum(b - a for a, b in zip(first, last))
    busy = (after.user + after.system) - (cpu.user + cpu.system)
    return {
        "viewers": viewers,
        "answers_per_second_each": round(answers / viewers / elapsed, 1),
        "server_cpu_ms_per_answer": round(1000 * busy / max(answers, 1), 1),
        "server_cpu_share": round(busy / elapsed, 2),  # of one core
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "oxford-cats")
    parser.add_argument("--viewers", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as home:
        cats = [args.data / "Siamese" / "Siamese_100.jpg", args.data / "Persian" / "Persian_100.jpg"]
        camera = write_y4m(cats, Path(home) / "two-cats.y4m", frames=15)
        process, url = start_server(Path(home))
        server = psutil.Process(process.pid)
        chromium_args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--use-fake-ui-for-media-stream"]
        chromium_args += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}"]
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args)
                rows = [measure(browser, url, server, viewers, args.seconds) for viewers in args.viewers]
                browser.close()
        finally:
            process.terminate()
    print("viewers  answers/s each  server CPU ms/answer  server CPU (cores)")
    for row in rows:
        print(
            f"{row['viewers']:7}  {row['answers_per_second_each']:14}  {row['server_cpu_ms_per_answer']:20}"
            f"  {row['server_cpu_share']:18}"
        )
    print(json.dumps({"live": rows}))


if __name__ == "__main__":
    main()

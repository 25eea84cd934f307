"""How long another person waits for the Classify page while someone trains, on one server.

    python benchmarks/shared_server.py [--data ../shared/data/oxford-cats] [--opens 5]

Starts the app with an empty CATBREED_HOME, opens Classify in new browser sessions while the server
is idle (after one warm-up visit), then uploads the photos as a zip on the Train page in another
session, starts a quick training and opens Classify the same way while it computes features.
Prints the median seconds from navigation until the page has finished running, idle and busy,
then one JSON line. Needs Debian's chromium and Playwright (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "CATBREED_HOME": str(home), "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true"]
    command += ["--server.address=127.0.0.1", f"--server.port={port}"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return server, url
        except OSError:
            time.sleep(0.5)
    raise SystemExit("streamlit did not start")


def open_classify(browser, url: str) -> float:
    """Seconds from navigating to Classify, in a new session, until the page has finished its run."""
    context = browser.new_context()
    page = context.new_page()
    started = time.perf_counter()
    page.goto(f"{url}/classify")
    page.get_by_text("Your model:").wait_for(timeout=300_000)
    page.wait_for_selector(READY, timeout=300_000)
    seconds = time.perf_counter() - started
    context.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "oxford-cats")
    parser.add_argument("--opens", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "cats.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for photo in sorted(args.data.glob("*/*")):
                zf.write(photo, f"{photo.parent.name}/{photo.name}")
        server, url = start_server(Path(scratch) / "home")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                open_classify(browser, url)  # loads the model and warms the caches, as the first visitor does
                idle = [open_classify(browser, url) for _ in range(args.opens)]

                trainer = browser.new_context().new_page()
                trainer.goto(f"{url}/train")
                trainer.wait_for_selector(READY, timeout=120_000)
                trainer.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(archive)
                trainer.get_by_text("Your photos").wait_for(timeout=300_000)
                trainer.wait_for_selector(READY, timeout=120_000)
                trainer.get_by_role("button", name="Train").click()
                trainer.get_by_text("Computing features").wait_for(timeout=300_000)
                busy = [open_classify(browser, url) for _ in range(args.opens)]
                still_training = trainer.get_by_text("Computing features").count() > 0
                # The trainer's browser shares this machine's two cores here, as it would not on a real
                # server; with its tab closed (the training goes on), what is left is the server's own.
                job_url = trainer.url
                trainer.context.close()
                alone = [open_classify(browser, url) for _ in range(args.opens)]
                check = browser.new_context().new_page()
                check.goto(job_url)
                check.wait_for_selector(READY, timeout=120_000)
                still_training_after_tab_closed = check.get_by_text("Expected accuracy on new photos").count() == 0
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)

    figures = {
        "classify_open_idle_s": round(statistics.median(idle), 2),
        "classify_open_while_training_s": round(statistics.median(busy), 2),
        "opens": args.opens,
        "classify_open_while_training_tab_closed_s": round(statistics.median(alone), 2),
        "training_still_computing_features_after": still_training,
        "training_still_running_after_tab_closed": still_training_after_tab_closed,
    }
    print("| Classify page opens in a new session | median seconds |")
    print("| --- | --- |")
    print(f"| server idle | {figures['classify_open_idle_s']:.2f} |")
    print(f"| while another person's training computes features | {figures['classify_open_while_training_s']:.2f} |")
    print(f"| the same, the trainer's tab closed | {figures['classify_open_while_training_tab_closed_s']:.2f} |")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

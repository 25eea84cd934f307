"""The other route for live answers: the network running in the browser with LiteRT.js.

    npm install --prefix /tmp/litertjs @litertjs/core@2.5.3      # outside the project: never copied in
    python benchmarks/browser_runtime.py --litertjs /tmp/litertjs/node_modules [--data ../shared/data/oxford-cats]

Trains a quick model on two breeds of the shared cats (20 photos each), then serves, on 127.0.0.1
only, a page of our own few lines of JavaScript with LiteRT.js (its WebAssembly CPU runtime,
XNNPACK), the app's own backbone flatbuffer (the one `predict` runs, with its batch fixed at 1:
LiteRT.js takes no dynamic shapes, which is also why the export package's model.tflite does not
load there) and the model's head (weights, bias, temperature). Chromium opens it with a fake webcam
(two cats in turn, a second each) and answers frames as fast as it can for `--seconds`: the central
square resized to the network's input, one `run`, the head's softmax, the top breed. Prints answers
a second, the browser's CPU an answer (all of Chromium's processes), what the server sent once
(runtime, network, head) and its CPU an answer (none: the browser does the work), then one JSON
line. Compare with `benchmarks/live_camera.py`, the route the app uses.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import flatbuffers
import numpy as np
import psutil
from ai_edge_litert import schema_py_generated as schema

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from shared_server import CHROMIUM, ROOT  # noqa: E402
from test_browser import write_y4m  # noqa: E402

BREEDS = ("Persian", "Siamese")

PAGE = """<!doctype html>
<script type="importmap">
{"imports": {"@litertjs/core": "/litert/core/dist/index.js",
             "@litertjs/wasm-utils": "/litert/wasm-utils/dist/index.js"}}
</script>
<video autoplay playsinline muted></video><canvas hidden></canvas>
<script type="module">
import { loadLiteRt, loadAndCompile, Tensor } from "@litertjs/core";

const HEAD = %(head)s, SIDE = HEAD.side, SECONDS = %(seconds)f;
const video = document.querySelector("video"), canvas = document.querySelector("canvas");
canvas.width = canvas.height = SIDE;
const context = canvas.getContext("2d", { willReadFrequently: true });
const FEATURES = HEAD.blocks.reduce((a, b) => a + b, 0);

function breed(features) {  // the head, as models/head.py computes it: normalise, scores, softmax
  const x = new Float32Array(FEATURES), scale = 1 / Math.sqrt(HEAD.blocks.length);
  let start = 0;
  for (const size of HEAD.blocks) {
    let norm = 0;
    for (let d = start; d < start + size; d++) norm += features[d] * features[d];
    norm = Math.max(Math.sqrt(norm), 1e-12);
    for (let d = start; d < start + size; d++) x[d] = scale * features[d] / norm;
    start += size;
  }
  const scores = HEAD.bias.map((bias, c) => {
    let score = bias;
    for (let d = 0; d < FEATURES; d++) score += x[d] * HEAD.weights[c * FEATURES + d];
    return score / HEAD.temperature;
  });
  const most = Math.max(...scores), exp = scores.map((s) => Math.exp(s - most));
  const total = exp.reduce((a, b) => a + b, 0), probabilities = exp.map((e) => e / total);
  return HEAD.labels[probabilities.indexOf(Math.max(...probabilities))];
}

function pixels() {  // the central square, resized, as RGB 0..255 floats: what export.json asks for
  const w = video.videoWidth, h = video.videoHeight, side = Math.min(w, h);
  context.drawImage(video, (w - side) / 2, (h - side) / 2, side, side, 0, 0, SIDE, SIDE);
  const rgba = context.getImageData(0, 0, SIDE, SIDE).data, rgb = new Float32Array(SIDE * SIDE * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2];
  }
  return rgb;
}

try {
  const loading = performance.now();
  await loadLiteRt("/litert/core/wasm/", { threads: %(threads)s });
  const model = await loadAndCompile("/model.tflite", { accelerator: "wasm" });
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
  await new Promise((ready) => { video.onloadeddata = ready; });
  const loaded = performance.now() - loading;
  const seen = {};
  let answers = 0;
  const featuresAt = model.getOutputDetails().findIndex((d) => d.shape[d.shape.length - 1] === FEATURES);
  const answer = async () => {
    const input = new Tensor(pixels(), [1, SIDE, SIDE, 3]);
    const outputs = await model.run(input);
    input.delete();
    const top = breed(outputs[featuresAt].toTypedArray());
    outputs.forEach((t) => t.delete());
    return top;
  };
  for (let warm = 0; warm < 3; warm++) await answer();
  window.measuring = true;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    const top = await answer();
    seen[top] = (seen[top] || 0) + 1;
    answers += 1;
    await new Promise((next) => setTimeout(next, 0));  // let the page breathe, as a real one must
  }
  window.result = { answers, seconds: (performance.now() - started) / 1000, loaded_ms: loaded, seen };
} catch (error) {
  window.result = { error: String(error && error.stack || error) };
}
</script>
"""


class Handler(SimpleHTTPRequestHandler):
    """The page, the model and LiteRT.js's files; the headers that let its WebAssembly use threads."""

    def __init__(self, *args, page: bytes, model: bytes, litert: Path, sent: list, **kwargs):
        self.page, self.model, self.litert, self.sent = page, model, litert, sent
        super().__init__(*args, directory=str(litert), **kwargs)

    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def do_GET(self):
        if self.path == "/":
            body, kind = self.page, "text/html"
        elif self.path == "/model.tflite":
            body, kind = self.model, "application/octet-stream"
        elif self.path.startswith("/litert/"):
            self.path = "/" + self.path.removeprefix("/litert/")
            size = Path(self.translate_path(self.path))
            self.sent.append(size.stat().st_size if size.is_file() else 0)
            return super().do_GET()
        else:
            return self.send_error(404)
        self.sent.append(len(body))
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def guess_type(self, path):
        return "text/javascript" if str(path).endswith(".js") else super().guess_type(path)

    def log_message(self, *args):
        pass


def static_batch(flatbuffer: bytes) -> bytes:
    """The same network with its batch fixed at 1 (no shape signatures)."""
    model = schema.ModelT.InitFromPackedBuf(flatbuffer, 0)
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            tensor.shapeSignature = None
    builder = flatbuffers.Builder(len(flatbuffer) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def trained_model(data: Path, work: Path) -> tuple[bytes, dict]:
    """A quick model on two breeds: (its backbone's flatbuffer, batch 1; its head and input side)."""
    photos = work / "photos"
    for breed in BREEDS:
        (photos / breed).mkdir(parents=True)
        for photo in sorted((data / breed).iterdir())[:20]:
            shutil.copyfile(photo, photos / breed / photo.name)  # a temporary folder; links are refused
    env = {**os.environ, "CATBREED_HOME": str(work / "home"), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "catbreed", "train", str(photos), "--out", str(work / "model")]
    subprocess.run(command, env=env, check=True, capture_output=True)
    (flatbuffer,) = (work / "home" / "runtime").glob("*.tflite")
    with np.load(work / "model" / "head.npz") as head:
        blocks, weights = head["blocks"].tolist(), head["weights"]
        described = {"blocks": blocks, "weights": weights.T.ravel().tolist(), "classes": weights.shape[1]}
        described |= {"bias": head["bias"].tolist(), "temperature": float(head["temperature"])}
    labels = (work / "model" / "labels.txt").read_text().split("\n")[: described["classes"]]
    side = int(json.loads((work / "model" / "metadata.json").read_text())["image_size"])
    return static_batch(flatbuffer.read_bytes()), described | {"labels": labels, "side": side}


def chromium_cpu(before: set[int]) -> float:
    """CPU seconds of the Chromium processes started since `before` was taken."""
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if process.pid not in before and "chrom" in (process.info["name"] or ""):
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "oxford-cats")
    parser.add_argument("--litertjs", type=Path, required=True, help="a node_modules folder holding @litertjs/core")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--threads", action="store_true", help="LiteRT.js's threaded WebAssembly")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        model, head = trained_model(args.data, work)
        camera = write_y4m([args.data / b / f"{b}_100.jpg" for b in BREEDS], work / "two-cats.y4m", frames=15)
        threads = "true" if args.threads else "false"
        page = PAGE % {"head": json.dumps(head), "seconds": args.seconds, "threads": threads}
        sent: list[int] = []
        handler = partial(Handler, page=page.encode(), model=model, litert=args.litertjs / "@litertjs", sent=sent)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        server_process = psutil.Process()
        before = {p.pid for p in psutil.process_iter()}
        browser_args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--use-fake-ui-for-media-stream"]
        browser_args += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=browser_args)
            tab = browser.new_context().new_page()
            tab.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            tab.wait_for_function("() => window.measuring || window.result", timeout=300_000)
            browser_start, server_start = chromium_cpu(before), server_process.cpu_times()
            tab.wait_for_function("() => window.result", timeout=(args.seconds + 120) * 1000)
            browser_cpu, server_end = chromium_cpu(before) - browser_start, server_process.cpu_times()
            result = tab.evaluate("() => window.result")
            browser.close()
        server.shutdown()
    if "error" in result:
        raise SystemExit(f"LiteRT.js failed in the browser: {result['error']}")
    per_second = result["answers"] / result["seconds"]
    server_cpu = (server_end.user + server_end.system) - (server_start.user + server_start.system)
    figures = {
        "route": "LiteRT.js in the browser (WebAssembly, XNNPACK" + (", threads)" if args.threads else ")"),
        "answers_per_second": round(per_second, 1),
        "browser_cpu_ms_per_answer": round(1000 * browser_cpu / result["answers"], 1),
        "server_cpu_ms_per_answer": round(1000 * server_cpu / result["answers"], 2),
        "sent_once_mb": round(sum(sent) / 1024**2, 1),
        "first_answer_after_s": round(result["loaded_ms"] / 1000, 1),
        "top_breeds_seen": result["seen"],
    }
    print(f"{figures['route']}: {figures['answers_per_second']} answers a second for one viewer")
    print(
        f"  browser CPU {figures['browser_cpu_ms_per_answer']} ms an answer; server CPU {figures['server_cpu_ms_per_answer']} ms an answer"
    )
    print(
        f"  sent once: {figures['sent_once_mb']} MB (runtime and model); ready {figures['first_answer_after_s']} s after opening"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

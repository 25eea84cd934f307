"""The camera that films by itself: the page's own few lines of JavaScript (a v2 component) film with
the browser's camera and send frames, small JPEGs, as the component's state; Python handles them and
says which message it handled, and only then does the browser send the next one. So nothing queues
behind anything: a slow server gets fewer, larger messages, never a backlog.

Two uses:
- answering (Classify): the newest frame only, so a slow server answers fewer frames, never old ones;
- recording (Train): while a button is held (or from one press of Space or Enter to the next),
  frames at a steady rate, sent in batches as the server takes them, none dropped, up to a limit.
The camera stops when the component leaves the page (the person turns it off, or goes elsewhere)."""

import base64
import binascii
from dataclasses import dataclass

import streamlit as st
from streamlit import components

ANSWER_SIDE = 320  # Classify's frame, a square: what the page shows, and more than the network reads
RECORD_SIDE = 480  # a recorded photo's longer side: more than any backbone reads, ~40 KB as a JPEG
ANSWER_INTERVAL_MS = 150  # at most this often, so a fast server costs the browser little
RECORD_INTERVAL_MS = 100  # ten photos a second while the button is held
BATCH_FRAMES = 10  # recorded frames sent in one message at most
MAX_FRAME_BYTES = 400_000  # a frame is ~20-40 KB; anything far larger is not our page's

_CAMERA = components.v2.component(
    "catbreed.camera",
    html='<video autoplay playsinline muted style="width:100%;max-width:320px;border-radius:0.5rem"></video>'
    '<canvas hidden></canvas><p class="blocked"></p>'
    '<button type="button" hidden style="width:100%;max-width:320px;padding:0.6rem;border-radius:0.5rem;'
    "border:1px solid #d33;background:#fff;color:#d33;font:inherit;touch-action:none;user-select:none;"
    '-webkit-user-select:none"></button>',
    js="""
const cameras = new WeakMap();  // one camera per mounted element, across the page's reruns

export default function ({ data, parentElement, setStateValue }) {
  let camera = cameras.get(parentElement);
  if (!camera) {
    camera = start(parentElement, setStateValue);
    cameras.set(parentElement, camera);
  }
  camera.data = data;
  camera.answered = data.answered;
  camera.show();
  return () => {
    // Called when the page redraws the component as well as when it goes: stop only once it is gone.
    setTimeout(() => {
      if (parentElement.isConnected) return;
      camera.stopped = true;
      clearTimeout(camera.timer);
      if (camera.stream) camera.stream.getTracks().forEach((track) => track.stop());
      cameras.delete(parentElement);
    }, 1000);
  };
}

function start(parentElement, setStateValue) {
  const video = parentElement.querySelector("video");
  const canvas = parentElement.querySelector("canvas");
  const button = parentElement.querySelector("button");
  // Numbers from the clock, so a camera mounted again does not repeat the last one the server took.
  const camera = { sent: -1, answered: -1, stopped: false, recording: false, finishing: false,
                   burst: 0, taken: 0, pending: [] };
  const next = () => Math.max(camera.sent + 1, Date.now());

  const grab = (square, side) => {
    const w = video.videoWidth, h = video.videoHeight;
    const crop = square ? Math.min(w, h) : 0;
    const [sw, sh] = square ? [crop, crop] : [w, h];
    const scale = side / Math.max(sw, sh);
    canvas.width = Math.round(sw * Math.min(scale, 1));
    canvas.height = Math.round(sh * Math.min(scale, 1));
    canvas.getContext("2d").drawImage(video, (w - sw) / 2, (h - sh) / 2, sw, sh, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL("image/jpeg", 0.9);
  };

  const take = () => {
    if (!camera.recording || video.readyState < 2) return;
    camera.pending.push(grab(false, camera.data.side));
    camera.taken += 1;
    if (camera.taken >= camera.data.limit) record(false);
    camera.show();
  };
  const record = (on) => {
    if (on === camera.recording) return;
    camera.recording = on;
    if (on) { camera.burst = next(); camera.taken = 0; } else { camera.finishing = true; }
    camera.show();
    take();  // the first photo the moment the button goes down
  };
  camera.show = () => {
    const data = camera.data;
    button.hidden = data.mode !== "record";
    button.textContent = camera.recording ? data.recording.replace("{n}", camera.taken) : data.hold;
    button.style.background = camera.recording ? "#d33" : "#fff";
    button.style.color = camera.recording ? "#fff" : "#d33";
  };
  button.addEventListener("pointerdown", (event) => { button.setPointerCapture(event.pointerId); record(true); });
  button.addEventListener("pointerup", () => record(false));
  button.addEventListener("pointercancel", () => record(false));
  button.addEventListener("contextmenu", (event) => event.preventDefault());  // a long press on a phone
  button.addEventListener("keydown", (event) => {
    if ((event.key === " " || event.key === "Enter") && !event.repeat) { event.preventDefault(); record(!camera.recording); }
  });

  const tick = () => {
    if (camera.stopped) return;
    const began = performance.now();
    // The next message only once the server has taken this one (its number comes back as `answered`).
    const data = camera.data, free = camera.sent === -1 || camera.sent === camera.answered;
    if (data.mode === "answer" && free && video.readyState >= 2) {
      camera.sent = next();
      setStateValue("frame", { id: camera.sent, jpeg: grab(true, data.side) });
    }
    if (data.mode === "record") {
      take();
      if (free && (camera.pending.length || camera.finishing)) {
        const jpegs = camera.pending.splice(0, data.batch);
        const done = !camera.recording && camera.pending.length === 0;
        if (done) camera.finishing = false;
        camera.sent = next();
        setStateValue("frames", { id: camera.sent, burst: camera.burst, done, jpegs });
      }
    }
    // A steady rate: the time this tick took comes off the wait for the next.
    camera.timer = setTimeout(tick, Math.max(0, data.interval_ms - (performance.now() - began)));
  };
  navigator.mediaDevices.getUserMedia({ video: true, audio: false }).then((stream) => {
    camera.stream = stream;
    if (camera.stopped) { stream.getTracks().forEach((track) => track.stop()); return; }
    video.srcObject = stream;
    tick();
  }).catch((error) => {
    parentElement.querySelector(".blocked").textContent = `${camera.data.blocked} (${error.name})`;
  });
  return camera;
}
""",
)


@dataclass(frozen=True)
class Recorded:
    """A batch of recorded frames: its number, the burst (one hold of the button) it belongs to,
    whether the burst ended with it, and the frames as JPEG bytes."""

    id: int
    burst: int
    done: bool
    frames: list[bytes]


def _jpeg(data_url: object) -> bytes | None:
    header, _, encoded = str(data_url).partition(",")
    if header != "data:image/jpeg;base64" or len(encoded) > MAX_FRAME_BYTES * 4 // 3 + 4:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _state(key: str, name: str) -> dict | None:
    value = (st.session_state.get(key) or {}).get(name)
    return value if isinstance(value, dict) and isinstance(value.get("id"), int) else None


def newest_frame(key: str) -> tuple[int, bytes] | None:
    """(its number, JPEG bytes) of the newest frame the answering camera sent, if it is one."""
    frame = _state(key, "frame")
    jpeg = _jpeg(frame.get("jpeg")) if frame else None
    return (frame["id"], jpeg) if jpeg is not None else None


def recorded_frames(key: str) -> Recorded | None:
    """The last batch the recording camera sent, if it is one: every frame a JPEG, no more than a batch."""
    batch = _state(key, "frames")
    if batch is None or not isinstance(batch.get("burst"), int) or not isinstance(batch.get("jpegs"), list):
        return None
    frames = [_jpeg(jpeg) for jpeg in batch["jpegs"][: BATCH_FRAMES + 1]]
    if len(frames) > BATCH_FRAMES or None in frames:
        return None
    return Recorded(batch["id"], batch["burst"], batch.get("done") is True, frames)


def answering_camera(key: str, answered: int, blocked: str) -> None:
    """The camera, telling the browser that frame `answered` has its answer (the next may come)."""
    data = {"mode": "answer", "answered": answered, "side": ANSWER_SIDE, "interval_ms": ANSWER_INTERVAL_MS}
    _CAMERA(data={**data, "blocked": blocked}, key=key, on_frame_change=lambda: None)


def recording_camera(key: str, answered: int, limit: int, words: dict[str, str]) -> None:
    """The camera and its record button, telling the browser that batch `answered` was taken.
    `words`: `hold` (the button at rest), `recording` (while held, with `{n}` for the count so
    far) and `blocked` (no camera)."""
    data = {"mode": "record", "answered": answered, "side": RECORD_SIDE, "interval_ms": RECORD_INTERVAL_MS}
    data |= {"limit": limit, "batch": BATCH_FRAMES}
    _CAMERA(data={**data, **words}, key=key, on_frames_change=lambda: None)

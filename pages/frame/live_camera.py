"""The live camera: the page's own few lines of JavaScript (a v2 component) film with the browser's
camera and send the newest frame, a small JPEG, as the component's state; Python answers it and
says which frame it answered, and only then does the browser send the next one. So frames never
queue behind each other: a slow server answers fewer of them, never old ones. The camera stops
when the component leaves the page (the person turns live answers off, or goes elsewhere)."""

import base64
import binascii

import streamlit as st
from streamlit import components

FRAME_SIDE = 320  # pixels of the square sent: what Classify shows, and more than the network reads
FRAME_INTERVAL_MS = 150  # at most this often, so a fast server costs the browser little
MAX_FRAME_BYTES = 400_000  # a JPEG of FRAME_SIDE² is ~20 KB; anything far larger is not our page's

_LIVE_CAMERA = components.v2.component(
    "catbreed.live_camera",
    html='<video autoplay playsinline muted style="width:100%;max-width:320px;border-radius:0.5rem"></video>'
    '<canvas hidden></canvas><p class="blocked"></p>',
    js="""
const cameras = new WeakMap();  // one camera per mounted element, across the page's reruns

export default function ({ data, parentElement, setStateValue }) {
  let camera = cameras.get(parentElement);
  if (!camera) {
    camera = { sent: -1, answered: -1, data, stopped: false };
    cameras.set(parentElement, camera);
    const video = parentElement.querySelector("video");
    const canvas = parentElement.querySelector("canvas");
    const tick = () => {
      if (camera.stopped) return;
      // The newest frame, and only once the last one was answered.
      if (camera.sent <= camera.answered && video.readyState >= 2) {
        const side = Math.min(video.videoWidth, video.videoHeight);
        const size = camera.data.side;
        canvas.width = canvas.height = size;
        const x = (video.videoWidth - side) / 2, y = (video.videoHeight - side) / 2;
        canvas.getContext("2d").drawImage(video, x, y, side, side, 0, 0, size, size);
        camera.sent += 1;
        setStateValue("frame", { id: camera.sent, jpeg: canvas.toDataURL("image/jpeg", 0.85) });
      }
      camera.timer = setTimeout(tick, camera.data.interval_ms);
    };
    navigator.mediaDevices.getUserMedia({ video: true, audio: false }).then((stream) => {
      camera.stream = stream;
      if (camera.stopped) { stream.getTracks().forEach((track) => track.stop()); return; }
      video.srcObject = stream;
      tick();
    }).catch((error) => {
      parentElement.querySelector(".blocked").textContent = `${camera.data.blocked} (${error.name})`;
    });
  }
  camera.data = data;
  camera.answered = data.answered;
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
""",
)


def newest_frame(key: str) -> tuple[int, bytes] | None:
    """(its number, JPEG bytes) of the newest frame the browser sent, if it is one."""
    frame = (st.session_state.get(key) or {}).get("frame")
    if not isinstance(frame, dict) or not isinstance(frame.get("id"), int):
        return None
    header, _, encoded = str(frame.get("jpeg", "")).partition(",")
    if header != "data:image/jpeg;base64" or len(encoded) > MAX_FRAME_BYTES * 4 // 3 + 4:
        return None
    try:
        return frame["id"], base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


def live_camera(key: str, answered: int, blocked: str) -> None:
    """The camera, telling the browser that frame `answered` has its answer (the next may come)."""
    data = {"answered": answered, "side": FRAME_SIDE, "interval_ms": FRAME_INTERVAL_MS, "blocked": blocked}
    _LIVE_CAMERA(data=data, key=key, on_frame_change=lambda: None)

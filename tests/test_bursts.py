"""Hold to record: a burst of camera frames kept under one breed, near-identical frames left out,
within the limits of any added photo, taken back whole; and the batches a browser sends, checked."""

import base64

import pytest
from conftest import drawn_photo, jpeg_bytes
from PIL import ImageFilter

from catbreed.data.bursts import Burst
from catbreed.data.saved_datasets import DatasetStore
from pages.frame import live_camera


@pytest.fixture
def saved(tmp_path):
    saved = DatasetStore(tmp_path / "datasets").create("recorded")
    saved.add_breed("Red")
    saved.add_breed("Blue")
    return saved


def frames(kind: str, count: int, start: int = 0) -> list[bytes]:
    return [jpeg_bytes(drawn_photo(kind, seed, size=(320, 240))) for seed in range(start, start + count)]


def test_a_burst_keeps_new_frames_leaves_out_near_copies_and_is_undone_whole(saved):
    burst = Burst("Red", "burst 101500")
    still = drawn_photo("red_circles", 99, size=(320, 240))
    # A cat that keeps still: the same view, re-encoded and slightly blurred, as a camera gives it.
    alike = [jpeg_bytes(still, quality=q) for q in (95, 80)] + [jpeg_bytes(still.filter(ImageFilter.BLUR))]
    burst.add(saved, frames("red_circles", 6))
    burst.add(saved, alike)  # a second batch of the same burst
    assert len(burst.kept) == 7 and burst.alike == 2 and burst.stopped is None
    assert saved.counts() == {"Blue": 0, "Red": 7}
    assert burst.kept[0] == "Red/burst 101500-001.jpg"
    Burst("Blue", "burst 101600").add(saved, frames("blue_squares", 3))
    dataset = saved.check()  # they train as any photo does
    assert len(dataset.photos) == 10 and not dataset.skipped and not dataset.duplicates

    saved.move_photo(burst.kept[0], "Blue")  # fixed by hand meanwhile: no longer the burst's to take back
    version = saved.version
    assert burst.undo(saved) == 6
    assert saved.counts() == {"Blue": 4, "Red": 0} and saved.version == version + 1  # one change
    assert burst.kept == []


def test_a_frame_kept_already_by_an_earlier_burst_is_left_out_and_the_burst_goes_on(saved):
    Burst("Red", "first").add(saved, frames("red_circles", 2))
    again = Burst("Red", "second")
    again.add(saved, frames("red_circles", 3))  # a camera that loops shows the very same frames
    assert again.kept == ["Red/second-001.jpg"] and again.alike == 2 and again.stopped is None


def test_a_burst_stops_at_its_limit_and_at_the_data_sets(saved, monkeypatch):
    monkeypatch.setenv("CATBREED_BURST_PHOTOS", "4")
    burst = Burst("Red", "burst")
    burst.add(saved, frames("red_circles", 6))
    assert len(burst.kept) == 4 and str(burst.stopped).startswith("This burst has 4 photos, the most")
    burst.add(saved, frames("red_circles", 2, start=10))
    assert saved.counts()["Red"] == 4  # a stopped burst keeps nothing more

    monkeypatch.setenv("CATBREED_BURST_PHOTOS", "100")
    monkeypatch.setenv("CATBREED_ARCHIVE_ENTRIES", "6")  # a data set holds no more photos than a zip may
    other = Burst("Blue", "burst")
    other.add(saved, frames("blue_squares", 5))
    assert (
        len(other.kept) == 2 and str(other.stopped) == "This data set holds 6 photos, the most kept; remove some first."
    )


def test_a_frame_that_is_no_image_stops_the_burst_with_its_reason(saved):
    burst = Burst("Red", "burst")
    burst.add(saved, [*frames("red_circles", 2), b"not a jpeg", *frames("red_circles", 2, start=5)])
    assert len(burst.kept) == 2 and "burst" in str(burst.stopped) and "not" in str(burst.stopped).lower()


def data_url(data: bytes, kind: str = "jpeg") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("jpegs", "taken"),
    [
        (["photo"] * 3, True),
        (["photo"] * (live_camera.BATCH_FRAMES + 1), False),  # more than a batch: not our page's
        (["photo", "png"], False),
        (["photo", "data:image/jpeg;base64,@@@"], False),
        (["photo", "data:image/jpeg;base64," + "A" * (live_camera.MAX_FRAME_BYTES * 2)], False),
    ],
)
def test_a_batch_from_the_browser_is_taken_only_when_every_frame_is_a_jpeg_within_bounds(monkeypatch, jpegs, taken):
    photo = frames("red_circles", 1)[0]
    sent = {"photo": data_url(photo), "png": data_url(photo, "png")}
    batch = {"id": 1765000000000, "burst": 1765000000000, "done": True, "jpegs": [sent.get(j, j) for j in jpegs]}
    monkeypatch.setattr(live_camera.st, "session_state", {"recorder": {"frames": batch}})
    recorded = live_camera.recorded_frames("recorder")
    assert (recorded is not None) == taken
    if taken:
        assert recorded.frames == [photo] * 3 and recorded.done and recorded.burst == batch["burst"]

import io
import re
import shutil
import zipfile

import pytest
from conftest import drawn_photo, jpeg_bytes, make_dataset_folder, zip_folder

from catbreed.data import images
from catbreed.data.dataset import FEW_PHOTOS_WARNING, NOT_IN_A_CLASS_FOLDER, check_folder, open_dataset
from catbreed.errors import CatbreedError


def test_counts_labels_and_sorted_classes(shapes_folder):
    dataset = check_folder(shapes_folder)
    assert dataset.classes == sorted(["red_circles", "blue_squares", "green_bars"])
    assert dataset.counts == {"blue_squares": 12, "green_bars": 12, "red_circles": 12}
    assert [dataset.classes[i] for i in dataset.label_ids()] == [p.label for p in dataset.photos]


def test_skipped_files_duplicates_and_ignored_names_are_reported(tmp_path):
    root = make_dataset_folder(tmp_path / "data", per_class=3, kinds=("red_circles", "blue_squares"))
    red = root / "red_circles"
    (red / "notes.txt").write_text("not a photo")
    (red / "empty.jpg").write_bytes(b"")
    (red / "cut.jpg").write_bytes(jpeg_bytes(drawn_photo("red_circles", 9))[:700])
    shutil.copy(red / "000.jpg", red / "copy of 000.jpg")
    (red / ".DS_Store").write_bytes(b"junk")
    (red / "Thumbs.db").write_bytes(b"junk")
    (root / "__MACOSX").mkdir()
    (root / "__MACOSX" / "._000.jpg").write_bytes(b"junk")
    (root / "photo.jpg").write_bytes(jpeg_bytes(drawn_photo("red_circles", 8)))
    (root / "README.txt").write_text("Photos by Ann, CC BY 4.0.")

    dataset = check_folder(root)
    reasons = {s.name: s.reason for s in dataset.skipped}
    assert reasons == {
        "red_circles/notes.txt": images.NOT_AN_IMAGE,
        "red_circles/empty.jpg": images.EMPTY,
        "red_circles/cut.jpg": images.TRUNCATED,
        "photo.jpg": NOT_IN_A_CLASS_FOLDER,
    }
    assert dataset.notes == "Photos by Ann, CC BY 4.0."  # kept for citing the data set, not skipped
    assert [(d.name, d.kept) for d in dataset.duplicates] == [("red_circles/copy of 000.jpg", "red_circles/000.jpg")]
    assert dataset.counts == {"blue_squares": 3, "red_circles": 3}


def test_the_fingerprint_follows_the_photos_and_breeds_not_the_file_names(tmp_path, shapes_folder):
    original = check_folder(shapes_folder)
    renamed = make_dataset_folder(tmp_path / "renamed")
    for photo in (renamed / "green_bars").iterdir():
        photo.rename(photo.with_name("x" + photo.name))
    assert check_folder(renamed).fingerprint == original.fingerprint
    (renamed / "green_bars" / "x000.jpg").rename(renamed / "red_circles" / "moved.jpg")
    assert check_folder(renamed).fingerprint != original.fingerprint


def test_warnings_for_small_and_unbalanced_classes(tmp_path):
    root = tmp_path / "data"
    make_dataset_folder(root, per_class=2, kinds=("red_circles",))
    make_dataset_folder(root, per_class=FEW_PHOTOS_WARNING + 1, kinds=("blue_squares",))
    warnings = [str(w) for w in check_folder(root).warnings]
    assert "Breeds with fewer than 20 photos learn less well: 'red_circles' (2)." in warnings
    assert any("unbalanced: 21 photos in the largest, 2 in the smallest" in w for w in warnings)
    assert not any("blue_squares" in w for w in warnings)


def test_a_class_with_fewer_than_two_photos_is_left_out_with_a_warning(tmp_path):
    root = make_dataset_folder(tmp_path / "data", per_class=3, kinds=("red_circles", "blue_squares"))
    make_dataset_folder(root, per_class=1, kinds=("green_bars",))
    dataset = check_folder(root)
    assert dataset.classes == ["blue_squares", "red_circles"]
    assert any("'green_bars' was left out" in str(w) for w in dataset.warnings)


def test_an_upload_whose_own_name_is_too_long_for_the_disk_is_read(shapes_zip):
    from catbreed.data.dataset import discard_upload, open_uploaded_archive

    with open(shapes_zip, "rb") as stream:
        wrapped = io.BytesIO(stream.read())
    wrapped.name = "cats " * 60 + ".zip"  # 304 characters: more than a file name may have
    dataset = open_uploaded_archive(wrapped)
    try:
        assert len(dataset.photos) == 36
    finally:
        discard_upload(dataset)


def test_when_too_few_photos_are_left_the_message_says_why_the_others_were_skipped(tmp_path):
    root = make_dataset_folder(tmp_path / "data", per_class=1, kinds=("red_circles", "blue_squares"))
    for i in range(3):
        (root / "red_circles" / f"notes{i}.jpg").write_bytes(b"not a photo")
    with pytest.raises(CatbreedError, match=r"found 2: .*\. 3 files skipped: not an image \(3\)"):
        check_folder(root)


def test_one_class_is_not_enough(tmp_path):
    root = make_dataset_folder(tmp_path / "data", per_class=3, kinds=("red_circles",))
    with pytest.raises(CatbreedError, match=r"at least 2 breed folders .* found 1: 'red_circles' \(3\)"):
        check_folder(root)


def test_photos_without_class_folders_are_refused(tmp_path):
    root = tmp_path / "flat"
    root.mkdir()
    (root / "a.jpg").write_bytes(jpeg_bytes(drawn_photo("red_circles", 1)))
    with pytest.raises(CatbreedError, match="Found no breed folders"):
        check_folder(root)


def test_a_zip_with_one_wrapper_folder_is_unwrapped_and_labels_keep_unicode(tmp_path):
    root = make_dataset_folder(tmp_path / "data", per_class=2, kinds=("red_circles", "blue_squares"))
    (root / "red_circles").rename(root / "Chartreux été")
    archive = zip_folder(root, tmp_path / "cats.zip", prefix="My Cats/")
    dataset = open_dataset(archive, tmp_path / "work")
    assert dataset.classes == ["Chartreux été", "blue_squares"]
    assert all(p.path.is_relative_to(tmp_path / "work") for p in dataset.photos)


def test_zip_with_mixed_corrupt_files_keeps_the_good_ones(tmp_path):
    good = jpeg_bytes(drawn_photo("red_circles", 1))
    other = jpeg_bytes(drawn_photo("blue_squares", 1))
    archive = tmp_path / "mixed.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("A/1.jpg", good)
        zf.writestr("A/2.jpg", jpeg_bytes(drawn_photo("red_circles", 2)))
        zf.writestr("A/broken.jpg", good[:500])
        zf.writestr("B/1.jpg", other)
        zf.writestr("B/2.png", jpeg_bytes(drawn_photo("blue_squares", 2)))
        zf.writestr("B/virus.exe", b"MZ\x90\x00")
    dataset = open_dataset(archive, tmp_path / "work")
    assert dataset.counts == {"A": 2, "B": 2}
    assert {s.name: s.reason for s in dataset.skipped} == {
        "A/broken.jpg": images.TRUNCATED,
        "B/virus.exe": images.NOT_AN_IMAGE,
    }


@pytest.mark.parametrize("name", ["missing.zip", "missing_folder"])
def test_missing_sources_say_what_to_give(tmp_path, name):
    with pytest.raises(CatbreedError, match="No file or folder"):
        open_dataset(tmp_path / name)


def test_checking_reports_progress_and_can_be_cancelled(shapes_folder):
    import threading

    from catbreed.errors import Cancelled

    events = []
    dataset = check_folder(shapes_folder, on_event=events.append)
    assert events[0].step == 0 and events[-1].step == events[-1].total == len(dataset.photos)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        check_folder(shapes_folder, cancel=cancel)


def test_an_uploaded_zip_is_unpacked_in_a_folder_of_its_own_that_can_be_discarded(shapes_zip):
    from catbreed.data.dataset import discard_upload, open_uploaded_archive
    from catbreed.paths import temp_root

    with open(shapes_zip, "rb") as stream:
        dataset = open_uploaded_archive(stream)
    assert dataset.upload_folder.is_dir() and all(p.path.is_file() for p in dataset.photos)
    assert dataset.upload_folder.parent == temp_root()  # where a restart finds it if this process dies
    assert not list((dataset.upload_folder / "archive").iterdir())  # the copy of the archive is not kept
    discard_upload(dataset)
    assert not dataset.upload_folder.exists()


def test_a_rejected_upload_leaves_no_folder_behind(tmp_path, monkeypatch):
    import io

    from catbreed.data.dataset import open_uploaded_archive
    from catbreed.paths import temp_root

    monkeypatch.setenv("CATBREED_HOME", str(tmp_path))
    with pytest.raises(CatbreedError, match="not a readable zip"):
        open_uploaded_archive(io.BytesIO(b"not a zip at all"))
    assert list(temp_root().iterdir()) == []


@pytest.mark.parametrize(
    ("name", "shown"),
    [("Our cats.zip", "Our cats.zip"), ("../../etc/x.zip", "x.zip"), ("..", "upload.zip"), ("a\nb.zip", "ab.zip")],
)
def test_messages_about_an_upload_name_the_users_own_file(name, shown):
    import io

    from catbreed.data.dataset import open_uploaded_archive

    stream = io.BytesIO(b"not a zip at all")
    stream.name = name.replace("\\n", "\n")
    with pytest.raises(CatbreedError, match=f"^'{re.escape(shown)}' is not a readable zip"):
        open_uploaded_archive(stream)


def test_breed_folders_with_control_characters_are_renamed_and_the_report_says_so(tmp_path):
    root = make_dataset_folder(tmp_path / "data", per_class=3, kinds=("red_circles", "blue_squares"))
    (root / "red_circles").rename(root / "red\ncircles")
    dataset = check_folder(root)
    assert dataset.classes == ["blue_squares", "red circles"]
    assert dataset.counts["red circles"] == 3
    assert "'red\ncircles' is named 'red circles': control characters became spaces." in map(str, dataset.warnings)


def test_files_larger_than_a_photo_may_be_are_skipped_before_they_are_read(tmp_path, monkeypatch):
    root = make_dataset_folder(tmp_path / "data", per_class=3, kinds=("red_circles", "blue_squares"))
    big = root / "red_circles" / "big.jpg"
    big.write_bytes(jpeg_bytes(drawn_photo("red_circles", 7, size=(900, 700)), quality=95))
    monkeypatch.setenv("CATBREED_FILE_MB", str((big.stat().st_size - 1) / 1024**2))
    read = []
    monkeypatch.setattr(type(big), "read_bytes", lambda self: read.append(self.name) or open(self, "rb").read())
    dataset = check_folder(root)
    assert [s.name for s in dataset.skipped] == ["red_circles/big.jpg"]
    assert str(dataset.skipped[0].reason).startswith("larger than ")
    assert "big.jpg" not in read and len(read) == 6


def test_an_upload_with_too_many_pixels_in_all_is_refused_by_its_own_name(tmp_path, monkeypatch):
    root = make_dataset_folder(tmp_path / "data", per_class=3, kinds=("red_circles", "blue_squares"))
    archive = zip_folder(root, tmp_path / "holiday cats.zip")
    monkeypatch.setenv("CATBREED_UPLOAD_MEGAPIXELS", str(5 * 160 * 120 / 1e6))  # five of the six photos
    with pytest.raises(CatbreedError, match="'holiday cats.zip' holds more than 0.096 megapixels of photos in all"):
        open_dataset(archive, tmp_path / "out")
    monkeypatch.setenv("CATBREED_UPLOAD_MEGAPIXELS", str(6 * 160 * 120 / 1e6))
    assert len(open_dataset(archive, tmp_path / "out2").photos) == 6


def test_an_upload_larger_than_the_limit_is_refused_by_its_own_name(tmp_path, monkeypatch, shapes_zip):
    from catbreed.data.dataset import open_uploaded_archive
    from catbreed.paths import temp_root

    monkeypatch.setenv("CATBREED_HOME", str(tmp_path))
    monkeypatch.setenv("CATBREED_UPLOAD_MB", str(shapes_zip.stat().st_size / 2 / 1024**2))
    with open(shapes_zip, "rb") as stream, pytest.raises(CatbreedError, match=f"'{shapes_zip.name}' is 0 MB; uploads"):
        open_uploaded_archive(stream)
    assert list(temp_root().iterdir()) == []

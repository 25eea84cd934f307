import stat
import zipfile
from pathlib import Path

import pytest
from conftest import drawn_photo, jpeg_bytes

from catbreed.data import archive
from catbreed.data.archive import extract_zip
from catbreed.errors import CatbreedError

PHOTO = jpeg_bytes(drawn_photo("red_circles", 0))


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_extracts_breed_folders(tmp_path):
    zpath = make_zip(tmp_path / "a.zip", {"Siamese/1.jpg": PHOTO, "Bengal/1.jpg": PHOTO})
    out = tmp_path / "out"
    extract_zip(zpath, out)
    assert files_under(out) == {"Siamese/1.jpg", "Bengal/1.jpg"}


@pytest.mark.parametrize(
    "name", ["../evil.jpg", "Siamese/../../evil.jpg", "/tmp/evil.jpg", "..\\evil.jpg", "C:/evil.jpg"]
)
def test_zip_slip_names_are_refused_and_nothing_is_written_outside(tmp_path, name):
    zpath = make_zip(tmp_path / "slip.zip", {"Siamese/1.jpg": PHOTO, name: PHOTO})
    out = tmp_path / "deep" / "out"
    out.mkdir(parents=True)
    with pytest.raises(CatbreedError, match="unsafe path"):
        extract_zip(zpath, out)
    assert not list(tmp_path.rglob("evil.jpg"))
    assert not Path("/tmp/evil.jpg").exists()


def test_symlink_members_are_skipped_not_followed(tmp_path):
    zpath = tmp_path / "link.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("Siamese/1.jpg", PHOTO)
        link = zipfile.ZipInfo("Siamese/passwd.jpg")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    out = tmp_path / "out"
    result = extract_zip(zpath, out)
    assert files_under(out) == {"Siamese/1.jpg"}
    assert not any(p.is_symlink() for p in out.rglob("*"))
    assert [(n, str(r)) for n, r in result.skipped] == [("Siamese/passwd.jpg", "symbolic link (not followed)")]


def test_zip_bomb_is_refused_before_extracting(tmp_path):
    zpath = make_zip(tmp_path / "bomb.zip", {"Siamese/1.jpg": PHOTO, "Siamese/bomb.jpg": bytes(20 * 1024**2)})
    assert zpath.stat().st_size < 100_000
    out = tmp_path / "out"
    with pytest.raises(CatbreedError, match="zip bomb"):
        extract_zip(zpath, out)
    assert not out.exists() or not files_under(out)


def test_absurd_totals_and_member_counts_are_refused(tmp_path, monkeypatch):
    zpath = make_zip(tmp_path / "many.zip", {f"Siamese/{i}.jpg": PHOTO for i in range(5)})
    monkeypatch.setenv("CATBREED_ARCHIVE_ENTRIES", "4")
    with pytest.raises(CatbreedError, match="'many.zip' holds 5 entries; the limit is 4"):
        extract_zip(zpath, tmp_path / "a")
    monkeypatch.setenv("CATBREED_ARCHIVE_ENTRIES", "100")
    monkeypatch.setenv("CATBREED_UNPACKED_GB", str(2 * len(PHOTO) / 1024**3))
    with pytest.raises(CatbreedError, match="'many.zip' would unpack to"):
        extract_zip(zpath, tmp_path / "b")


def test_the_entry_count_is_read_before_the_directory_is_listed(tmp_path, monkeypatch):
    zpath = make_zip(tmp_path / "many.zip", {f"Siamese/{i}.jpg": b"x" for i in range(300)})
    assert archive.entry_count(zpath) == 300
    monkeypatch.setenv("CATBREED_ARCHIVE_ENTRIES", "299")

    def listing(*args, **kwargs):
        raise AssertionError("the directory was listed")

    monkeypatch.setattr(zipfile, "ZipFile", listing)
    with pytest.raises(CatbreedError, match="holds 300 entries; the limit is 299. Split it into smaller zips"):
        extract_zip(zpath, tmp_path / "out")


def test_the_entry_count_of_a_zip64_archive_comes_from_its_own_end_record(tmp_path, monkeypatch):
    zpath = tmp_path / "z64.zip"
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 2)  # write the zip64 records large archives carry
    make_zip(zpath, {f"Siamese/{i}.jpg": PHOTO for i in range(3)})
    raw = bytearray(zpath.read_bytes())
    assert raw.rfind(b"PK\x06\x06") > 0
    end = raw.rfind(b"PK\x05\x06")
    raw[end + 8 : end + 12] = b"\xff\xff\xff\xff"  # "see the zip64 record", as archives of 65,535+ entries say
    zpath.write_bytes(bytes(raw))
    assert archive.entry_count(zpath) == 3


def test_many_small_members_that_grow_a_thousandfold_in_all_are_refused(tmp_path):
    # 80 members of 1 MiB of zeros: each is at the per-member threshold, the archive as a whole (80 MiB,
    # past the 64 MiB from which its ratio counts) is a bomb.
    zpath = make_zip(tmp_path / "zeros.zip", {f"Siamese/{i}.jpg": bytes(1024**2) for i in range(80)})
    assert zpath.stat().st_size < 160_000
    out = tmp_path / "out"
    with pytest.raises(CatbreedError, match="'zeros.zip' looks like a zip bomb: it would grow"):
        extract_zip(zpath, out)
    assert not out.exists()


def test_a_member_that_lies_about_its_size_cannot_outgrow_the_limit(tmp_path, monkeypatch):
    zpath = make_zip(tmp_path / "liar.zip", {"Siamese/1.jpg": PHOTO * 4})
    monkeypatch.setattr(archive, "_check_directory", lambda *args: None)  # as if the directory lied
    monkeypatch.setenv("CATBREED_UNPACKED_GB", str(len(PHOTO) / 1024**3))
    with pytest.raises(CatbreedError, match="more than its directory claims"):
        extract_zip(zpath, tmp_path / "out")


def test_files_larger_than_a_photo_can_be_are_skipped_without_being_read(tmp_path, monkeypatch):
    zpath = make_zip(tmp_path / "big.zip", {"Siamese/1.jpg": PHOTO, "Siamese/huge.tif": PHOTO * 3})
    monkeypatch.setenv("CATBREED_FILE_MB", str(2 * len(PHOTO) / 1024**2))
    out = tmp_path / "out"
    result = extract_zip(zpath, out)
    assert files_under(out) == {"Siamese/1.jpg"}
    assert [name for name, _ in result.skipped] == ["Siamese/huge.tif"]
    assert str(result.skipped[0][1]).startswith("larger than ")


def test_a_member_that_lies_about_its_own_size_is_cut_off_at_the_photo_limit(tmp_path, monkeypatch):
    zpath = make_zip(tmp_path / "liar.zip", {"Siamese/1.jpg": PHOTO, "Siamese/2.jpg": PHOTO * 3})
    raw = bytearray(zpath.read_bytes())
    directory = raw.find(b"PK\x01\x02", raw.find(b"PK\x01\x02") + 1)  # the second member's entry
    raw[directory + 24 : directory + 28] = len(PHOTO).to_bytes(4, "little")  # claims one photo's size
    zpath.write_bytes(bytes(raw))
    monkeypatch.setenv("CATBREED_FILE_MB", str(2 * len(PHOTO) / 1024**2))
    out = tmp_path / "out"
    result = extract_zip(zpath, out)
    assert files_under(out) == {"Siamese/1.jpg"}
    assert result.skipped[0][0] == "Siamese/2.jpg"


@pytest.mark.parametrize(
    ("members", "skipped", "reason"),
    [
        ({"Siamese": PHOTO, "Siamese/1.jpg": PHOTO}, "Siamese/1.jpg", "clashes with a file or folder"),
        ({"x" * 300 + "/1.jpg": PHOTO, "Siamese/1.jpg": PHOTO}, "x" * 300 + "/1.jpg", "name too long"),
    ],
    ids=["file-where-a-folder-must-go", "folder-name-too-long"],
)
def test_members_that_cannot_be_written_here_are_skipped_with_the_reason(tmp_path, members, skipped, reason):
    zpath = make_zip(tmp_path / "odd.zip", members)
    result = extract_zip(zpath, tmp_path / "out")
    assert [name for name, _ in result.skipped] == [skipped]
    assert reason in str(result.skipped[0][1])


def test_photos_with_names_too_long_for_the_disk_are_kept_under_a_shorter_one(tmp_path):
    long_names = ["Siamese/" + "x" * 300 + ".jpg", "Siamese/" + "x" * 300 + "y.jpg", "Siamese/" + "é" * 200 + ".png"]
    result = extract_zip(make_zip(tmp_path / "long.zip", dict.fromkeys(long_names, PHOTO)), tmp_path / "out")
    kept = sorted(files_under(tmp_path / "out"))
    assert result.skipped == [] and len(kept) == 3  # two names sharing their first 170 bytes stay apart
    assert all(len(name.split("/")[1].encode()) <= 180 for name in kept)
    assert [Path(name).suffix for name in kept] == [".jpg", ".jpg", ".png"]


def test_names_flagged_utf8_that_are_not_get_a_message(tmp_path):
    zpath = make_zip(tmp_path / "bad names.zip", {"Siamese/caf\u00e9.jpg": PHOTO})
    raw = zpath.read_bytes().replace("caf\u00e9".encode(), b"caf\xff\xfe")  # the flag says UTF-8; \xff is not
    zpath.write_bytes(raw)
    with pytest.raises(CatbreedError, match="'bad names.zip' has file names marked as UTF-8 that are not"):
        extract_zip(zpath, tmp_path / "out")


def test_encrypted_archives_are_refused(tmp_path):
    zpath = make_zip(tmp_path / "secret.zip", {"Siamese/1.jpg": PHOTO})
    raw = bytearray(zpath.read_bytes())
    # Python cannot write encrypted zips: set the "encrypted" flag in the local and central headers.
    raw[raw.find(b"PK\x03\x04") + 6] |= 0x1
    raw[raw.find(b"PK\x01\x02") + 8] |= 0x1
    zpath.write_bytes(bytes(raw))
    with pytest.raises(CatbreedError, match="encrypted"):
        extract_zip(zpath, tmp_path / "out")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"PK\x03\x04 not really", "not a readable zip"), (b"just text", "not a readable zip")],
    ids=["empty-file", "fake-zip", "text"],
)
def test_files_that_are_not_zips_get_a_clear_error(tmp_path, content, message):
    path = tmp_path / "data.zip"
    path.write_bytes(content)
    with pytest.raises(CatbreedError, match=message):
        extract_zip(path, tmp_path / "out")


def test_truncated_zip_gets_a_clear_error(tmp_path):
    zpath = make_zip(tmp_path / "t.zip", {"Siamese/1.jpg": PHOTO, "Bengal/1.jpg": PHOTO})
    zpath.write_bytes(zpath.read_bytes()[: zpath.stat().st_size // 2])
    with pytest.raises(CatbreedError, match="truncated"):
        extract_zip(zpath, tmp_path / "out")


def test_zip_without_members_gets_a_clear_error(tmp_path):
    zpath = make_zip(tmp_path / "none.zip", {})
    with pytest.raises(CatbreedError, match="holds no files"):
        extract_zip(zpath, tmp_path / "out")


def test_a_damaged_member_is_skipped_and_the_rest_extracted(tmp_path):
    zpath = make_zip(tmp_path / "d.zip", {"Siamese/1.jpg": PHOTO, "Siamese/2.jpg": PHOTO})
    raw = bytearray(zpath.read_bytes())
    second = raw.find(b"Siamese/2.jpg") + len("Siamese/2.jpg")
    raw[second + 50 : second + 80] = bytes(30)  # corrupt the second member's compressed bytes
    zpath.write_bytes(bytes(raw))
    out = tmp_path / "out"
    result = extract_zip(zpath, out)
    assert files_under(out) == {"Siamese/1.jpg"}
    assert [(n, str(r)) for n, r in result.skipped] == [("Siamese/2.jpg", "damaged in the archive")]


def test_unicode_names_survive_with_or_without_the_utf8_flag(tmp_path):
    zpath = tmp_path / "u.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("Chartreux été/1.jpg", PHOTO)  # Python sets the UTF-8 flag
        legacy = zipfile.ZipInfo("Sibirskaya/1.jpg")
        zf.writestr(legacy, PHOTO)
    raw = zpath.read_bytes().replace(b"Sibirskaya", "Сибирская".encode()[:10])
    zpath.write_bytes(raw)
    out = tmp_path / "out"
    extract_zip(zpath, out)
    names = files_under(out)
    assert "Chartreux été/1.jpg" in names
    assert "Сибир/1.jpg" in names  # UTF-8 bytes without the flag are read as UTF-8, not cp437


def test_a_colon_in_a_folder_name_is_a_name_not_a_drive(tmp_path):
    zpath = make_zip(tmp_path / "colon.zip", {"Persian: long hair/1.jpg": PHOTO, "Bengal/1.jpg": PHOTO})
    out = tmp_path / "out"
    extract_zip(zpath, out)
    assert files_under(out) == {"Persian: long hair/1.jpg", "Bengal/1.jpg"}

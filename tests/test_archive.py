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
    assert result.skipped == [("Siamese/passwd.jpg", "symbolic link (not followed)")]


def test_zip_bomb_is_refused_before_extracting(tmp_path):
    zpath = make_zip(tmp_path / "bomb.zip", {"Siamese/1.jpg": PHOTO, "Siamese/bomb.jpg": bytes(20 * 1024**2)})
    assert zpath.stat().st_size < 100_000
    out = tmp_path / "out"
    with pytest.raises(CatbreedError, match="zip bomb"):
        extract_zip(zpath, out)
    assert not out.exists() or not files_under(out)


def test_absurd_totals_and_member_counts_are_refused(tmp_path, monkeypatch):
    zpath = make_zip(tmp_path / "many.zip", {f"Siamese/{i}.jpg": PHOTO for i in range(5)})
    monkeypatch.setattr(archive, "MAX_MEMBERS", 4)
    with pytest.raises(CatbreedError, match="5 entries; the limit is 4"):
        extract_zip(zpath, tmp_path / "a")
    monkeypatch.setattr(archive, "MAX_MEMBERS", 100)
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 2 * len(PHOTO))
    with pytest.raises(CatbreedError, match="would unpack to"):
        extract_zip(zpath, tmp_path / "b")


def test_a_member_that_lies_about_its_size_cannot_outgrow_the_limit(tmp_path, monkeypatch):
    zpath = make_zip(tmp_path / "liar.zip", {"Siamese/1.jpg": PHOTO * 4})
    monkeypatch.setattr(archive, "_check_directory", lambda members, name: None)  # as if the directory lied
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", len(PHOTO))
    with pytest.raises(CatbreedError, match="more than its directory claims"):
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
    assert result.skipped == [("Siamese/2.jpg", "damaged in the archive")]


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

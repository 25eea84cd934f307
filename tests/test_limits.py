import tomllib
from pathlib import Path

import pytest

from catbreed.errors import CatbreedError
from catbreed.limits import Limits, limits

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_hold_until_the_operator_sets_a_variable(monkeypatch):
    assert limits() == Limits()
    monkeypatch.setenv("CATBREED_ARCHIVE_ENTRIES", "1000")
    monkeypatch.setenv("CATBREED_FILE_MB", "2.5")
    assert limits().archive_entries == 1000 and limits().file_bytes == int(2.5 * 1024**2)


@pytest.mark.parametrize("raw", ["lots", "0", "-3"])
def test_a_limit_that_is_not_a_positive_number_is_named_in_the_message(monkeypatch, raw):
    monkeypatch.setenv("CATBREED_KEEP_JOBS_HOURS", raw)
    with pytest.raises(CatbreedError, match=f"CATBREED_KEEP_JOBS_HOURS='{raw}' is not a positive number"):
        limits()


def test_streamlit_accepts_uploads_exactly_as_large_as_the_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == Limits().upload_mb

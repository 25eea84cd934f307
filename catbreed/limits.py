"""What one person's upload or training may cost a shared server, and how long finished work is kept.

Each limit has a default that suits a laptop or a small server and can be changed by the operator
with an environment variable named after it (`CATBREED_ARCHIVE_ENTRIES=100000`). They are read
when used, not at import, so a changed variable takes effect on the next upload. The upload size
Streamlit accepts is its own setting (`server.maxUploadSize` in .streamlit/config.toml, or
STREAMLIT_SERVER_MAX_UPLOAD_SIZE); keep it equal to `upload_mb`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from catbreed.errors import CatbreedError

ENV_PREFIX = "CATBREED_"


@dataclass(frozen=True)
class Limits:
    # The largest upload (a zip of photos), as Streamlit's own setting should say. Not 512: Streamlit
    # writes any limit over 500 MB in whole gigabytes, and 512 MB would read "1GB per file".
    upload_mb: float = 500
    archive_entries: int = 50_000  # read from the zip's end record before its directory is listed
    unpacked_gb: float = 8.0  # all of a zip's files together, as its directory claims and as written
    # Photos barely compress: a zip that grows more than this as a whole is mostly something else.
    # Checked once it unpacks to more than `ratio_from_mb`, since tiny archives compress oddly without harm.
    archive_ratio: float = 20.0
    ratio_from_mb: float = 64.0
    file_mb: float = 50.0  # one photo; a phone's largest JPEG is about 15 MB
    # One photo's pixels, which bound the time it costs to decode (data/images.pixel_limit): a JPEG
    # decodes at a reduced scale, a PNG, WebP, GIF, TIFF or BMP whole, so theirs is lower.
    photo_megapixels: float = 50.0
    full_decode_megapixels: float = 12.0
    upload_megapixels: float = 20_000.0  # all photos of one upload; 2,000 photos of 10 megapixels
    keep_jobs_hours: float = 24.0  # a finished training (its result, until saved) stays this long
    waiting_per_person: int = 2  # trainings one person may have waiting at once (one more may run)
    keep_datasets_days: float = 90.0  # a data set nobody opened for this long is deleted
    dataset_mb: float = 2048.0  # the photos of one data set together (the 1,799 Oxford cats: 74 MB)
    burst_photos: int = 100  # photos one hold of the camera's record button adds: ten seconds of frames
    datasets_per_person: int = 50  # data sets one person keeps (the command line's are the house's)

    @property
    def file_bytes(self) -> int:
        return int(self.file_mb * 1024**2)

    @property
    def unpacked_bytes(self) -> int:
        return int(self.unpacked_gb * 1024**3)

    @staticmethod
    def env_name(field: str) -> str:
        return ENV_PREFIX + field.upper()


def limits() -> Limits:
    """The limits now: the defaults, with any set by environment variables."""
    values = {}
    for field in dataclasses.fields(Limits):
        raw = os.environ.get(Limits.env_name(field.name))
        if raw is None or not raw.strip():
            continue
        kind = int if field.type == "int" else float
        try:
            value = kind(raw)
        except ValueError:
            value = -1
        if value <= 0:
            raise CatbreedError("limits.not_positive", variable=Limits.env_name(field.name), value=repr(raw))
        values[field.name] = value
    return Limits(**values)

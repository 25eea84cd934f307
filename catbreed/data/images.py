"""Opening untrusted image files: whatever the extension says, whatever Pillow can read.

Every photo goes through `open_rgb`: the header is read first and images with too many pixels are
refused before a byte of pixel data is decoded (decompression bombs), EXIF orientation is applied,
the first frame of an animation is taken, and greyscale, palette and alpha become plain RGB.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from catbreed.limits import limits
from catbreed.messages import Message, message

MIN_SIDE = 32  # smaller than this holds too little of a cat to learn from

# Reasons a photo is skipped, as messages (catbreed/messages.py): the data report shows them.
NOT_AN_IMAGE = message("image.not_an_image")
CORRUPT = message("image.corrupt")
TRUNCATED = message("image.truncated")
EMPTY = message("image.empty")
TOO_SMALL = message("image.too_small", side=MIN_SIDE)

ImageSource = str | Path | bytes | Image.Image
T = TypeVar("T")
# Pillow's formats a photo may come in, as each is saved (a data set keeps a photo's own format),
# and the file name endings an upload box accepts for them.
FORMAT_SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif"}
PHOTO_TYPES = ("jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff")


def too_many_pixels(megapixels: float, image_format: str | None = None) -> Message:
    """The reason a photo over the limit is skipped; `image_format` names a format decoded whole."""
    if image_format:
        return message("image.too_many_pixels_for_format", megapixels=megapixels, format=image_format)
    return message("image.too_many_pixels", megapixels=megapixels)


def pixel_limit(image_format: str | None) -> tuple[float, str | None]:
    """(megapixels allowed, the format when its own lower limit applies). A JPEG decodes at up to
    1/8 scale for the network (a 48-megapixel one in about 0.1 s here); other formats decode
    whole (a 12-megapixel PNG takes up to 0.4 s), so they get the lower limit."""
    limit = limits()
    if image_format != "JPEG" and limit.full_decode_megapixels < limit.photo_megapixels:
        return limit.full_decode_megapixels, image_format
    return limit.photo_megapixels, None


class ImageProblem(ValueError):
    """A file that cannot be used as a photo; `reason` is one of the constants above."""

    def __init__(self, reason: Message):
        super().__init__(str(reason))
        self.reason = reason


def _open_unchecked(source: ImageSource) -> Image.Image:
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, bytes):
        if not source:
            raise ImageProblem(EMPTY)
        return Image.open(io.BytesIO(source))
    path = Path(source)
    if path.stat().st_size == 0:
        raise ImageProblem(EMPTY)
    return Image.open(path)


def open_rgb(source: ImageSource, draft_size: int | None = None) -> Image.Image:
    """Decode `source` into an RGB image, or raise ImageProblem saying why it is unusable.

    `draft_size` lets JPEGs decode at a reduced scale (1/2 .. 1/8) that is still at least that
    many pixels on each side: a 12-megapixel photo destined for 224 px decodes several times faster.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = _open_unchecked(source)
        width, height = image.size
        megapixels, whole = pixel_limit(image.format)
        if width * height > megapixels * 1_000_000:  # read from the header: nothing decoded yet
            raise ImageProblem(too_many_pixels(megapixels, whole))
        if min(width, height) < MIN_SIDE:
            raise ImageProblem(TOO_SMALL)
        if draft_size and image.format == "JPEG":
            image.draft("RGB", (draft_size, draft_size))
        image.seek(0)
        image.load()
        image = ImageOps.exif_transpose(image)
        return _to_rgb(image)
    except ImageProblem:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # beyond any limit of ours
        raise ImageProblem(too_many_pixels(Image.MAX_IMAGE_PIXELS / 1_000_000)) from None
    except UnidentifiedImageError:
        raise ImageProblem(NOT_AN_IMAGE) from None
    except OSError as error:
        if "truncated" in str(error).lower():
            raise ImageProblem(TRUNCATED) from None
        raise ImageProblem(CORRUPT) from None
    except (SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error):
        raise ImageProblem(CORRUPT) from None


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent parts become white, as a photo viewer shows them, not black.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits before Pillow's clipping conversion.
        array = np.asarray(image, dtype=np.float32)
        array = 255 * (array - array.min()) / max(float(np.ptp(array)), 1.0)
        image = Image.fromarray(array.astype(np.uint8))
    return image.convert("RGB")


def to_model_input(image: Image.Image, size: int) -> np.ndarray:
    """uint8 (size, size, 3): the central square of the photo, as ImageNet models were trained on.

    Measured on the Oxford-IIIT cats, this beats squeezing the whole photo into the square
    (93.8% against 91.8% held-out accuracy): a squeezed cat has the wrong proportions.
    """
    width, height = image.size
    side = min(width, height)
    box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
    resized = image.resize((size, size), Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)
    return np.asarray(resized, dtype=np.uint8)


def stored_pixels(data: bytes) -> int:
    """Width x height of the image as stored, from its header alone (call after `open_rgb`
    accepted it: a reduced decode's size says less)."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    return width * height


def perceptual_hash(image: Image.Image) -> int:
    """64-bit difference hash (dHash) of the central square: one bit per pair of neighbouring
    pixels in a 9x8 grey thumbnail, set where brightness falls to the right. Resized, re-encoded or
    slightly edited copies of a photo differ in a few bits; unrelated photos in about 32."""
    grey = np.asarray(Image.fromarray(to_model_input(image, 64)).convert("L").resize((9, 8), Image.Resampling.BOX))
    bits = (grey[:, :-1] > grey[:, 1:]).flatten()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def load_for_model(source: ImageSource, size: int) -> np.ndarray:
    return to_model_input(open_rgb(source, draft_size=size), size)


def thumbnail(source: ImageSource, size: int = 160) -> Image.Image:
    """A small square RGB copy for display: the central square the model sees."""
    return Image.fromarray(load_for_model(source, size))


def iter_image_batches(
    sources: Sequence[T], size: int, batch_size: int, read: Callable[[T], ImageSource] = lambda source: source
) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Yield (index of the first, uint8 (size, size, 3) images) batch by batch; `read` turns each
    of `sources` into an ImageSource (in the decoding threads).

    Pillow releases the GIL while decoding, so threads decode the next batch while the caller
    runs the current one through the network, and both cores stay busy.
    """
    starts = range(0, len(sources), batch_size)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:

        def decode(start: int):
            return pool.map(lambda s: load_for_model(read(s), size), sources[start : start + batch_size])

        upcoming = decode(starts[0]) if starts else None
        for position, start in enumerate(starts):
            images = list(upcoming)
            upcoming = decode(starts[position + 1]) if position + 1 < len(starts) else None
            yield start, images


# Truncated files must fail, not be padded with grey and passed off as photos.
ImageFile.LOAD_TRUNCATED_IMAGES = False

import io

import numpy as np
import pytest
from conftest import drawn_photo, jpeg_bytes
from PIL import Image

from catbreed.data import images
from catbreed.data.images import ImageProblem, load_for_model, open_rgb


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"])
def test_every_common_format_opens_as_rgb_whatever_its_name(tmp_path, fmt):
    path = tmp_path / "photo.jpg"  # the extension lies for all but JPEG, as in real data
    path.write_bytes(encoded(drawn_photo("red_circles", 1), fmt))
    image = open_rgb(path)
    assert image.mode == "RGB" and image.size == (160, 120)


def test_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (64, 64), colour) for colour in ("red", "blue")]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    red, green, blue = open_rgb(data).getpixel((32, 32))
    assert red > 200 and blue < 50


def test_exif_orientation_is_applied():
    landscape = Image.new("RGB", (200, 100), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = jpeg_bytes(landscape, exif=exif.tobytes())
    assert open_rgb(data).size == (100, 200)


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "I;16", "1", "CMYK"])
def test_other_modes_become_rgb(mode):
    image = Image.new(mode, (64, 64))
    fmt = "TIFF" if mode in ("CMYK", "I;16") else "PNG"
    assert open_rgb(encoded(image, fmt)).mode == "RGB"


def test_transparent_pixels_become_white_not_black():
    clear = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    assert open_rgb(encoded(clear, "PNG")).getpixel((0, 0)) == (255, 255, 255)


def test_16_bit_greyscale_keeps_its_contrast():
    ramp = Image.fromarray(np.tile(np.linspace(0, 65535, 64, dtype=np.uint16), (64, 1)))
    pixels = np.asarray(open_rgb(encoded(ramp, "PNG")))
    assert pixels[:, 0].max() < 10 and pixels[:, -1].min() > 245


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", images.EMPTY),
        (b"hello, I am a text file\n", images.NOT_AN_IMAGE),
        (jpeg_bytes(drawn_photo("red_circles", 1))[:600], images.TRUNCATED),
        (encoded(Image.new("RGB", (20, 200)), "PNG"), images.TOO_SMALL),
    ],
    ids=["empty", "text", "truncated", "small"],
)
def test_unusable_files_say_why(data, reason):
    with pytest.raises(ImageProblem) as problem:
        open_rgb(data)
    assert problem.value.reason == reason


def test_corrupt_png_data_is_reported_as_corrupt():
    data = bytearray(encoded(drawn_photo("blue_squares", 2), "PNG"))
    pixels = data.find(b"IDAT") + 20
    data[pixels : pixels + 40] = bytes(range(200, 240))  # garble the compressed pixels, keep the header
    with pytest.raises(ImageProblem) as problem:
        open_rgb(bytes(data))
    assert problem.value.reason == images.CORRUPT


def test_pixel_bomb_is_refused_before_decoding(monkeypatch):
    bomb = encoded(Image.new("1", (8000, 6000)), "PNG")  # 48 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self))
    with pytest.raises(ImageProblem) as problem:
        open_rgb(bomb)
    assert (
        str(problem.value.reason) == "too many pixels (over 12 megapixels for a PNG photo; as a JPEG it may have more)"
    )
    assert decoded == []


def test_the_pixel_limits_bound_decoding_time_and_are_the_operators_to_set(monkeypatch):
    """A 39.5-megapixel PNG of 0.12 MB cost half a second to decode at every check; a JPEG of as
    many pixels decodes at 1/8 scale for the network. (Limits scaled down 40-fold here.)"""
    monkeypatch.setenv("CATBREED_PHOTO_MEGAPIXELS", "1.25")
    monkeypatch.setenv("CATBREED_FULL_DECODE_MEGAPIXELS", "0.3")
    flat_png = encoded(Image.new("RGB", (1150, 860), "grey"), "PNG")
    with pytest.raises(ImageProblem, match=r"over 0.3 megapixels for a PNG photo; as a JPEG it may have more"):
        open_rgb(flat_png)
    big_jpeg = encoded(Image.new("RGB", (1150, 860), "grey"), "JPEG")
    assert open_rgb(big_jpeg, draft_size=64).size == (144, 108)
    monkeypatch.setenv("CATBREED_PHOTO_MEGAPIXELS", "0.75")
    with pytest.raises(ImageProblem, match=r"^too many pixels \(over 0.75 megapixels\)$"):
        open_rgb(big_jpeg)
    monkeypatch.setenv("CATBREED_FULL_DECODE_MEGAPIXELS", "1")
    with pytest.raises(ImageProblem, match=r"^too many pixels \(over 0.75 megapixels\)$"):  # the lower applies
        open_rgb(flat_png)
    monkeypatch.delenv("CATBREED_PHOTO_MEGAPIXELS")
    assert open_rgb(flat_png).size == (1150, 860)


def test_the_model_sees_the_central_square_of_the_photo():
    photo = Image.new("RGB", (300, 100), "red")
    photo.paste(Image.new("RGB", (100, 100), "blue"), (100, 0))
    pixels = load_for_model(photo, 50)
    inside = pixels[1:-1, 1:-1]  # the outermost pixels may blend with what lies beyond the box
    assert (inside[..., 2] > 250).all() and (inside[..., 0] < 5).all()


def test_load_for_model_gives_square_uint8_pixels_from_path_bytes_or_pil(tmp_path):
    photo = drawn_photo("green_bars", 3, size=(640, 480))
    path = tmp_path / "p.jpg"
    path.write_bytes(jpeg_bytes(photo))
    for source in (path, str(path), path.read_bytes(), photo):
        pixels = load_for_model(source, 224)
        assert pixels.shape == (224, 224, 3) and pixels.dtype == np.uint8


def test_draft_decoding_of_large_jpegs_still_gives_the_same_picture():
    big = drawn_photo("red_circles", 4, size=(2400, 1800))
    fast = load_for_model(jpeg_bytes(big, quality=95), 224).astype(int)
    exact = np.asarray(big.resize((224, 224), Image.Resampling.BILINEAR, box=(300, 0, 2100, 1800))).astype(int)
    assert np.abs(fast - exact).mean() < 6

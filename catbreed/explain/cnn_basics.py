"""The building blocks of a CNN on small arrays, step by step, for the Learn page.

Everything here is plain NumPy on grey images (float32 (H, W)), small enough to print: the same
sums a convolutional layer does millions of times, one at a time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from catbreed.data.images import to_model_input

KERNELS: dict[str, np.ndarray] = {
    "edges": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32),
    "vertical edges": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
    "horizontal edges": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
    "blur": np.full((3, 3), 1 / 9, dtype=np.float32),
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32),
}


def demo_photo() -> bytes:
    """PNG bytes of a drawn cat face: the Learn page's picture until the user gives a photo."""
    fur, eyes = (120, 90, 60), (230, 200, 60)
    image = Image.new("RGB", (224, 224), (235, 228, 215))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 60, 184, 200), fill=fur)
    draw.polygon([(45, 90), (60, 20), (100, 70)], fill=fur)
    draw.polygon([(179, 90), (164, 20), (124, 70)], fill=fur)
    for x in (85, 139):
        draw.ellipse((x - 12, 105, x + 12, 129), fill=eyes)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def to_grey(image: Image.Image, size: int) -> np.ndarray:
    """float32 (size, size) in 0..1: the photo's central square, as the network sees it, in grey."""
    return np.asarray(Image.fromarray(to_model_input(image, size)).convert("L"), dtype=np.float32) / 255


def convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Slide `kernel` (k, k) over `image` (H, W) without padding: (H-k+1, W-k+1).

    Like a CNN layer this is cross-correlation: the kernel is not flipped.
    """
    k = kernel.shape[0]
    windows = np.lib.stride_tricks.sliding_window_view(image, (k, k))
    return np.einsum("ijkl,kl->ij", windows, kernel).astype(np.float32)


@dataclass(frozen=True)
class WindowProduct:
    window: np.ndarray  # (k, k) pixels under the kernel
    kernel: np.ndarray  # (k, k) weights

    @property
    def products(self) -> np.ndarray:
        return self.window * self.kernel

    @property
    def total(self) -> float:
        """The output value at this position."""
        return float(self.products.sum())

    def written_out(self) -> str:
        """'0.20×-1 + 0.30×0 + … = 0.85': the sum that one output pixel is."""
        terms = " + ".join(f"{p:.2f}×{w:g}" for p, w in zip(self.window.ravel(), self.kernel.ravel()))
        return f"{terms} = {self.total:.2f}"


def window_product(image: np.ndarray, kernel: np.ndarray, row: int, col: int) -> WindowProduct:
    """The single dot product giving output pixel (row, col) of `convolve(image, kernel)`."""
    k = kernel.shape[0]
    return WindowProduct(image[row : row + k, col : col + k], kernel)


def relu(x: np.ndarray) -> np.ndarray:
    """Negative values become 0: a neuron either fires by some amount or stays silent."""
    return np.maximum(x, 0)


def max_pool(x: np.ndarray, size: int = 2) -> np.ndarray:
    """Keep the largest value of each size x size block: (H, W) -> (H // size, W // size)."""
    h, w = (x.shape[0] // size) * size, (x.shape[1] // size) * size
    return x[:h, :w].reshape(h // size, size, w // size, size).max(axis=(1, 3))


@dataclass(frozen=True)
class PerceptronOutput:
    weighted_sum: float
    fires: bool


def perceptron(inputs: np.ndarray, weights: np.ndarray, threshold: float) -> PerceptronOutput:
    """Rosenblatt's perceptron: fire (1) when the weighted sum of the inputs reaches the threshold."""
    total = float(np.dot(inputs, weights))
    return PerceptronOutput(total, total >= threshold)


def to_display(x: np.ndarray) -> np.ndarray:
    """uint8 (H, W) of any float array, stretched to the full grey range for showing."""
    low, high = float(x.min()), float(x.max())
    return ((x - low) / (high - low or 1) * 255).astype(np.uint8)

"""Image decoding and resizing shared by the image-folder loaders (Chars74K, user folders)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from munas.data.errors import DataError
from munas.data.progress import progress

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".ppm", ".pgm", ".webp")


def read_image(path: Path, mode: str) -> np.ndarray:
    """Decode ``path`` into a uint8 array (h, w, c) in PIL ``mode`` ("RGB" or "L")."""
    from PIL import Image, UnidentifiedImageError  # imported by loaders only: listing data sets needs no PIL

    try:
        with Image.open(path) as image:
            array = np.asarray(image.convert(mode))
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise DataError(f"{path}: cannot decode the image ({error}); replace or remove the file") from error
    return array[..., None] if array.ndim == 2 else array


def bilinear_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize (h, w, c) ``image`` with bilinear interpolation and half-pixel centres, no antialiasing.

    Source coordinate of output pixel i is ``max(0, (i + 0.5) * in / out - 0.5)``, interpolated
    between its two neighbouring pixels (the last one repeated at the edge). This is what
    ``tf.image.resize(..., "bilinear")`` computes in TensorFlow 2, the resize μNAS applies to
    Chars74K, and what ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``
    computes. Returns float32.
    """
    image = image.astype(np.float32, copy=False)

    def axis_weights(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        source = np.maximum((np.arange(size_out, dtype=np.float64) + 0.5) * (size_in / size_out) - 0.5, 0.0)
        low = np.minimum(np.floor(source).astype(np.int64), size_in - 1)
        high = np.minimum(low + 1, size_in - 1)
        return low, high, (source - low).astype(np.float32)

    y0, y1, fy = axis_weights(image.shape[0], height)
    x0, x1, fx = axis_weights(image.shape[1], width)
    rows = image[y0] * (1 - fy)[:, None, None] + image[y1] * fy[:, None, None]
    return rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]


def load_resized_images(paths: Sequence[Path], height: int, width: int, mode: str, description: str) -> np.ndarray:
    """Decode and resize every image to (n, height, width, c) float32 in [0, 255], in order.

    Decoding runs on a thread pool (Pillow releases the GIL while decoding) with a progress bar.
    """

    def one(path: Path) -> np.ndarray:
        # Interpolation stays within the pixel range but for float rounding (255.00003); clip it.
        return np.clip(bilinear_resize(read_image(path, mode), height, width), 0.0, 255.0)

    channels = 3 if mode == "RGB" else 1
    out = np.empty((len(paths), height, width, channels), dtype=np.float32)
    with ThreadPoolExecutor() as pool, progress(description, total=len(paths)) as advance:
        for index, image in enumerate(pool.map(one, paths)):
            out[index] = image
            advance()
    return out

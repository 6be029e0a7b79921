import numpy as np
import pytest
import torch
from PIL import Image

from munas.data import DataError
from munas.data.chars74k import FOLDER, image_paths
from munas.data.images import bilinear_resize, load_resized_images, read_image
from munas.data.testing import real_data_dir


def real_images(count):
    found = image_paths(real_data_dir("chars74k") / FOLDER)
    return [path for path, _ in found[:: len(found) // count][:count]]


@pytest.mark.parametrize("size", [(48, 48), (7, 100), (200, 31)])
def test_bilinear_resize_matches_torch_half_pixel_bilinear(size):
    for path in real_images(6):
        image = read_image(path, "RGB").astype(np.float32)
        expected = torch.nn.functional.interpolate(torch.from_numpy(image).permute(2, 0, 1)[None], size,
                                                   mode="bilinear", align_corners=False, antialias=False)
        actual = bilinear_resize(image, *size)
        assert actual.shape == (*size, 3)
        np.testing.assert_allclose(actual, expected[0].permute(1, 2, 0).numpy(), atol=1e-3)


def test_resize_to_the_same_size_is_the_identity():
    image = read_image(real_images(1)[0], "RGB")
    assert np.array_equal(bilinear_resize(image, *image.shape[:2]), image.astype(np.float32))


def test_load_resized_images_keeps_order_and_channels():
    paths = real_images(5)
    batch = load_resized_images(paths, 12, 10, "L", "test")
    assert batch.shape == (5, 12, 10, 1)
    for index, path in enumerate(paths):
        np.testing.assert_array_equal(batch[index], np.clip(bilinear_resize(read_image(path, "L"), 12, 10), 0, 255))


def test_undecodable_image_is_a_data_error(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DataError, match=r"broken\.png: cannot decode the image"):
        read_image(path, "RGB")
    Image.new("RGB", (3, 2)).save(tmp_path / "ok.png")
    assert read_image(tmp_path / "ok.png", "RGB").shape == (2, 3, 3)

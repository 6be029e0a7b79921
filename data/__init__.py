"""Data sets for munas: built-in loaders, the user's own data, and the download cache.

``load_dataset(name_or_path, data_dir=None)`` returns a :class:`Dataset` of NCHW float32
tensors and int64 labels; ``list_datasets()`` names the built-in sets.
"""

from munas.data.dataset import Augmentation, Dataset
from munas.data.errors import DataError
from munas.data.registry import list_datasets, load_dataset, register_dataset

__all__ = ["Augmentation", "DataError", "Dataset", "list_datasets", "load_dataset", "register_dataset"]

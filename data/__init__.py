"""Data sets for munas: built-in loaders, the user's own data, and the download cache.

``load_dataset(name_or_path, data_dir=None)`` returns a :class:`Dataset` of NCHW float32
tensors and int64 labels; ``list_datasets()`` names the built-in sets; ``search_defaults``
gives the training preset, bounds and search size a data set declares. Importing this package
does not import torch.
"""

from munas.data.dataset import Augmentation, Dataset
from munas.data.defaults import SearchDefaults
from munas.data.errors import DataError
from munas.data.registry import list_datasets, load_dataset, register_dataset, search_defaults

__all__ = ["Augmentation", "DataError", "Dataset", "SearchDefaults", "list_datasets", "load_dataset",
           "register_dataset", "search_defaults"]

"""Registry of built-in data sets, in the style of timm's model registry.

Adding a data set is one new module with one decorated loader function; ``list_datasets``
and ``load_dataset`` find it by name. A name that is not registered but is an existing path is
loaded as the user's own data (an ``.npz`` file or a folder of class sub-folders).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from munas.data.dataset import Dataset
from munas.data.download import RemoteFile, resolve_data_dir
from munas.data.errors import DataError
from munas.data.user import load_user_dataset

Loader = Callable[[Path, bool], Dataset]
"""A loader takes the resolved data directory and whether it may download missing files."""


@dataclass(frozen=True)
class DatasetSource:
    """What the registry knows about one data set without loading it.

    ``requires`` are glob patterns relative to the data directory; the set counts as present
    when each matches at least one path. An empty ``requires`` means it needs no files.
    ``files`` are the files with published checksums that ``datasets NAME --verify`` checks.
    """

    name: str
    loader: Loader
    input_shape: tuple[int, int, int]
    num_classes: int
    description: str
    folder: str | None = None
    requires: tuple[str, ...] = ()
    files: tuple[RemoteFile, ...] = ()

    def location(self, data_dir: str | Path | None = None) -> str:
        """Where the files are looked for, for messages and the ``datasets`` table."""
        if self.folder is None:
            return "built in (no files needed)"
        return str(resolve_data_dir(data_dir) / self.folder)

    def is_present(self, data_dir: str | Path | None = None) -> bool:
        """Whether the files it needs are on disk (it may still fail its checks when loaded)."""
        root = resolve_data_dir(data_dir)
        return all(next(root.glob(pattern), None) is not None for pattern in self.requires)


_REGISTRY: dict[str, DatasetSource] = {}
_BUILTIN_MODULES = ("munas.data.digits", "munas.data.mnist", "munas.data.fashion_mnist", "munas.data.cifar10", "munas.data.chars74k", "munas.data.speech_commands")


def register_dataset(
    name: str,
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    description: str,
    folder: str | None = None,
    requires: tuple[str, ...] = (),
    files: tuple[RemoteFile, ...] = (),
) -> Callable[[Loader], Loader]:
    """Decorator that registers ``loader(data_dir, download) -> Dataset`` under ``name``."""

    def decorator(loader: Loader) -> Loader:
        if name in _REGISTRY:
            raise ValueError(f"data set {name!r} is registered twice")
        _REGISTRY[name] = DatasetSource(name, loader, input_shape, num_classes, description, folder, requires, files)
        return loader

    return decorator


def _ensure_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def list_datasets() -> list[str]:
    """Names of every registered data set, sorted."""
    _ensure_builtins()
    return sorted(_REGISTRY)


def get_source(name: str) -> DatasetSource:
    """The registry entry of ``name``; an unknown name is a :class:`DataError` listing valid names."""
    _ensure_builtins()
    if name not in _REGISTRY:
        raise _unknown_name_error(name)
    return _REGISTRY[name]


def _unknown_name_error(name: str) -> DataError:
    if Path(name).suffix or "/" in name or "\\" in name:
        return DataError(f"no such file or folder: {name} (give an .npz file with x_train, y_train, x_test, "
                         "y_test, or a folder with one sub-folder of images per class)")
    return DataError(f"unknown data set {name!r}: use one of {', '.join(sorted(_REGISTRY))}, "
                     "or a path to an .npz file or to a folder of class sub-folders of images")


def load_dataset(name_or_path: str, data_dir: str | Path | None = None, download: bool = True) -> Dataset:
    """Load a built-in data set by name, or the user's own data set by path.

    ``data_dir`` overrides ``MUNAS_DATA_DIR`` and the default user cache directory. Missing
    files of a built-in set with a known HTTPS source are downloaded there when ``download``
    is true; anything missing or corrupt raises a one-line :class:`DataError`.
    """
    _ensure_builtins()
    if name_or_path in _REGISTRY:
        return _REGISTRY[name_or_path].loader(resolve_data_dir(data_dir), download)
    path = Path(name_or_path).expanduser()
    if path.exists():
        return load_user_dataset(path)
    raise _unknown_name_error(name_or_path)

"""Registry of built-in data sets, in the style of timm's model registry.

Adding a data set is one new module in this package with one decorated loader function that
also declares the set's shapes, files and search defaults; ``list_datasets``, ``get_source``
and ``load_dataset`` find it by name. There is no list of modules to keep: the registry imports
every module of :mod:`munas.data` before its first lookup, and each module that declares a data
set registers it on import. Those modules therefore import only numpy and the standard library
at module level (torch, scikit-learn and PIL inside the functions that need them), so listing
the data sets stays cheap.

A name that is not registered but is an existing path is the user's own data (an ``.npz`` file
or a folder of class sub-folders), with the defaults :mod:`munas.data.user` declares.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from munas.data.dataset import Dataset
from munas.data.defaults import SearchDefaults
from munas.data.download import RemoteFile, resolve_data_dir
from munas.data.errors import DataError
from munas.data.user import USER_DEFAULTS, load_user_dataset
from munas.registry import Registry

Loader = Callable[[Path, bool], Dataset]
"""A loader takes the resolved data directory and whether it may download missing files."""


@dataclass(frozen=True)
class DatasetSource:
    """Everything the registry knows about one data set without loading it.

    ``requires`` are glob patterns relative to the data directory; the set counts as present
    when each matches at least one path. An empty ``requires`` means it needs no files.
    ``files`` are the files with published checksums that ``datasets NAME --verify`` checks.
    ``input_shape`` and ``num_classes`` are what the loader yields; they are also the shapes the
    resource-model stress tests draw networks for (:mod:`munas.space.stress`).
    """

    name: str
    loader: Loader
    input_shape: tuple[int, int, int]
    num_classes: int
    description: str
    defaults: SearchDefaults
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


def _import_every_module() -> None:
    """Import each module of this package; those that declare a data set register it."""
    package = importlib.import_module(__package__ or "munas.data")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


DATASETS: Registry[DatasetSource] = Registry("data set", discover=_import_every_module)


def register_dataset(
    name: str,
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    description: str,
    defaults: SearchDefaults,
    folder: str | None = None,
    requires: tuple[str, ...] = (),
    files: tuple[RemoteFile, ...] = (),
) -> Callable[[Loader], Loader]:
    """Decorator that registers ``loader(data_dir, download) -> Dataset`` under ``name``."""

    def decorator(loader: Loader) -> Loader:
        DATASETS.add(name, DatasetSource(name, loader, input_shape, num_classes, description, defaults, folder,
                                         requires, files))
        return loader

    return decorator


def list_datasets() -> list[str]:
    """Names of every registered data set, sorted."""
    return DATASETS.names()


def get_source(name: str) -> DatasetSource:
    """The registry entry of ``name``; an unknown name is a :class:`DataError` listing valid names."""
    if name not in DATASETS:
        raise _unknown_name_error(name)
    return DATASETS.get(name)


def search_defaults(name_or_path: str) -> SearchDefaults:
    """The declared defaults of a built-in data set, or the user-data defaults for an existing path.

    Any other name is the same :class:`DataError` as :func:`load_dataset` raises: no data set
    falls back silently to another's training procedure or bounds.
    """
    if name_or_path in DATASETS:
        return DATASETS.get(name_or_path).defaults
    if Path(name_or_path).expanduser().exists():
        return USER_DEFAULTS
    raise _unknown_name_error(name_or_path)


def _unknown_name_error(name: str) -> DataError:
    if Path(name).suffix or "/" in name or "\\" in name:
        return DataError(f"no such file or folder: {name} (give an .npz file with x_train, y_train, x_test, "
                         "y_test, or a folder with one sub-folder of images per class)")
    return DataError(f"unknown data set {name!r}: use one of {', '.join(list_datasets())}, "
                     "or a path to an .npz file or to a folder of class sub-folders of images")


def load_dataset(name_or_path: str, data_dir: str | Path | None = None, download: bool = True) -> Dataset:
    """Load a built-in data set by name, or the user's own data set by path.

    ``data_dir`` overrides ``MUNAS_DATA_DIR`` and the default user cache directory. Missing
    files of a built-in set with a known HTTPS source are downloaded there when ``download``
    is true; anything missing or corrupt raises a one-line :class:`DataError`.
    """
    if name_or_path in DATASETS:
        return DATASETS.get(name_or_path).loader(resolve_data_dir(data_dir), download)
    path = Path(name_or_path).expanduser()
    if path.exists():
        return load_user_dataset(path)
    raise _unknown_name_error(name_or_path)

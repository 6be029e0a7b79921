import gzip
from pathlib import Path

import pytest

from munas.data import DataError, load_dataset
from munas.data.download import RemoteFile, extract_tar_members, read_verified, resolve_data_dir
from munas.data.idx import IDX_SETS
from munas.data.testing import real_data_dir

REMOTE_FILES = IDX_SETS["mnist"].remote_files


class LocalFetcher:
    """Serves each URL from a local file (the real MNIST copies), counting requests."""

    def __init__(self, files: dict[str, Path]):
        self.files = files
        self.requests: list[str] = []

    def __call__(self, url, out):
        self.requests.append(url)
        out.write(self.files[url].read_bytes())


@pytest.fixture
def mnist_sources():
    root = real_data_dir("mnist")
    return {spec.url: root / spec.path for spec in REMOTE_FILES.values()}


def test_download_checks_and_places_the_file_once(tmp_path, mnist_sources):
    spec = REMOTE_FILES["test_labels"]
    fetch = LocalFetcher(mnist_sources)
    content = read_verified(spec, tmp_path, fetch=fetch)
    assert (tmp_path / spec.path).read_bytes() == mnist_sources[spec.url].read_bytes()
    assert len(content) == 10008 and fetch.requests == [spec.url]
    # Present and valid: never fetched again.
    assert read_verified(spec, tmp_path, fetch=fetch) == content
    assert fetch.requests == [spec.url]
    assert [p.name for p in (tmp_path / "mnist").iterdir()] == [Path(spec.path).name]  # no temporary left


def test_download_failing_its_checksum_is_discarded(tmp_path, mnist_sources):
    spec = REMOTE_FILES["test_labels"]
    wrong = {spec.url: mnist_sources[REMOTE_FILES["train_labels"].url]}  # a valid gzip of other content
    with pytest.raises(DataError) as error:
        read_verified(spec, tmp_path, fetch=LocalFetcher(wrong))
    message = str(error.value)
    assert "\n" not in message and "failed its checksum" in message and str(tmp_path / spec.path) in message
    assert list((tmp_path / "mnist").iterdir()) == []


def test_truncated_download_is_discarded(tmp_path, mnist_sources):
    spec = REMOTE_FILES["test_images"]
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(mnist_sources[spec.url].read_bytes()[:50000])
    with pytest.raises(DataError, match="not a complete gzip file and was discarded"):
        read_verified(spec, tmp_path / "data", fetch=LocalFetcher({spec.url: truncated}))
    assert list((tmp_path / "data" / "mnist").iterdir()) == []


def test_network_failure_is_one_line_with_where_to_put_the_file(tmp_path):
    spec = REMOTE_FILES["test_labels"]

    def offline(url, out):
        raise OSError("Name or service not known")

    with pytest.raises(DataError) as error:
        read_verified(spec, tmp_path, fetch=offline)
    assert str(error.value) == (f"could not download {spec.url} (Name or service not known); download it by hand "
                                f"and put it at {tmp_path / spec.path}")


def test_whole_data_set_downloads_through_load_dataset(tmp_path, mnist_sources, monkeypatch):
    fetch = LocalFetcher(mnist_sources)
    monkeypatch.setattr("munas.data.download.https_fetch", fetch)
    monkeypatch.setenv("MUNAS_CACHE_DIR", str(tmp_path / "cache"))
    dataset = load_dataset("mnist", data_dir=tmp_path / "data")
    assert dataset.split_sizes == (54000, 6000, 10000)
    assert sorted(fetch.requests) == sorted(mnist_sources)
    load_dataset("mnist", data_dir=tmp_path / "data")
    assert len(fetch.requests) == 4


def test_only_https_sources_are_allowed():
    with pytest.raises(ValueError, match="only https"):
        RemoteFile("x.gz", "0" * 64, "http://example.org/x.gz")


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("MUNAS_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv("MUNAS_DATA_DIR")
    assert resolve_data_dir().parts[-2:] == ("munas", "data")


def test_tar_extraction_writes_only_the_listed_members(tmp_path):
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("set/a", b"A"), ("../escape", b"E"), ("set/b", b"B")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    written = extract_tar_members(buffer.getvalue(), {"set/a": tmp_path / "out" / "a", "../escape": tmp_path / "out" / "e"},
                                  "archive")
    assert sorted(p.name for p in written) == ["a", "e"]
    assert (tmp_path / "out" / "a").read_bytes() == b"A"
    assert not (tmp_path.parent / "escape").exists() and not (tmp_path / "out" / "b").exists()
    with pytest.raises(DataError, match="not a readable tar archive"):
        extract_tar_members(gzip.compress(b"not a tar"), {}, "archive")

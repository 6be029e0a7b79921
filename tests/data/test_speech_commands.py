import math
import re

import numpy as np
import pytest
import torch

from munas.data.audio import mfcc, read_wav
from munas.data.download import resolve_data_dir
from munas.data.speech_commands import (
    CLASSES,
    KEYWORDS,
    SILENCE,
    UNKNOWN,
    build_index,
    clip_paths,
    find_root,
    which_split,
)
from munas.data.testing import check_splits, load_real_dataset


@pytest.fixture(scope="module")
def speech():
    return load_real_dataset("speech_commands")


@pytest.fixture(scope="module")
def root(speech):
    return find_root(resolve_data_dir())


def test_speech_commands_splits(speech, root):
    index = build_index(clip_paths(root))
    sizes = tuple(len(index[split]) for split in ("training", "validation", "testing"))
    check_splits(speech, sizes, (98, 40, 1), 12)
    assert CLASSES[:2] == ("_silence_", "_unknown_") and CLASSES[2:] == KEYWORDS
    for y in (speech.y_train, speech.y_val, speech.y_test):
        assert int(y.max()) <= 11 and SILENCE in y.tolist() and UNKNOWN in y.tolist()


def test_hash_split_reproduces_the_published_lists(root):
    listed = {}
    for split, name in (("validation", "validation_list.txt"), ("testing", "testing_list.txt")):
        if not (root / name).exists():
            pytest.skip(f"{name} is not present")
        listed.update({line.strip(): split for line in (root / name).read_text().splitlines() if line.strip()})
    clips = clip_paths(root)
    assert clips
    for path in clips:
        relative = f"{path.parent.name}/{path.name}"
        assert which_split(path.name) == listed.get(relative, "training"), relative


def test_silence_and_unknown_counts_follow_the_recipe(root):
    index = build_index(clip_paths(root))
    for entries in index.values():
        labels = [label for _, label in entries]
        known = sum(label >= 2 for label in labels)
        assert labels.count(SILENCE) == math.ceil(known * 0.1)
        assert labels.count(UNKNOWN) == math.ceil(known * 0.1)


def test_no_speaker_is_in_two_splits(root):
    speakers = {split: {re.sub(r"_nohash_.*$", "", path.name) for path, _ in entries if path is not None}
                for split, entries in build_index(clip_paths(root)).items()}
    assert not speakers["training"] & speakers["validation"]
    assert not speakers["training"] & speakers["testing"]
    assert not speakers["validation"] & speakers["testing"]


def test_features_are_the_mfcc_of_each_clip(speech, root):
    entries = build_index(clip_paths(root))["validation"]
    for position, (path, label) in enumerate(entries):
        assert int(speech.y_val[position]) == label
        if path is None and (root / "_background_noise_").exists():
            continue  # silence drawn from the noise recordings
        expected = np.zeros(16000, dtype=np.float32) if path is None else read_wav(path)
        torch.testing.assert_close(speech.x_val[position, 0], torch.from_numpy(mfcc(expected[None])[0]))
        if path is not None:
            word = path.parent.name
            assert label == (CLASSES.index(word) if word in KEYWORDS else UNKNOWN)


def test_notes_say_what_was_found(speech, root):
    assert f"{len(clip_paths(root))} clips" in speech.notes
    if not (root / "_background_noise_").exists():
        assert "digital silence" in speech.notes


def test_silence_is_cut_from_background_noise_when_present(root, tmp_path, monkeypatch):
    import shutil
    import wave

    from munas.data import load_dataset

    data_dir = tmp_path / "data"
    copy = data_dir / root.name
    for word in ("yes", "no", "up", "bed", "cat", "dog"):
        shutil.copytree(root / word, copy / word)
    # A three-second "noise" recording made of real clips.
    noise = np.concatenate([read_wav(path) for path in sorted((root / "wow").glob("*.wav"))[:3]])
    (copy / "_background_noise_").mkdir()
    with wave.open(str(copy / "_background_noise_" / "noise.wav"), "wb") as writer:
        writer.setnchannels(1), writer.setsampwidth(2), writer.setframerate(16000)
        writer.writeframes((noise * 32768).astype("<i2").tobytes())
    monkeypatch.setenv("MUNAS_CACHE_DIR", str(tmp_path / "cache"))
    first = load_dataset("speech_commands", data_dir=data_dir)
    assert "digital silence" not in first.notes
    silence = first.x_train[first.y_train == SILENCE]
    assert len(silence) > 0
    assert not torch.equal(silence[0, 0], torch.from_numpy(mfcc(np.zeros((1, 16000)))[0]))
    monkeypatch.setenv("MUNAS_CACHE_DIR", str(tmp_path / "other-cache"))
    again = load_dataset("speech_commands", data_dir=data_dir)  # recomputed: the same seeded noise
    assert torch.equal(first.x_train, again.x_train) and torch.equal(first.x_test, again.x_test)

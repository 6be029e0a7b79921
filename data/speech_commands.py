"""``speech_commands``: Warden's Google Speech Commands, the original folder of WAV files.

Follows spec §6.4 (the TensorFlow ``input_data`` recipe μNAS uses):

* classes ``_silence_`` = 0, ``_unknown_`` = 1, then ``down go left no off on right stop up
  yes`` = 2..11; every other word is ``_unknown_``;
* split by speaker: the SHA-1 of the file name up to ``_nohash_``,
  ``(int(sha1) mod 2^27) * 100 / (2^27 - 1)`` below 10 is validation, below 20 test, else train
  (the rule that generated ``validation_list.txt`` and ``testing_list.txt``);
* each split gets ``ceil(10 % of its keyword clips)`` silence clips and as many randomly chosen
  unknown-word clips, then is shuffled (Python ``random`` seeded 59185, in TensorFlow's order);
* features: MFCC of one second of 16 kHz audio, 98 frames x 40 coefficients (``data.audio``).

Silence clips are cut from ``_background_noise_`` at volume U(0, 1) with a seeded generator, so
validation and test are the same on every load (the reference draws fresh noise every epoch,
spec §8.20). Without that folder they are digital silence, as the reference produces then.
Features are computed once and cached; the train-time audio augmentation of the reference
(time shift, background noise) works on waveforms and is therefore not applied.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from pathlib import Path

import numpy as np

from munas.data.audio import CLIP_SAMPLES, FRAMES, MEL_CHANNELS, mfcc, read_wav
from munas.data.cache import cached_arrays
from munas.data.dataset import Dataset, make_dataset
from munas.data.defaults import SearchDefaults
from munas.data.errors import DataError
from munas.data.progress import progress
from munas.data.registry import register_dataset
from munas.search.fitness import Bounds
from munas.search.size import PAPER_SIZE
from munas.training.presets import TrainConfig

FOLDERS = ("speech_commands_v0.02", "speech_commands_v0.01")
SOURCE = "https://storage.googleapis.com/download.tensorflow.org/data/speech_commands_v0.02.tar.gz"
KEYWORDS = ("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes")
CLASSES = ("_silence_", "_unknown_", *KEYWORDS)
SILENCE, UNKNOWN = 0, 1
NOISE_FOLDER = "_background_noise_"
SILENCE_PERCENT = UNKNOWN_PERCENT = 10.0
VALIDATION_PERCENT = TESTING_PERCENT = 10.0
MAX_CLIPS_PER_CLASS = 2**27 - 1
SHUFFLE_SEED = 59185
LOADER_VERSION = 1
BATCH = 256
SPLIT_NAMES = {"validation": "val", "testing": "test", "training": "train"}
DEFAULTS = SearchDefaults(
    preset=TrainConfig(epochs=45, batch_size=50, optimizer="adamw", lr=5e-4, weight_decay=1e-5,
                       lr_schedule=((20, 1e-4), (40, 2e-5)), dropout=0.0, prune_start_epoch=20,
                       prune_finish_epoch=40, min_sparsity=0.10, max_sparsity=0.90),
    bounds=Bounds(0.085, 60_000, 40_000, 20_000_000),
    size=PAPER_SIZE,
)
"""Spec §6.2 (aging-evolution config with structured pruning)."""

Entry = tuple[Path | None, int]  # (clip, label); None is a silence clip


def which_split(file_name: str) -> str:
    """``"training"``, ``"validation"`` or ``"testing"`` for a clip, by its speaker's hash."""
    speaker = re.sub(r"_nohash_.*$", "", Path(file_name).name)
    digest = int(hashlib.sha1(speaker.encode()).hexdigest(), 16)
    percentage = (digest % (MAX_CLIPS_PER_CLASS + 1)) * (100.0 / MAX_CLIPS_PER_CLASS)
    if percentage < VALIDATION_PERCENT:
        return "validation"
    if percentage < VALIDATION_PERCENT + TESTING_PERCENT:
        return "testing"
    return "training"


def find_root(data_dir: Path) -> Path:
    """The first Speech Commands folder (v0.02, then v0.01) holding word folders of WAV files."""
    for folder in FOLDERS:
        root = data_dir / folder
        if next(root.glob("[!_]*/*.wav"), None) is not None:
            return root
    raise DataError(f"Speech Commands is missing: no <word>/*.wav files in {data_dir / FOLDERS[0]} or "
                    f"{data_dir / FOLDERS[1]}; extract {SOURCE} into {data_dir / FOLDERS[0]}")


def clip_paths(root: Path) -> list[Path]:
    """Every word clip ``<word>/<speaker>_nohash_<n>.wav``, sorted (background noise excluded)."""
    return sorted(path for path in root.glob("*/*.wav") if not path.parent.name.startswith("_"))


def build_index(clips: list[Path]) -> dict[str, list[Entry]]:
    """The (clip, label) entries of each split, in TensorFlow ``input_data``'s order and RNG use."""
    rng = random.Random(SHUFFLE_SEED)
    known: dict[str, list[Entry]] = {split: [] for split in SPLIT_NAMES}
    unknown: dict[str, list[Entry]] = {split: [] for split in SPLIT_NAMES}
    for path in clips:
        word = path.parent.name
        split = which_split(path.name)
        if word in KEYWORDS:
            known[split].append((path, CLASSES.index(word)))
        else:
            unknown[split].append((path, UNKNOWN))
    for split in SPLIT_NAMES:
        count = len(known[split])
        known[split].extend([(None, SILENCE)] * math.ceil(count * SILENCE_PERCENT / 100))
        rng.shuffle(unknown[split])
        known[split].extend(unknown[split][: math.ceil(count * UNKNOWN_PERCENT / 100)])
    for split in SPLIT_NAMES:
        rng.shuffle(known[split])
    return known


def silence_audio(noise: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """One second of background noise at volume U(0, 1), or zeros when there is no noise."""
    if not noise:
        return np.zeros(CLIP_SAMPLES, dtype=np.float32)
    clip = noise[int(rng.integers(len(noise)))]
    offset = int(rng.integers(len(clip) - CLIP_SAMPLES + 1))
    return np.clip(clip[offset: offset + CLIP_SAMPLES] * rng.uniform(0.0, 1.0), -1.0, 1.0).astype(np.float32)


def read_noise(root: Path) -> list[np.ndarray]:
    """The background-noise recordings (whole files) that are at least one second long."""
    recordings = (read_wav(path, samples=None) for path in sorted((root / NOISE_FOLDER).glob("*.wav")))
    return [audio for audio in recordings if len(audio) >= CLIP_SAMPLES]


def compute_features(root: Path, clips: list[Path]) -> dict[str, np.ndarray]:
    """MFCC features, labels and split codes (0 train, 1 val, 2 test) of every entry."""
    index = build_index(clips)
    noise = read_noise(root)
    rng = np.random.default_rng(SHUFFLE_SEED)
    entries = [(entry, code) for code, split in enumerate(("training", "validation", "testing"))
               for entry in index[split]]
    x = np.empty((len(entries), FRAMES, MEL_CHANNELS), dtype=np.float32)
    with progress("computing Speech Commands MFCCs", total=len(entries)) as advance:
        for start in range(0, len(entries), BATCH):
            chunk = entries[start: start + BATCH]
            audio = np.stack([read_wav(path) if path is not None else silence_audio(noise, rng)
                              for (path, _), _ in chunk])
            x[start: start + len(chunk)] = mfcc(audio)
            advance(len(chunk))
    return {"x": x, "y": np.array([label for (_, label), _ in entries], dtype=np.int64),
            "split": np.array([code for _, code in entries], dtype=np.int8),
            "noise_clips": np.array(len(noise))}


@register_dataset("speech_commands", input_shape=(FRAMES, MEL_CHANNELS, 1), num_classes=len(CLASSES),
                  defaults=DEFAULTS, folder=" or ".join(FOLDERS), requires=("speech_commands_v0.0[12]/[!_]*/*.wav",),
                  description="Google Speech Commands keywords, 16 kHz WAV folders; MFCC 98x40")
def load_speech_commands(data_dir: Path, download: bool) -> Dataset:
    """Load Speech Commands from ``data_dir/speech_commands_v0.02`` (or ``_v0.01``); see the module docstring."""
    root = find_root(data_dir)
    clips = clip_paths(root)
    sources = clips + sorted((root / NOISE_FOLDER).glob("*.wav"))
    arrays = cached_arrays(f"speech_commands-{root.name}", LOADER_VERSION, sources,
                           lambda: compute_features(root, clips))
    x = arrays["x"][..., None]
    parts = {name: (x, arrays["y"], np.flatnonzero(arrays["split"] == code))
             for code, name in enumerate(("train", "val", "test"))}
    words = len({path.parent.name for path in clips})
    notes = [f"{root.name}: {len(clips)} clips of {words} words"]
    if root.name != FOLDERS[0]:
        notes.append("the paper used v0.02")
    if int(arrays["noise_clips"]) == 0:
        notes.append(f"no {NOISE_FOLDER} folder, so _silence_ clips are digital silence")
    notes.append("audio augmentation (time shift, background noise) not applied: features are precomputed")
    return make_dataset("speech_commands", parts, num_classes=len(CLASSES), notes="; ".join(notes),
                        unverified=f"no published checksums or counts to check {root.name} against ({notes[0]})")

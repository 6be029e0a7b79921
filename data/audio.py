"""WAV decoding and the MFCC features of TensorFlow's ``Mfcc`` op, reimplemented in numpy.

μNAS feeds its Speech Commands models the output of TensorFlow's ``AudioSpectrogram`` and
``Mfcc`` ops; torchaudio's MFCC differs in scaling and log, so the ops are rebuilt here:

* power spectrogram: frames of 480 samples (30 ms) every 160 samples (10 ms), periodic Hann
  window ``0.5 - 0.5 cos(2 pi n / 480)``, zero-padded FFT of 512 points, ``|X|^2`` of 257 bins;
* mel filterbank: 40 triangular filters between 20 and 4000 Hz on the mel scale
  ``1127 ln(1 + f / 700)``, applied to the magnitude ``sqrt(|X|^2)``. As in TensorFlow, bin i has
  frequency ``i * (sr / 2) / 256``; only bins from ``int(1.5 + 20 / hz_per_bin)`` to
  ``int(4000 / hz_per_bin)`` count, and each splits its magnitude between the channel whose
  centre lies just above it (weight w) and the next one (weight 1 - w) by its mel distance;
* ``log(max(mel, 1e-12))``, then DCT-II ``c_k = sqrt(2/40) sum_j x_j cos(pi k (j + 0.5) / 40)``,
  keeping all 40 coefficients.

One second at 16 kHz gives ``1 + (16000 - 480) // 160 = 98`` frames of 40 coefficients.
"""

from __future__ import annotations

import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

from munas.data.errors import DataError

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000
WINDOW, STRIDE, FFT_SIZE = 480, 160, 512
MEL_CHANNELS, MEL_LOW_HZ, MEL_HIGH_HZ = 40, 20.0, 4000.0
LOG_FLOOR = 1e-12
FRAMES = 1 + (CLIP_SAMPLES - WINDOW) // STRIDE


def read_wav(path: Path, samples: int | None = CLIP_SAMPLES) -> np.ndarray:
    """16-bit mono WAV as float32 in [-1, 1) (int16 / 32768), zero-padded or cut to ``samples``.

    ``samples=None`` reads the whole file (background-noise recordings are minutes long).
    """
    try:
        with wave.open(str(path), "rb") as reader:
            if reader.getnchannels() != 1 or reader.getsampwidth() != 2 or reader.getframerate() != SAMPLE_RATE:
                raise DataError(f"{path}: expected 16 kHz mono 16-bit PCM, got {reader.getframerate()} Hz, "
                                f"{reader.getnchannels()} channel(s), {8 * reader.getsampwidth()}-bit; "
                                "replace it with the original recording")
            frames = reader.readframes(reader.getnframes() if samples is None else samples)
    except (wave.Error, EOFError, OSError) as error:
        raise DataError(f"{path}: not a readable WAV file ({error}); replace it with the original") from error
    audio = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    if samples is not None and len(audio) < samples:
        audio = np.pad(audio, (0, samples - len(audio)))
    return audio


def _mel(frequency: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(frequency, dtype=np.float64) / 700.0)


@lru_cache(maxsize=1)
def mel_weights() -> np.ndarray:
    """The (257, 40) matrix of TensorFlow's ``MfccMelFilterbank``: magnitude bins to mel channels."""
    bins = FFT_SIZE // 2 + 1
    hz_per_bin = 0.5 * SAMPLE_RATE / (bins - 1)
    start, end = int(1.5 + MEL_LOW_HZ / hz_per_bin), int(MEL_HIGH_HZ / hz_per_bin)
    mel_low, mel_high = _mel(MEL_LOW_HZ), _mel(MEL_HIGH_HZ)
    spacing = (mel_high - mel_low) / (MEL_CHANNELS + 1)
    centres = mel_low + spacing * np.arange(1, MEL_CHANNELS + 2)  # one extra: the last filter's upper edge
    weights = np.zeros((bins, MEL_CHANNELS))
    for i in range(start, end + 1):
        mel = _mel(i * hz_per_bin)
        channel = int(np.searchsorted(centres[:MEL_CHANNELS], mel, side="left")) - 1  # last centre below mel
        if channel >= 0:
            w = (centres[channel + 1] - mel) / (centres[channel + 1] - centres[channel])
            weights[i, channel] += w
        else:
            w = (centres[0] - mel) / (centres[0] - mel_low)
        if channel + 1 < MEL_CHANNELS:
            weights[i, channel + 1] += 1.0 - w
    return weights


@lru_cache(maxsize=1)
def dct_matrix() -> np.ndarray:
    """(40, 40) DCT-II of TensorFlow's ``MfccDct``: row k is ``sqrt(2/40) cos(pi k (j + 0.5) / 40)``."""
    k = np.arange(MEL_CHANNELS)[:, None]
    j = np.arange(MEL_CHANNELS)[None, :]
    return np.sqrt(2.0 / MEL_CHANNELS) * np.cos(np.pi / MEL_CHANNELS * (j + 0.5) * k)


def power_spectrogram(audio: np.ndarray) -> np.ndarray:
    """(n, frames, 257) ``|FFT|^2`` of periodic-Hann windowed frames of (n, samples) ``audio``."""
    audio = np.asarray(audio, dtype=np.float64)
    frames = 1 + (audio.shape[-1] - WINDOW) // STRIDE
    starts = np.arange(frames) * STRIDE
    windows = audio[:, starts[:, None] + np.arange(WINDOW)[None, :]]
    hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(WINDOW) / WINDOW)
    spectrum = np.fft.rfft(windows * hann, n=FFT_SIZE, axis=-1)
    return spectrum.real**2 + spectrum.imag**2


def mfcc(audio: np.ndarray) -> np.ndarray:
    """MFCC features (n, 98, 40) float32 of (n, 16000) float ``audio``, as TensorFlow's ``Mfcc``.

    The spectrogram is rounded to float32 between the two ops, as the TensorFlow graph stores it.
    """
    power = power_spectrogram(audio)
    magnitude = np.sqrt(power.astype(np.float32).astype(np.float64)).reshape(-1, power.shape[-1])
    mel = magnitude @ mel_weights()  # 2-D: a stacked 3-D matmul is many times slower in numpy
    coefficients = np.log(np.maximum(mel, LOG_FLOOR)) @ dct_matrix().T
    return coefficients.reshape(*power.shape[:-1], MEL_CHANNELS).astype(np.float32)

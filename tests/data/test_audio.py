import math

import numpy as np
import pytest

from munas.data import DataError
from munas.data.audio import FRAMES, LOG_FLOOR, dct_matrix, mel_weights, mfcc, power_spectrogram, read_wav
from munas.data.speech_commands import find_root
from munas.data.testing import real_data_dir


def tf_filterbank(magnitude_squared: np.ndarray) -> np.ndarray:
    """Scalar transcription of TensorFlow's MfccMelFilterbank (Initialize + Compute), the oracle."""
    channels, sample_rate, low, high = 40, 16000, 20.0, 4000.0
    mel = lambda f: 1127.0 * math.log1p(f / 700.0)  # noqa: E731
    n = len(magnitude_squared)
    centres = [mel(low) + (mel(high) - mel(low)) / (channels + 1) * (i + 1) for i in range(channels + 1)]
    hz_per_bin = 0.5 * sample_rate / (n - 1)
    start, end = int(1.5 + low / hz_per_bin), int(high / hz_per_bin)
    band, weight, channel = [-2] * n, [0.0] * n, 0
    for i in range(n):
        if start <= i <= end:
            while channel < channels and centres[channel] < mel(i * hz_per_bin):
                channel += 1
            band[i] = channel - 1
    for i in range(start, end + 1):
        c = band[i]
        if c >= 0:
            weight[i] = (centres[c + 1] - mel(i * hz_per_bin)) / (centres[c + 1] - centres[c])
        else:
            weight[i] = (centres[0] - mel(i * hz_per_bin)) / (centres[0] - mel(low))
    out = [0.0] * channels
    for i in range(start, end + 1):
        value = math.sqrt(magnitude_squared[i])
        weighted = value * weight[i]
        c = band[i]
        if c >= 0:
            out[c] += weighted
        if c + 1 < channels:
            out[c + 1] += value - weighted
    return np.array(out)


def real_clip():
    return sorted(find_root(real_data_dir("speech_commands")).glob("yes/*.wav"))[0]


def test_mel_filterbank_matches_the_scalar_tensorflow_algorithm():
    audio = read_wav(real_clip())
    power = power_spectrogram(audio[None])[0].astype(np.float32).astype(np.float64)
    for frame in (0, 30, 60, FRAMES - 1):
        np.testing.assert_allclose(np.sqrt(power[frame]) @ mel_weights(), tf_filterbank(power[frame]), rtol=1e-10, atol=1e-12)


def test_mfcc_of_a_real_clip_matches_the_scalar_pipeline():
    audio = read_wav(real_clip())
    features = mfcc(audio[None])[0]
    assert features.shape == (98, 40) and features.dtype == np.float32
    power = power_spectrogram(audio[None])[0].astype(np.float32).astype(np.float64)
    for frame in (5, 50):
        log_mel = np.log(np.maximum(tf_filterbank(power[frame]), LOG_FLOOR))
        expected = [math.sqrt(2 / 40) * sum(log_mel[j] * math.cos(math.pi / 40 * (j + 0.5) * k) for j in range(40))
                    for k in range(40)]
        np.testing.assert_allclose(features[frame], expected, rtol=1e-5, atol=1e-4)


def test_dct_rows_are_orthogonal_with_the_tensorflow_scaling():
    gram = dct_matrix() @ dct_matrix().T
    expected = np.eye(40)
    expected[0, 0] = 2.0  # TF scales every row by sqrt(2/40), the first one included
    np.testing.assert_allclose(gram, expected, atol=1e-12)


def test_silence_gives_the_log_floor_in_the_first_coefficient_only():
    features = mfcc(np.zeros((1, 16000)))[0]
    np.testing.assert_allclose(features[:, 0], math.sqrt(2 / 40) * 40 * math.log(LOG_FLOOR), rtol=1e-6)
    np.testing.assert_allclose(features[:, 1:], 0.0, atol=1e-4)


def test_a_tone_peaks_in_its_fft_bin():
    t = np.arange(16000) / 16000
    power = power_spectrogram(np.sin(2 * np.pi * 1000.0 * t)[None])[0]
    assert power.shape == (98, 257)
    assert set(np.argmax(power, axis=1)) == {32}  # 1000 Hz / (8000 Hz / 256 bins)


def test_read_wav_pads_and_refuses_other_formats(tmp_path):
    import wave

    path = tmp_path / "short.wav"
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1), writer.setsampwidth(2), writer.setframerate(16000)
        writer.writeframes(np.array([16384, -32768], dtype="<i2").tobytes())
    audio = read_wav(path)
    assert audio.shape == (16000,) and audio[0] == 0.5 and audio[1] == -1.0 and not audio[2:].any()
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as writer:
        writer.setnchannels(2), writer.setsampwidth(2), writer.setframerate(16000)
        writer.writeframes(b"\0" * 8)
    with pytest.raises(DataError, match="expected 16 kHz mono 16-bit PCM"):
        read_wav(stereo)
    (tmp_path / "junk.wav").write_bytes(b"RIFF")
    with pytest.raises(DataError, match="not a readable WAV file"):
        read_wav(tmp_path / "junk.wav")

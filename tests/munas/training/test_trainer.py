"""The trainer on real data: accuracy, val/test consistency, reproducibility, statuses."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from munas.data import search_defaults
from munas.data.testing import load_real_dataset
from munas.space.architecture import parse_architecture
from munas.training.model import build_network
from munas.training.presets import with_epochs
from munas.training.trainer import _Data, accuracy, train_candidate

from ..documents import conv
from .conftest import SMALL_DIGITS_CNN


def test_small_cnn_reaches_95_percent_on_digits(digits_run):
    architecture, result = digits_run
    assert result.status == "ok", result.message
    assert 1 - result.test_error >= 0.95
    assert result.epochs == search_defaults("digits").preset.epochs == len(result.val_accuracies)
    assert result.pruned_architecture == architecture and result.sparsity is None
    assert result.train_seconds > 0 and result.resources.model_size > 0


def test_val_and_test_errors_belong_to_the_returned_weights(digits, digits_run):
    """Both errors come from the best-validation checkpoint (spec §8.15), which is what is returned."""
    architecture, result = digits_run
    network = build_network(architecture)
    network.load_state_dict(result.weights)
    test = _Data(digits.x_test, digits.y_test, torch.device("cpu"), False)
    val = _Data(digits.x_val, digits.y_val, torch.device("cpu"), False)
    assert accuracy(network, test, False) == pytest.approx(1 - result.test_error)
    assert accuracy(network, val, False) == pytest.approx(1 - result.val_error) == pytest.approx(
        max(result.val_accuracies))


def test_training_is_reproducible_for_a_seed(digits):
    architecture = parse_architecture(SMALL_DIGITS_CNN)
    config = with_epochs(search_defaults("digits").preset, 2)
    first, again = (train_candidate(architecture, digits, config, sparsity=0.3, seed=5) for _ in range(2))
    other = train_candidate(architecture, digits, config, sparsity=0.3, seed=6)
    assert first.val_accuracies == again.val_accuracies and first.test_error == again.test_error
    assert all(torch.equal(first.weights[k], again.weights[k]) for k in first.weights)
    assert not all(torch.equal(first.weights[k], other.weights[k]) for k in first.weights)


@pytest.mark.parametrize("optimizer", ["sgdw", "adamw"])
def test_weight_decay_is_decoupled_from_the_learning_rate(digits, optimizer):
    """One step with lr ~ 0 still multiplies every weight by (1 - wd), as tensorflow-addons does."""
    architecture = parse_architecture(SMALL_DIGITS_CNN)
    config = dataclasses.replace(with_epochs(search_defaults("digits").preset, 1), batch_size=len(digits.y_train),
                                 lr=1e-12, weight_decay=0.25, optimizer=optimizer)
    result = train_candidate(architecture, digits, config, seed=3)
    assert result.status == "ok", result.message
    torch.manual_seed(3)
    initial = build_network(architecture).state_dict()
    for name in ("units.0.conv.weight", "units.3.linear.weight"):
        torch.testing.assert_close(result.weights[name], initial[name] * 0.75, rtol=1e-5, atol=1e-6)


def test_two_classes_use_one_logit(digits):
    binary = dataclasses.replace(digits, num_classes=2, y_train=(digits.y_train < 5).long(),
                                 y_val=(digits.y_val < 5).long(), y_test=(digits.y_test < 5).long())
    document = dict(SMALL_DIGITS_CNN, num_classes=2)
    result = train_candidate(parse_architecture(document), binary, with_epochs(search_defaults("digits").preset, 6),
                             seed=0)
    assert result.status == "ok", result.message
    assert result.weights["units.4.linear.weight"].shape[0] == 1
    assert 1 - result.test_error > 0.9


def test_non_finite_loss_ends_with_nan_status(digits):
    x_train = digits.x_train.clone()
    x_train[7] = float("nan")
    broken = dataclasses.replace(digits, x_train=x_train)
    result = train_candidate(parse_architecture(SMALL_DIGITS_CNN), broken,
                             with_epochs(search_defaults("digits").preset, 2))
    assert result.status == "nan_loss" and "epoch 1" in result.message
    assert result.val_error is None


def test_mismatched_input_fails_with_a_message(digits):
    document = dict(SMALL_DIGITS_CNN, input_shape=[28, 28, 1])
    result = train_candidate(parse_architecture(document), digits, search_defaults("digits").preset)
    assert result.status == "failed" and "input_shape [28, 28, 1]" in result.message
    bad_sparsity = train_candidate(parse_architecture(SMALL_DIGITS_CNN), digits, search_defaults("digits").preset,
                                   sparsity=1.5)
    assert bad_sparsity.status == "failed" and "sparsity" in bad_sparsity.message


def test_fashion_mnist_subset_learns_with_augmentation():
    """A μNAS-sized CNN on 6000 real Fashion-MNIST images (flip/shift/rotate on) for 2 epochs."""
    data = load_real_dataset("fashion_mnist")
    small = dataclasses.replace(data, x_train=data.x_train[:6000], y_train=data.y_train[:6000],
                                x_val=data.x_val[:2000], y_val=data.y_val[:2000],
                                x_test=data.x_test[:2000], y_test=data.y_test[:2000])
    architecture = parse_architecture({"input_shape": [28, 28, 1], "num_classes": 10, "architecture": {
        "conv_blocks": [{"is_branch": False, "layers": [conv(16, **{"2x_stride": True})]},
                        {"is_branch": False, "layers": [conv(32, **{"2x_stride": True})]}],
        "pooling": {"type": "avg", "pool_size": 2}, "dense_blocks": [{"units": 64}]}})
    # batch 32: enough steps for the BatchNorm running statistics (momentum 0.01) to settle
    config = dataclasses.replace(with_epochs(search_defaults("fashion_mnist").preset, 2), batch_size=32)
    result = train_candidate(architecture, small, config, sparsity=0.3, seed=0)
    assert result.status == "ok", result.message
    assert 1 - result.test_error > 0.7
    assert abs(result.int8_test_error - result.test_error) < 0.03


@pytest.mark.parametrize("sparsity", [None, 0.5])
def test_a_rung_continued_from_its_state_ends_as_the_uninterrupted_training(digits, sparsity):
    """Multi-fidelity: 2 of 4 epochs, then a continuation from the saved state (as another worker
    would run it) must give the very same curve, errors and pruned network."""
    architecture = parse_architecture(SMALL_DIGITS_CNN)
    config = with_epochs(search_defaults("digits").preset, 4)
    straight = train_candidate(architecture, digits, config, sparsity=sparsity, seed=2)
    rung = train_candidate(architecture, digits, config, sparsity=sparsity, seed=2, stop_after=2)
    assert rung.status == "rung" and rung.epochs == 2 and len(rung.val_accuracies) == 2 and rung.state
    assert rung.test_error is None and rung.int8_test_error is None  # left for the end
    continued = train_candidate(architecture, digits, config, sparsity=sparsity, seed=2, resume=rung.state)
    assert continued.status == straight.status == "ok"
    assert continued.val_accuracies == straight.val_accuracies
    assert (continued.val_error, continued.test_error, continued.int8_test_error) == \
        (straight.val_error, straight.test_error, straight.int8_test_error)
    assert continued.pruned_architecture == straight.pruned_architecture

"""Training presets: the declared spec §6.2 values, the --epochs rescaling and validation."""

from __future__ import annotations

import dataclasses
import json

import pytest

from munas.data import list_datasets, search_defaults
from munas.data.user import USER_DEFAULTS
from munas.errors import UserError
from munas.training.presets import with_epochs


def test_presets_follow_the_spec_table():
    fashion = search_defaults("fashion_mnist").preset
    assert (fashion.epochs, fashion.batch_size, fashion.optimizer, fashion.lr, fashion.weight_decay) == \
        (45, 128, "sgdw", 0.01, 1e-5)
    assert [fashion.lr_at(e) for e in (0, 24, 25, 34, 35, 44)] == [0.01, 0.01, 0.005, 0.005, 0.001, 0.001]
    assert (fashion.prune_start_epoch, fashion.prune_finish_epoch, fashion.min_sparsity, fashion.max_sparsity) == \
        (3, 38, 0.05, 0.90)
    speech = search_defaults("speech_commands").preset
    assert (speech.optimizer, speech.batch_size, speech.lr_at(45)) == ("adamw", 50, 2e-5)
    assert search_defaults("chars74k").preset.weight_decay == 1e-4
    assert search_defaults("mnist").preset.dropout == 0.0 and fashion.dropout == 0.15


def test_presets_are_valid_and_json_serialisable():
    for config in [*(search_defaults(name).preset for name in list_datasets()), USER_DEFAULTS.preset]:
        config.validate()
        assert json.loads(json.dumps(dataclasses.asdict(config)))["epochs"] == config.epochs


def test_with_epochs_scales_schedule_and_pruning_window():
    short = with_epochs(search_defaults("fashion_mnist").preset, 9)
    assert short.epochs == 9
    assert short.lr_schedule == ((5, 0.005), (7, 0.001))
    assert (short.prune_start_epoch, short.prune_finish_epoch) == (1, 8)
    one = with_epochs(search_defaults("cifar10").preset, 1)
    assert (one.prune_start_epoch, one.prune_finish_epoch, one.lr_schedule) == (1, 1, ())
    one.validate()
    with pytest.raises(UserError):
        with_epochs(one, 0)


@pytest.mark.parametrize("change", [dict(prune_start_epoch=5, prune_finish_epoch=4), dict(optimizer="rmsprop"),
                                    dict(max_sparsity=1.0), dict(lr=0.0), dict(prune_finish_epoch=99)])
def test_invalid_configs_are_rejected_with_a_message(change):
    with pytest.raises(UserError, match="invalid training configuration"):
        dataclasses.replace(search_defaults("mnist").preset, **change).validate()

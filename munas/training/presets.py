"""Training configurations: the type of a data set's training preset, its checks and rescaling.

The numbers themselves (spec §6.2) are declared by each data set in its own module under
``data/`` and looked up with :func:`munas.data.search_defaults`. This module imports neither
torch nor :mod:`munas.data`, so those declarations can use :class:`TrainConfig` cheaply.

A :class:`TrainConfig` is plain data (``dataclasses.asdict`` gives JSON) so that a search
stores exactly how every candidate was trained and can refuse to resume under a changed
procedure. Epoch numbers follow the reference configs: the LR schedule's keys are 0-based
epoch indices where the rate changes; ``prune_start_epoch`` / ``prune_finish_epoch`` are the
1-based epochs of the DPF ramp (internally ``t0 = start - 1``, ``tn = finish - 1``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from munas.errors import UserError

OPTIMIZERS = ("sgdw", "adamw")
PRECISIONS = ("auto", "float32", "bfloat16")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch_size: int
    optimizer: str
    """``sgdw`` (SGD, momentum) or ``adamw`` (Adam); weight decay is decoupled and not LR-scaled."""
    lr: float
    """Learning rate from epoch 0."""
    weight_decay: float
    """Per step ``w <- w - weight_decay * w`` on every parameter (tensorflow-addons semantics)."""
    lr_schedule: tuple[tuple[int, float], ...]
    """``(epoch, lr)``: from 0-based ``epoch`` on, the rate is ``lr`` (a step function)."""
    dropout: float
    """Dropout rate before every hidden dense layer."""
    prune_start_epoch: int
    prune_finish_epoch: int
    min_sparsity: float
    """Sparsity range a search draws candidates' target sparsities from."""
    max_sparsity: float
    momentum: float = 0.9
    mask_refresh_batches: int = 16
    """DPF recomputes the masks every this many batches while the sparsity ramps up."""
    calibration_batches: int = 5
    """Validation batches that calibrate the int8 activation ranges."""
    precision: str = "auto"
    """Training arithmetic: ``float32``, ``bfloat16`` (autocast: convolutions and matrix products
    in bf16, weights, optimiser and BatchNorm statistics in float32) or ``auto`` = bfloat16 on a
    CPU with native bf16 instructions, else float32. Evaluation is always float32."""

    def lr_at(self, epoch: int) -> float:
        """The learning rate of 0-based ``epoch``."""
        lr = self.lr
        for start, rate in self.lr_schedule:
            if epoch >= start:
                lr = rate
        return lr

    def validate(self) -> TrainConfig:
        """Raise :class:`UserError` for settings the trainer cannot honour (spec §8.10)."""
        problems = []
        if self.epochs < 1:
            problems.append(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            problems.append(f"batch_size must be >= 1, got {self.batch_size}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not self.lr > 0 or any(not rate > 0 for _, rate in self.lr_schedule):
            problems.append("learning rates must be positive")
        if not 0 <= self.weight_decay < 1:
            problems.append(f"weight_decay must be in [0, 1), got {self.weight_decay}")
        if not 0 <= self.dropout < 1:
            problems.append(f"dropout must be in [0, 1), got {self.dropout}")
        if not 1 <= self.prune_start_epoch <= self.prune_finish_epoch <= self.epochs:
            problems.append(f"pruning epochs must satisfy 1 <= start <= finish <= epochs, got start "
                            f"{self.prune_start_epoch}, finish {self.prune_finish_epoch}, epochs {self.epochs}")
        if not 0 <= self.min_sparsity <= self.max_sparsity < 1:
            problems.append(f"sparsity range must satisfy 0 <= min <= max < 1, got "
                            f"[{self.min_sparsity}, {self.max_sparsity}]")
        if self.precision not in PRECISIONS:
            problems.append(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.mask_refresh_batches < 1 or self.calibration_batches < 1:
            problems.append("mask_refresh_batches and calibration_batches must be >= 1")
        if problems:
            raise UserError("invalid training configuration: " + "; ".join(problems))
        return self


def with_epochs(config: TrainConfig, epochs: int) -> TrainConfig:
    """``config`` shortened or stretched to ``epochs``: the LR steps and the pruning window
    move proportionally, so ``--epochs 5`` still ramps the sparsity up and then holds it."""
    if epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {epochs}")
    scale = epochs / config.epochs

    def scaled(epoch: int) -> int:
        return round(epoch * scale)

    schedule = tuple((scaled(start), rate) for start, rate in config.lr_schedule if 0 < scaled(start) < epochs)
    start = min(max(1, scaled(config.prune_start_epoch)), epochs)
    finish = min(max(start, scaled(config.prune_finish_epoch)), epochs)
    return dataclasses.replace(config, epochs=epochs, lr_schedule=schedule, prune_start_epoch=start,
                               prune_finish_epoch=finish)

"""Train, prune and int8-evaluate one candidate: where a search spends all its time.

The procedure is the reference's (spec §5, §6.1) with its quirks fixed:

* the data set lives on the device as tensors; each epoch is one random permutation cut
  into index batches (a full shuffle, §8.17; the last partial batch is kept);
* SGD with momentum or Adam, with *decoupled* weight decay ``w <- w - wd * w`` per step
  (not scaled by the learning rate, as tensorflow-addons' SGDW/AdamW), step LR schedules;
* DPF structured pruning (:mod:`munas.training.pruning`): masks refreshed every 16 batches
  while the sparsity ramps up, frozen afterwards; the gradient at the sparse point updates
  the dense weights, which are never overwritten (§8.9);
* ``val_error`` is ``1 -`` the best validation accuracy (only epochs at the final sparsity
  when pruning); ``test_error`` is measured on the *same* weights, the best-validation
  checkpoint (§8.15), after physically removing the pruned channels;
* binary tasks: one logit, BCE, threshold at logit 0 (§8.16);
* BatchNorm running statistics use the momentum ``max(0.01, 1 / (1 + t / 10))`` at step ``t``:
  the first batch's statistics, then an average that follows the recent weights (0.1 around
  step 100, as torch's default) and settles on the Keras EMA (0.01) from step ~1000. Keras
  decays them from (0, 1) at 0.01 from the start, which after a few hundred steps still
  leaves the inference variance several times too large and ruins the validation accuracy
  of short trainings (``--epochs 2`` on a subset: 20 % instead of 75 %). Training itself
  (batch statistics) is unaffected;
* a non-finite loss ends the training with status ``nan_loss``; any other exception with
  ``failed`` and a message. Nothing is raised to the caller.

Speed (see ``benchmarks/training.py``): one intra-op thread by default (tiny ops lose more to
thread barriers than they gain, badly so on a shared machine), channels-last activations
(oneDNN's fast path for small convolutions; NHWC-stored data makes each batch a free view),
bf16 autocast on CPUs with native bf16 (``TrainConfig.precision``), the loss accumulated on the
device and read once per epoch, a multi-tensor optimiser step and weight decay, and float32
evaluation in large no-grad batches.
"""

from __future__ import annotations

import dataclasses
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from munas.data.dataset import Dataset
from munas.resources import TRAINED, Resources, compute_resources
from munas.resources.channels import channel_groups
from munas.space.architecture import Architecture
from munas.training.augmentation import augment, is_identity
from munas.training.device import cpu_threads, resolve_device, training_dtype
from munas.training.model import BN_MOMENTUM, GraphNetwork, build_network
from munas.training.presets import TrainConfig
from munas.training.pruning import masks_from_keep, prune_network, ramp_sparsity, update_masks
from munas.training.quantization import quantize_network

EVAL_BATCH = 1024
BN_WARMUP_STEPS = round(10 / BN_MOMENTUM)
EpochCallback = Callable[[int, int, float], None]
"""Called after every epoch with (epochs done, total epochs, validation accuracy)."""


@dataclass
class TrainResult:
    status: str
    """``ok``, ``nan_loss`` or ``failed``; ``rung`` when stopped after ``stop_after`` epochs."""
    message: str = ""
    val_error: float | None = None
    test_error: float | None = None
    int8_test_error: float | None = None
    pruned_architecture: Architecture | None = None
    resources: Resources | None = None
    """Resources of :attr:`pruned_architecture` under :data:`~munas.resources.TRAINED`."""
    train_seconds: float = 0.0
    epochs: int = 0
    """Epochs actually run."""
    sparsity: float | None = None
    val_accuracies: list[float] = field(default_factory=list)
    weights: dict[str, torch.Tensor] | None = field(default=None, repr=False)
    """``state_dict`` of the pruned float network (on the CPU)."""
    state: bytes | None = field(default=None, repr=False)
    """Status ``rung`` only: the serialised :class:`TrainingState` that ``resume`` continues from."""


@dataclass
class TrainingState:
    """Everything the training loop holds between two epochs, so that a training stopped after
    a rung continues on another worker exactly as if it had not stopped (multi-fidelity search).

    It travels as bytes (:meth:`to_bytes`: ``torch.save`` of tensors and plain values), from the
    worker that trained the rung to the driver, into the run store, and to the worker that
    continues; :meth:`from_bytes` reads it with ``weights_only=True``, so it can never run code.
    """

    epochs_done: int
    network: dict[str, torch.Tensor]
    optimizer: dict
    steps: int
    generator: torch.Tensor
    torch_rng: torch.Tensor
    cuda_rng: torch.Tensor | None
    best_accuracy: float
    best_state: dict[str, torch.Tensor] | None
    best_keep: dict[int, torch.Tensor] | None
    keep: dict[int, torch.Tensor] | None
    val_accuracies: list[float]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        torch.save(dataclasses.asdict(self), buffer)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainingState:
        return cls(**torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))


class NonFiniteLoss(Exception):
    pass


class _Data:
    """One split on the device, stored NHWC so that an index batch is a channels-last NCHW view."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, device: torch.device, binary: bool):
        self.x = x.permute(0, 2, 3, 1).contiguous().to(device)
        self.y = (y.float() if binary else y).to(device)
        self.n = len(y)

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x.index_select(0, index).permute(0, 3, 1, 2), self.y.index_select(0, index)

    def slices(self, size: int):
        for start in range(0, self.n, size):
            yield self.x[start:start + size].permute(0, 3, 1, 2), self.y[start:start + size]


def _loss(logits: torch.Tensor, y: torch.Tensor, binary: bool) -> torch.Tensor:
    if binary:
        return F.binary_cross_entropy_with_logits(logits.squeeze(1), y)
    return F.cross_entropy(logits, y)


def _correct(logits: torch.Tensor, y: torch.Tensor, binary: bool) -> torch.Tensor:
    if binary:
        return ((logits.squeeze(1) > 0).float() == y).sum()
    return (logits.argmax(1) == y).sum()


@torch.no_grad()
def accuracy(network: torch.nn.Module, data: _Data, binary: bool) -> float:
    """Accuracy in eval mode, one host sync per call."""
    network.eval()
    correct = torch.zeros((), device=data.x.device)
    for x, y in data.slices(EVAL_BATCH):
        correct += _correct(network(x), y, binary)
    return float(correct) / max(1, data.n)


def _optimizer(config: TrainConfig, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    if config.optimizer == "adamw":  # Keras Adam defaults; decay applied separately
        return torch.optim.Adam(params, lr=config.lr, betas=(0.9, 0.999), eps=1e-7, foreach=True)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, foreach=True)


class _Optimisation:
    """One training step on a batch: autocast forward pass, loss, backward pass, the optimiser
    step with decoupled weight decay, and the BatchNorm momentum warm-up (module docstring)."""

    def __init__(self, network: GraphNetwork, config: TrainConfig, device: torch.device, binary: bool) -> None:
        self.network = network
        self.params: list[torch.Tensor] = list(network.parameters())
        self.optimizer = _optimizer(config, self.params)
        self.weight_decay = config.weight_decay
        self.batchnorms = [m for m in network.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        self.dtype = training_dtype(device, config.precision)
        self.device_type = device.type
        self.binary = binary
        self.steps = 0

    def set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Train on one batch; returns its loss (on the device, not synchronised)."""
        if self.steps < BN_WARMUP_STEPS:
            for bn in self.batchnorms:
                bn.momentum = max(BN_MOMENTUM, 1.0 / (1 + self.steps / 10))
        self.steps += 1
        with torch.autocast(self.device_type, dtype=self.dtype or torch.float32, enabled=self.dtype is not None):
            logits = self.network(x)
        loss = _loss(logits.float(), y, self.binary)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.weight_decay:
            with torch.no_grad():
                torch._foreach_mul_(self.params, 1.0 - self.weight_decay)
        self.optimizer.step()
        return loss.detach()


def train_candidate(
    architecture: Architecture,
    dataset: Dataset,
    config: TrainConfig,
    sparsity: float | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
    on_epoch: EpochCallback | None = None,
    threads: int | None = None,
    stop_after: int | None = None,
    resume: bytes | None = None,
) -> TrainResult:
    """Train (and prune to ``sparsity``) one architecture on ``dataset``; never raises.

    ``sparsity`` None or 0 trains dense. ``device`` None picks CUDA when available.
    ``threads``: CPU intra-op threads (default :data:`munas.training.device.DEFAULT_CPU_THREADS`).

    Multi-fidelity: ``stop_after`` < ``config.epochs`` trains only that many epochs of the full
    schedule (same learning rates, same pruning ramp: the rung is a prefix of the full training)
    and returns status ``rung`` with the validation curve and the serialised state in
    ``state``; ``resume`` (such a state) continues that training from where it stopped. A
    continued training ends exactly as an uninterrupted one; only the physical removal of
    pruned channels, the test and the int8 evaluation are left for the end.
    """
    started = time.perf_counter()
    try:
        with cpu_threads(threads):
            result = _train(architecture, dataset, config, sparsity, seed, resolve_device(device), on_epoch,
                            stop_after, None if resume is None else TrainingState.from_bytes(resume))
    except NonFiniteLoss as error:
        result = TrainResult(status="nan_loss", message=str(error))
    except Exception as error:  # a failed candidate must not end a search
        result = TrainResult(status="failed", message=f"{type(error).__name__}: {error}")
    result.train_seconds = time.perf_counter() - started
    return result


def _check_inputs(architecture: Architecture, dataset: Dataset, sparsity: float | None) -> None:
    if tuple(architecture.input_shape) != tuple(dataset.input_shape):
        raise ValueError(f"architecture input_shape {list(architecture.input_shape)} does not match data set "
                         f"{dataset.name!r} samples {list(dataset.input_shape)}")
    if architecture.num_classes != dataset.num_classes:
        raise ValueError(f"architecture num_classes {architecture.num_classes} does not match data set "
                         f"{dataset.name!r} ({dataset.num_classes} classes)")
    if sparsity is not None and not 0 <= sparsity < 1:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")


def _train(architecture: Architecture, dataset: Dataset, config: TrainConfig, sparsity: float | None, seed: int,
           device: torch.device, on_epoch: EpochCallback | None, stop_after: int | None = None,
           resume: TrainingState | None = None) -> TrainResult:
    config.validate()
    _check_inputs(architecture, dataset, sparsity)
    torch.manual_seed(seed)  # initial weights and dropout; shuffling and augmentation use `generator`
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    binary = architecture.num_classes == 2

    network = build_network(architecture, config.dropout)
    network.to(device=device, memory_format=torch.channels_last)  # type: ignore[call-overload]  # stubs lack it
    train = _Data(dataset.x_train, dataset.y_train, device, binary)
    val = _Data(dataset.x_val, dataset.y_val, device, binary)
    test = _Data(dataset.x_test, dataset.y_test, device, binary)
    optimisation = _Optimisation(network, config, device, binary)
    augmentation = None if is_identity(dataset.augmentation) else dataset.augmentation

    pruning = bool(sparsity)
    plan = channel_groups(network.graph) if pruning else None
    ramp_end = config.prune_finish_epoch - 1  # 0-based epoch from which the sparsity is final
    first_counted = ramp_end if pruning else 0
    best_accuracy: float = -1.0
    best_state: dict[str, torch.Tensor] | None = None
    best_keep: dict[int, torch.Tensor] | None = None
    keep: dict[int, torch.Tensor] | None = None
    val_accuracies: list[float] = []
    first_epoch = 0
    if resume is not None:
        network.load_state_dict(resume.network)
        optimisation.optimizer.load_state_dict(resume.optimizer)
        optimisation.steps = resume.steps
        generator.set_state(resume.generator)
        torch.set_rng_state(resume.torch_rng)
        if resume.cuda_rng is not None and device.type == "cuda":
            torch.cuda.set_rng_state(resume.cuda_rng, device)
        best_accuracy, best_state, best_keep, keep = resume.best_accuracy, resume.best_state, resume.best_keep, \
            resume.keep
        val_accuracies = list(resume.val_accuracies)
        first_epoch = resume.epochs_done
        if plan is not None and keep is not None:
            network.set_masks(masks_from_keep(network, plan, {g: k.to(device) for g, k in keep.items()}))
    last_epoch = config.epochs if stop_after is None else min(config.epochs, max(first_epoch + 1, stop_after))

    for epoch in range(first_epoch, last_epoch):
        optimisation.set_lr(config.lr_at(epoch))
        ramping = pruning and config.prune_start_epoch - 1 <= epoch <= ramp_end
        current_sparsity = ramp_sparsity(sparsity, epoch, config.prune_start_epoch, config.prune_finish_epoch) \
            if sparsity else 0.0
        network.train()
        loss_sum = torch.zeros((), device=device)
        order = torch.randperm(train.n, device=device, generator=generator)
        for step, start in enumerate(range(0, train.n, config.batch_size)):
            if ramping and plan is not None and step % config.mask_refresh_batches == 0:
                keep = update_masks(network, plan, current_sparsity)
            x, y = train.batch(order[start:start + config.batch_size])
            if augmentation is not None:
                x = augment(x, augmentation, generator)
            loss_sum += optimisation.step(x, y)
        if not math.isfinite(float(loss_sum)):
            raise NonFiniteLoss(f"the training loss became {float(loss_sum)} in epoch {epoch + 1}; "
                                "lower the learning rate or change the architecture")
        val_accuracy = accuracy(network, val, binary)
        val_accuracies.append(val_accuracy)
        if epoch >= first_counted and val_accuracy > best_accuracy:
            best_accuracy = val_accuracy
            best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
            best_keep = keep
        if on_epoch is not None:
            on_epoch(epoch + 1, config.epochs, val_accuracy)

    if last_epoch < config.epochs:
        state = TrainingState(
            epochs_done=last_epoch, network=_cpu(network.state_dict()), optimizer=optimisation.optimizer.state_dict(),
            steps=optimisation.steps, generator=generator.get_state(), torch_rng=torch.get_rng_state(),
            cuda_rng=torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            best_accuracy=best_accuracy, best_state=None if best_state is None else _cpu(best_state),
            best_keep=None if best_keep is None else _cpu(best_keep), keep=None if keep is None else _cpu(keep),
            val_accuracies=val_accuracies)
        return TrainResult(status="rung", epochs=last_epoch, sparsity=sparsity if pruning else None,
                           val_accuracies=val_accuracies, state=state.to_bytes())
    assert best_state is not None  # every epoch from the first counted one on can be the best
    network.load_state_dict(best_state)
    final_architecture, final_network = architecture, network
    if plan is not None:  # the best-validation weights with the channels masked at that epoch removed
        assert best_keep is not None  # the best epoch comes after masks were first set
        network.set_masks({})
        final_architecture, final_network = prune_network(architecture, network, plan, best_keep, config.dropout)
        final_network.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # stubs lack it
    test_accuracy = accuracy(final_network, test, binary)
    int8_accuracy = _int8_accuracy(final_network, val, test, config, binary)
    return TrainResult(
        status="ok", val_error=1.0 - best_accuracy, test_error=1.0 - test_accuracy,
        int8_test_error=1.0 - int8_accuracy, pruned_architecture=final_architecture,
        resources=compute_resources(final_architecture, TRAINED), epochs=config.epochs,
        sparsity=sparsity if pruning else None, val_accuracies=val_accuracies,
        weights={k: v.detach().cpu() for k, v in final_network.state_dict().items()},
    )


def _cpu(tensors: dict) -> dict:
    """A copy of a dict of tensors on the CPU (what a :class:`TrainingState` holds)."""
    return {key: value.detach().cpu().clone() for key, value in tensors.items()}


def _int8_accuracy(network: GraphNetwork, val: _Data, test: _Data, config: TrainConfig, binary: bool) -> float:
    calibration = [x for x, _ in val.slices(config.batch_size)][: config.calibration_batches]
    return accuracy(quantize_network(network, calibration), test, binary)

"""Zero-cost proxies: cheap signals of a network's trainability at initialisation.

Computed on every proposed child (``search`` with a predictor) in a few milliseconds, before
anything is trained, and given to the predictor as attributes of the candidate
(``candidate.proxies``). Three are computed, all as natural logarithms since they span orders
of magnitude:

* ``synflow`` (Tanaka et al., 2020; as a NAS proxy, Abdelfattah et al., 2021): with every
  parameter replaced by its absolute value, BatchNorm at its initial (identity) statistics
  and an input of ones, :math:`R = \\sum f(\\mathbf 1)` and the score is
  :math:`\\sum_\\theta |\\theta \\odot \\partial R / \\partial\\theta|`; data-free, it measures
  how much signal the network's paths can carry;
* ``naswot`` (Mellor et al., 2021): the log-determinant of the kernel
  :math:`K_{ij} = N_A - d_H(c_i, c_j)` of the binary ReLU activation codes :math:`c_i` of a
  batch of real inputs (:math:`N_A` units, :math:`d_H` the Hamming distance); networks that
  separate the inputs well at initialisation tend to train well;
* ``grad_norm`` (Abdelfattah et al., 2021): the L2 norm of the loss gradient over all
  parameters on that batch.

The network is built with its own seed inside a forked RNG, so computing proxies does not
change any random draw of the search or of the training. ``benchmarks/proxies.py`` measures
the cost per child and whether the proxies help the predictor.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from munas.space.architecture import Architecture
from munas.training.model import ConvUnit, DenseUnit, build_network

PROXIES: tuple[str, ...] = ("synflow", "naswot", "grad_norm")
BATCH = 8
"""Images per proxy batch: the forward and backward pass on it is the proxies' whole cost (32
images took 4x as long as 8 on Fashion-MNIST networks, over the 50 ms a child may cost)."""


def proxy_batch(x: torch.Tensor, y: torch.Tensor, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed batch of :data:`BATCH` training images and labels (NCHW), the same for every child."""
    generator = torch.Generator().manual_seed(seed)
    index = torch.randperm(len(y), generator=generator)[:BATCH]
    return x[index].float(), y[index]


def zero_cost_proxies(architecture: Architecture, x: torch.Tensor, y: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """The :data:`PROXIES` of ``architecture`` at initialisation on the batch ``(x, y)`` (NCHW)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = build_network(architecture)
    scores = _naswot_and_grad_norm(network, x, y, architecture.num_classes == 2)
    scores["synflow"] = _synflow(network, tuple(x.shape[1:]))
    return {name: scores[name] for name in PROXIES}


def _naswot_and_grad_norm(network: torch.nn.Module, x: torch.Tensor, y: torch.Tensor,
                          binary: bool) -> dict[str, float]:
    codes: list[torch.Tensor] = []

    def record(_module: torch.nn.Module, _inputs: object, output: torch.Tensor) -> None:
        codes.append((output.detach() > 0).flatten(1).float())

    hooks = [unit.register_forward_hook(record) for unit in network.modules()
             if isinstance(unit, ConvUnit | DenseUnit) and unit.relu]
    network.train()
    try:
        logits = network(x)
    finally:
        for hook in hooks:
            hook.remove()
    loss = F.binary_cross_entropy_with_logits(logits.squeeze(1), y.float()) if binary else F.cross_entropy(logits, y)
    network.zero_grad(set_to_none=True)
    loss.backward()
    squares = sum(float(p.grad.pow(2).sum()) for p in network.parameters() if p.grad is not None)
    naswot = 0.0
    if codes:
        c = torch.cat(codes, dim=1).double()
        kernel = c @ c.T + (1 - c) @ (1 - c).T
        naswot = float(torch.linalg.slogdet(kernel)[1])
    return {"naswot": naswot if math.isfinite(naswot) else 0.0, "grad_norm": 0.5 * math.log(squares + 1e-30)}


def _synflow(network: torch.nn.Module, sample_shape: tuple[int, ...]) -> float:
    network = network.double().eval()  # eval: BatchNorm applies its initial (0, 1) statistics
    with torch.no_grad():
        for p in network.parameters():
            p.abs_()
    network.zero_grad(set_to_none=True)
    network(torch.ones((1, *sample_shape), dtype=torch.float64)).sum().backward()
    score = sum(float((p.detach() * p.grad).abs().sum()) for p in network.parameters() if p.grad is not None)
    return math.log(score) if score > 0 else 0.0

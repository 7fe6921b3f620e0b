"""One Adam step over the parameters of a 784-512-512-10 MLP: ours vs PyTorch vs NumPy.

    python benchmarks/bench_optim.py [--repeats 400]

Compares ``auto_compyute.optim.Adam`` with ``torch.optim.Adam(foreach=True)`` on the CPU
(``torch.set_num_threads(2)``) and with a plain hand-written NumPy Adam, all in float32 on
the same parameter shapes and gradients, in one run. Each implementation is timed over a
block of consecutive steps, as a training loop calls it; the blocks take turns, round after
round, so that load from elsewhere on the machine hits all three alike, and a short pause
before each block lets the previous implementation's worker threads go idle (PyTorch's
OpenMP threads keep spinning for a while after an op, which would take a core from the
next block). Besides the ratio of median step times the script prints the median of the
per-round ratios. Target: ours <= 1.2x PyTorch's median time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

import auto_compyute as ac
from auto_compyute import optim

SHAPES = [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]
LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8
TARGET = 1.2
BLOCK = 20  # timed steps per implementation per round
PAUSE = 0.05  # seconds before each block


def ours(weights: list[np.ndarray], grads: list[np.ndarray]) -> Callable[[], None]:
    params = [ac.tensor(w, req_grad=True) for w in weights]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.copy()
    return optim.Adam(params, lr=LR, betas=BETAS, eps=EPS).step


def pytorch(weights: list[np.ndarray], grads: list[np.ndarray]) -> Callable[[], None]:
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.tensor(g)
    return torch.optim.Adam(params, lr=LR, betas=BETAS, eps=EPS, foreach=True).step


def hand_written_numpy(weights: list[np.ndarray], grads: list[np.ndarray]) -> Callable[[], None]:
    params = [w.copy() for w in weights]
    ms = [np.zeros_like(w) for w in weights]
    vs = [np.zeros_like(w) for w in weights]
    t = 0

    def step() -> None:
        nonlocal t
        t += 1
        beta1, beta2 = BETAS
        step_size = LR / (1 - beta1**t)
        bias2_sqrt = (1 - beta2**t) ** 0.5
        for p, g, m, v in zip(params, grads, ms, vs, strict=True):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            p -= step_size * m / (np.sqrt(v) / bias2_sqrt + EPS)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=400, help="timed steps per implementation")
    args = parser.parse_args()
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype(np.float32) * 0.05 for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in SHAPES]
    steps = {
        "ours": ours(weights, grads),
        "torch foreach": pytorch(weights, grads),
        "numpy": hand_written_numpy(weights, grads),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():  # warm up: state allocation, caches
        for _ in range(10):
            step()
    names = list(steps)
    rounds = max(args.repeats // BLOCK, 1)
    for round_ in range(rounds):
        for name in names[round_ % 3 :] + names[: round_ % 3]:
            time.sleep(PAUSE)
            steps[name]()  # untimed: wakes this implementation's threads
            for _ in range(BLOCK):
                start = time.perf_counter()
                steps[name]()
                times[name].append(time.perf_counter() - start)

    count = sum(int(np.prod(s)) for s in SHAPES)
    print(
        f"Adam step over {count:,} float32 parameters (784-512-512-10 MLP): "
        f"{rounds} rounds of {BLOCK} steps each"
    )
    median = {name: float(np.median(t)) for name, t in times.items()}
    for name, t in times.items():
        print(f"  {name:14s} median {median[name] * 1e3:7.3f} ms   min {min(t) * 1e3:7.3f} ms")
    per_round = {
        name: np.median(np.reshape(t, (rounds, BLOCK)), axis=1) for name, t in times.items()
    }
    for other in ("torch foreach", "numpy"):
        ratio = median["ours"] / median[other]
        paired = float(np.median(per_round["ours"] / per_round[other]))
        print(f"  ours / {other:14s} {ratio:.2f}x   (median of per-round ratios {paired:.2f}x)")
    ratio = median["ours"] / median["torch foreach"]
    verdict = "met" if ratio <= TARGET else "MISSED"
    print(f"  target ours <= {TARGET}x torch foreach: {verdict}")


if __name__ == "__main__":
    main()

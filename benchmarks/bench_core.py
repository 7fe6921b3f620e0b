"""ac-core speed against PyTorch (CPU, 2 threads) and hand-written NumPy.

Each framework runs each workload in a process of its own (so thread pools and
allocators do not interfere); this script starts them, one run overall, and prints the
median time per step and the ratios. Workloads:

- chain: 250 small elementwise ops on an (8,) tensor, forward + backward (per-op overhead);
- mlp: a 784-512-512-10 MLP on a batch of 128 (float32), forward + backward + SGD update,
  written with ac-core tensors only; both libraries update each parameter with
  ``p.sub_(p.grad, alpha=lr)`` under ``no_grad`` (one fused pass each; hand-written NumPy
  has no fused form and takes two);
- products: only the eight matrix products of that MLP step (three forward, five
  backward) on operands of the same shapes: the part of the step that NumPy's BLAS
  decides, and so a floor for any NumPy-based library.

The frameworks take turns for ``ROUNDS`` rounds (each round a fresh process per framework
and workload), and the median over all timed steps of all rounds is reported: on a
machine shared with other jobs, one process per framework run at different moments
would move the ratios by 10-20%.

Run: ``python benchmarks/bench_core.py`` (needs ac-core and torch installed).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

FRAMEWORKS = ("ours", "torch", "numpy")
WORKLOADS = {"chain": 200, "mlp": 30, "products": 30}  # workload -> timed steps per round
ROUNDS = 3
TARGETS = {"chain": {"torch": 0.6}, "mlp": {"torch": 1.2, "numpy": 1.05}}  # ours / other


def step_times(step: Callable[[], object], repeats: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


# ---------------------------------------------------------------- chain
def chain_ours() -> Callable[[], object]:
    import auto_compyute as ac

    x = ac.randn(8, req_grad=True)
    w, b = ac.randn(8), ac.randn(8)

    def step() -> None:
        y = x
        for _ in range(50):
            y = (y * w + b).tanh() * 0.9 - b
        y.sum().backward()

    return step


def chain_torch() -> Callable[[], object]:
    import torch

    x = torch.randn(8, requires_grad=True)
    w, b = torch.randn(8), torch.randn(8)

    def step() -> None:
        y = x
        for _ in range(50):
            y = (y * w + b).tanh() * 0.9 - b
        y.sum().backward()

    return step


def chain_numpy() -> Callable[[], object]:
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(8).astype(np.float32) for _ in range(3))

    def step() -> np.ndarray:
        y, saved = x, []
        for _ in range(50):
            t = np.tanh(y * w + b)
            saved.append(t)
            y = t * np.float32(0.9) - b
        grad = np.ones_like(y)
        for t in reversed(saved):
            grad = grad * np.float32(0.9) * (1 - t * t) * w
        return grad

    return step


# ---------------------------------------------------------------- mlp
SIZES = (784, 512, 512, 10)
BATCH, LR = 128, 0.01


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((BATCH, SIZES[0])).astype(np.float32), rng.integers(0, 10, BATCH)


def _weights() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    params = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        bound = 1 / np.sqrt(fan_in)
        params += [
            rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
            rng.uniform(-bound, bound, fan_out).astype(np.float32),
        ]
    return params


def mlp_ours() -> Callable[[], object]:
    import auto_compyute as ac

    x_np, y_np = _data()
    x, rows = ac.tensor(x_np), ac.arange(BATCH)
    y = ac.tensor(y_np)
    params = [ac.tensor(p, req_grad=True) for p in _weights()]

    def step() -> None:
        h = x
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i < len(params) - 2:
                h = h.relu()
        loss = -h.log_softmax(dim=-1)[rows, y].mean()
        loss.backward()
        with ac.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=LR)
                p.grad = None

    return step


def mlp_torch() -> Callable[[], object]:
    import torch

    x_np, y_np = _data()
    x, y = torch.tensor(x_np), torch.tensor(y_np)
    params = [torch.tensor(p, requires_grad=True) for p in _weights()]

    def step() -> None:
        h = x
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i < len(params) - 2:
                h = h.relu()
        loss = torch.nn.functional.cross_entropy(h, y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=LR)
                p.grad = None

    return step


def mlp_numpy() -> Callable[[], object]:
    x, y = _data()
    w1, b1, w2, b2, w3, b3 = _weights()
    rows = np.arange(BATCH)

    def step() -> None:
        h1 = np.maximum(x @ w1 + b1, 0)
        h2 = np.maximum(h1 @ w2 + b2, 0)
        logits = h2 @ w3 + b3
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        g3 = probs
        g3[rows, y] -= 1
        g3 /= BATCH
        g2 = (g3 @ w3.T) * (h2 > 0)
        g1 = (g2 @ w2.T) * (h1 > 0)
        grads = (x.T @ g1, g1.sum(0), h1.T @ g2, g2.sum(0), h2.T @ g3, g3.sum(0))
        for p, g in zip((w1, b1, w2, b2, w3, b3), grads, strict=False):
            p -= LR * g

    return step


# ---------------------------------------------------------------- products
def _product_operands() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    shapes = {"x": (BATCH, 784), "h1": (BATCH, 512), "h2": (BATCH, 512), "g1": (BATCH, 512)}
    shapes |= {"g2": (BATCH, 512), "g3": (BATCH, 10), "w1": (784, 512), "w2": (512, 512)}
    shapes |= {"w3": (512, 10)}
    return {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}


def _products(a: dict[str, Any]) -> Callable[[], object]:
    def step() -> tuple[Any, ...]:
        return (
            a["x"] @ a["w1"],
            a["h1"] @ a["w2"],
            a["h2"] @ a["w3"],
            a["g3"] @ a["w3"].T,
            a["g2"] @ a["w2"].T,
            a["x"].T @ a["g1"],
            a["h1"].T @ a["g2"],
            a["h2"].T @ a["g3"],
        )

    return step


def products_ours() -> Callable[[], object]:
    import auto_compyute as ac

    return _products({k: ac.tensor(v) for k, v in _product_operands().items()})


def products_torch() -> Callable[[], object]:
    import torch

    return _products({k: torch.tensor(v) for k, v in _product_operands().items()})


def products_numpy() -> Callable[[], object]:
    return _products(_product_operands())


def worker(framework: str, workload: str) -> list[float]:
    if framework == "torch":
        import torch

        torch.set_num_threads(2)
    step = globals()[f"{workload}_{framework}"]()
    return step_times(step, WORKLOADS[workload])


def main() -> None:
    times: dict[str, dict[str, list[float]]] = {w: {f: [] for f in FRAMEWORKS} for w in WORKLOADS}
    for _ in range(ROUNDS):
        for workload in WORKLOADS:
            for framework in FRAMEWORKS:
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", framework, workload],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                times[workload][framework] += json.loads(out)["times"]
    print(
        f"{'workload':<8} {'ours':>10} {'torch':>10} {'numpy':>10}"
        f" {'ours/torch':>11} {'ours/numpy':>11}"
    )
    median = {w: {f: float(np.median(t)) for f, t in fs.items()} for w, fs in times.items()}
    for workload, t in median.items():
        print(
            f"{workload:<8} {t['ours'] * 1e3:>8.3f}ms {t['torch'] * 1e3:>8.3f}ms"
            f" {t['numpy'] * 1e3:>8.3f}ms"
            f" {t['ours'] / t['torch']:>10.2f}x {t['ours'] / t['numpy']:>10.2f}x"
        )
    for workload, targets in TARGETS.items():
        for other, target in targets.items():
            ratio = median[workload]["ours"] / median[workload][other]
            verdict = "met" if ratio <= target else "MISSED"
            print(f"target {workload} ours/{other} <= {target:.2f}x: {verdict}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps({"times": worker(sys.argv[2], sys.argv[3])}))
    else:
        main()

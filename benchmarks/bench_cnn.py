"""A small CNN training step: ac-nn against PyTorch (CPU, 2 threads) and hand-written NumPy.

The network is conv(1->16, 5) - ReLU - maxpool 2 - conv(16->32, 5) - ReLU - maxpool 2 -
Linear(512 -> 10) with cross-entropy, on a batch of 64 float32 images of 28x28; one step
is forward + backward + an SGD update. Each framework runs in a process of its own (so
thread pools and allocators do not interfere), several rounds in turn, so that load from
other processes on the machine hits all of them alike. The script prints the median and
the best time per step over all rounds and the ratios to PyTorch, then the peak memory
growth of one step as ``bench_nn.py`` measures it (Linux only).

Run: ``python benchmarks/bench_cnn.py [--rounds 3] [--steps 40]`` (needs ac-core, ac-optim,
ac-nn and torch installed, or the packages' ``src`` folders on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
from bench_nn import MEMORY_ENV, peak_memory

FRAMEWORKS = ("ours", "torch", "numpy")
BATCH, LR, WARMUP = 64, 0.01, 5


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, BATCH)


def _weights() -> list[np.ndarray]:
    """PyTorch's default initialisation, drawn once so every framework starts alike."""
    rng = np.random.default_rng(1)
    shapes = [((16, 1, 5, 5), 25), ((32, 16, 5, 5), 400), ((10, 512), 512)]
    params = []
    for shape, fan_in in shapes:
        bound = 1 / np.sqrt(fan_in)
        params += [
            rng.uniform(-bound, bound, shape).astype(np.float32),
            rng.uniform(-bound, bound, shape[0]).astype(np.float32),
        ]
    return params


def ours() -> Callable[[], object]:
    import auto_compyute as ac
    import auto_compyute.nn.functional as F
    from auto_compyute import nn

    model = nn.Sequential(
        nn.Conv2d(1, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(512, 10),
    )
    model.load_state_dict(dict(zip(model.state_dict(), _weights(), strict=True)))
    optimizer = ac.optim.SGD(model.parameters(), lr=LR)
    x_np, y_np = _data()
    x, y = ac.tensor(x_np), ac.tensor(y_np)

    def step() -> None:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    return step


def torch() -> Callable[[], object]:
    import torch as pt

    model = pt.nn.Sequential(
        pt.nn.Conv2d(1, 16, 5),
        pt.nn.ReLU(),
        pt.nn.MaxPool2d(2),
        pt.nn.Conv2d(16, 32, 5),
        pt.nn.ReLU(),
        pt.nn.MaxPool2d(2),
        pt.nn.Flatten(),
        pt.nn.Linear(512, 10),
    )
    model.load_state_dict(
        {k: pt.tensor(v) for k, v in zip(model.state_dict(), _weights(), strict=True)}
    )
    optimizer = pt.optim.SGD(model.parameters(), lr=LR)
    x_np, y_np = _data()
    x, y = pt.tensor(x_np), pt.tensor(y_np)

    def step() -> None:
        optimizer.zero_grad()
        pt.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    return step


# ---------------------------------------------------------------- hand-written NumPy
def _im2col(x: np.ndarray, k: int) -> np.ndarray:
    """(N, C, H, W) -> (C*k*k, N*OH*OW) for a stride-1 k x k kernel."""
    n, c, h, w = x.shape
    sn, sc, sh, sw = x.strides
    view = np.lib.stride_tricks.as_strided(
        x, (c, k, k, n, h - k + 1, w - k + 1), (sc, sh, sw, sn, sh, sw)
    )
    return view.reshape(c * k * k, -1)


def _col2im(cols: np.ndarray, shape: tuple[int, ...], k: int) -> np.ndarray:
    n, c, h, w = shape
    oh, ow = h - k + 1, w - k + 1
    out = np.zeros(shape, dtype=cols.dtype)
    cols = cols.reshape(c, k, k, n, oh, ow)
    for i in range(k):
        for j in range(k):
            out[:, :, i : i + oh, j : j + ow] += cols[:, i, j].transpose(1, 0, 2, 3)
    return out


def _pool(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max pool of (N, C, H, W), with a mask of where the maxima are."""
    out = np.maximum(
        np.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2]),
        np.maximum(x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]),
    )
    return out, x == _upsample(out)


def _upsample(x: np.ndarray) -> np.ndarray:
    return x.repeat(2, axis=2).repeat(2, axis=3)


def numpy() -> Callable[[], object]:
    x, y = _data()
    params = _weights()
    rows = np.arange(BATCH)

    def step() -> None:
        w1, b1, w2, b2, w3, b3 = params
        c1 = _im2col(x, 5)
        a1 = (
            (w1.reshape(16, -1) @ c1 + b1[:, None]).reshape(16, BATCH, 24, 24).transpose(1, 0, 2, 3)
        )
        r1 = np.maximum(a1, 0)
        p1, m1 = _pool(r1)
        c2 = _im2col(p1, 5)
        a2 = (w2.reshape(32, -1) @ c2 + b2[:, None]).reshape(32, BATCH, 8, 8).transpose(1, 0, 2, 3)
        r2 = np.maximum(a2, 0)
        p2, m2 = _pool(r2)
        flat = p2.reshape(BATCH, -1)
        logits = flat @ w3.T + b3
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        g = probs
        g[rows, y] -= 1
        g /= BATCH
        grads = [None] * 6
        grads[4], grads[5] = g.T @ flat, g.sum(0)
        g = (g @ w3).reshape(p2.shape)
        # NOTE: every tied maximum of a window gets the gradient; the ties here are ReLU
        # zeros, whose gradient the ReLU mask then clears.
        g = m2 * _upsample(g) * (a2 > 0)
        g2 = g.transpose(1, 0, 2, 3).reshape(32, -1)
        grads[2], grads[3] = (g2 @ c2.T).reshape(w2.shape), g2.sum(1)
        g = _col2im(w2.reshape(32, -1).T @ g2, p1.shape, 5)
        g = m1 * _upsample(g) * (a1 > 0)
        g1 = g.transpose(1, 0, 2, 3).reshape(16, -1)
        grads[0], grads[1] = (g1 @ c1.T).reshape(w1.shape), g1.sum(1)
        for p, grad in zip(params, grads, strict=True):
            p -= LR * grad

    return step


def worker(framework: str, steps: int) -> list[float]:
    if framework == "torch":
        import torch as pt

        pt.set_num_threads(2)
    step = globals()[framework]()
    for _ in range(WARMUP):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="processes per framework, in turn")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per process")
    args = parser.parse_args()
    times: dict[str, list[float]] = {f: [] for f in FRAMEWORKS}
    for _ in range(args.rounds):
        for framework in FRAMEWORKS:
            out = subprocess.run(
                [sys.executable, __file__, "--worker", framework, str(args.steps)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            times[framework] += json.loads(out)["seconds"]
    memory = {f: run_memory_worker(f) for f in ("ours", "torch")}
    median = {f: float(np.median(t)) for f, t in times.items()}
    best = {f: float(np.min(t)) for f, t in times.items()}
    print(
        f"CNN training step, batch {BATCH}, 28x28, float32 "
        f"({args.rounds} x {args.steps} steps each)"
    )
    print(f"{'':>8} {'median':>10} {'best':>10} {'median/torch':>13} {'best/torch':>11}")
    for f in FRAMEWORKS:
        print(
            f"{f:>8} {median[f] * 1e3:>8.2f}ms {best[f] * 1e3:>8.2f}ms"
            f" {median[f] / median['torch']:>12.2f}x {best[f] / best['torch']:>10.2f}x"
        )
    ours_mib, torch_mib = (memory[f]["rss_peak"] / 2**20 for f in ("ours", "torch"))
    print(
        f"Peak memory growth of one step: ours {ours_mib:.1f} MiB, torch {torch_mib:.1f} MiB"
        f" ({ours_mib / torch_mib:.2f}x)"
    )


def run_memory_worker(framework: str) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-worker", framework],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **MEMORY_ENV},
    ).stdout
    return json.loads(out)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps({"seconds": worker(sys.argv[2], int(sys.argv[3]))}))
    elif len(sys.argv) == 3 and sys.argv[1] == "--memory-worker":
        if sys.argv[2] == "torch":
            import torch as pt

            pt.set_num_threads(2)
        print(json.dumps(peak_memory(globals()[sys.argv[2]](), traced=False)))
    else:
        main()

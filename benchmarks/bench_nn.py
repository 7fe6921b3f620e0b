"""ac-nn training steps against PyTorch (CPU, 2 threads) and, for the MLP, hand-written NumPy.

Workloads (float32, one training step = forward + backward + optimizer step):

- mlp: ``nn.Linear`` 784-512-512-10 with ReLU, batch 128, cross-entropy, SGD;
- gpt: a GPT-style decoder (vocabulary 65, context 64, width 128, 4 heads, 2 pre-norm
  ``TransformerEncoderLayer`` blocks with GELU and a causal mask, batch 32), AdamW;
- gpt_relu: the same with ReLU in the feed-forward blocks (a diagnostic: it separates the
  cost of the GELU op from that of attention, normalization and the linear layers);
- lstm: ``nn.LSTM`` (input 16, hidden 128, 50 time steps, batch 32) and a ``Linear``
  classifier on the last output, Adam.

Time: every (workload, framework) runs in a process of its own, so thread pools and
allocators do not interfere; the frameworks take turns for ``ROUNDS`` rounds, and the
median and the best (minimum) over all timed steps of all rounds are reported: on a
machine shared with other jobs the median suffers from preemption (NumPy's BLAS threads
especially), the best time much less. NumPy's BLAS keeps its default
thread count (2 on the reference machine) and PyTorch runs with ``set_num_threads(2)``.

Peak memory: in a fresh process of its own per framework and workload, after two warm-up
steps (parameters, gradients and optimizer state exist), the kernel's resident-set
high-water mark is reset (``/proc/self/clear_refs``) and the peak growth of the resident
set over one more step is read from ``VmHWM``. ``MALLOC_MMAP_THRESHOLD_`` is fixed for that
process so that glibc returns every large freed buffer to the OS for NumPy and PyTorch
alike (otherwise cached free memory hides part of the peak). This counts the transient
memory of a step (activations, saved tensors, temporaries) the same way for both
libraries. For ours, the peak traced by ``tracemalloc`` (NumPy reports its allocations to
it) is shown as a cross-check. Linux only.

Run: ``python benchmarks/bench_nn.py`` (needs ac-core, ac-optim, ac-nn and torch). The
workers inherit the environment: ``OPENBLAS_THREAD_TIMEOUT=28 python benchmarks/bench_nn.py``
measures with OpenBLAS's default spinning after products (see the README's settings).
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

FRAMEWORKS = {
    "mlp": ("ours", "torch", "numpy"),
    "gpt": ("ours", "torch"),
    "gpt_relu": ("ours", "torch"),
    "lstm": ("ours", "torch"),
}
REPEATS = {"mlp": 40, "gpt": 8, "gpt_relu": 8, "lstm": 15}  # timed steps per round
ROUNDS = 3
TARGETS = {"mlp": 1.2, "gpt": 1.3, "gpt_relu": 1.3, "lstm": 1.5}  # ours / torch
MLP_NUMPY_TARGET = 1.05

MLP_SIZES, MLP_BATCH, MLP_LR = (784, 512, 512, 10), 128, 0.01
VOCAB, CONTEXT, WIDTH, HEADS, BLOCKS, GPT_BATCH = 65, 64, 128, 4, 2, 32
LSTM_INPUT, LSTM_HIDDEN, LSTM_STEPS, LSTM_BATCH, LSTM_CLASSES = 16, 128, 50, 32, 10


# ------------------------------------------------------------------------ models
def mlp_model(nn: Any) -> Any:
    layers: list[Any] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(MLP_SIZES)):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(MLP_SIZES) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def gpt_model(nn: Any, causal_mask: Any, activation: str = "gelu") -> Any:
    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.token = nn.Embedding(VOCAB, WIDTH)
            self.position = nn.Embedding(CONTEXT, WIDTH)
            layer = nn.TransformerEncoderLayer(
                WIDTH,
                HEADS,
                4 * WIDTH,
                dropout=0.0,
                activation=activation,
                batch_first=True,
                norm_first=True,
            )
            self.blocks = nn.TransformerEncoder(layer, BLOCKS, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(WIDTH)
            self.head = nn.Linear(WIDTH, VOCAB)
            self.mask = causal_mask(CONTEXT)

        def forward(self, idx: Any) -> Any:
            x = self.token(idx) + self.position.weight[: idx.shape[1]]
            x = self.blocks(x, mask=self.mask, is_causal=True)
            return self.head(self.norm(x))

    return GPT()


def lstm_model(nn: Any) -> Any:
    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(LSTM_INPUT, LSTM_HIDDEN, batch_first=True)
            self.head = nn.Linear(LSTM_HIDDEN, LSTM_CLASSES)

        def forward(self, x: Any) -> Any:
            output, _ = self.lstm(x)
            return self.head(output[:, -1])

    return Classifier()


def data(workload: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    if workload == "mlp":
        return rng.standard_normal((MLP_BATCH, MLP_SIZES[0])).astype(np.float32), rng.integers(
            0, 10, MLP_BATCH
        )
    if workload.startswith("gpt"):
        tokens = rng.integers(0, VOCAB, (GPT_BATCH, CONTEXT + 1))
        return tokens[:, :-1], tokens[:, 1:]
    x = rng.standard_normal((LSTM_BATCH, LSTM_STEPS, LSTM_INPUT)).astype(np.float32)
    return x, rng.integers(0, LSTM_CLASSES, LSTM_BATCH)


# ---------------------------------------------------------------------- steps
def step_ours(workload: str) -> Callable[[], None]:
    import auto_compyute as ac
    import auto_compyute.nn.functional as F
    from auto_compyute import nn, optim

    ac.manual_seed(0)
    if workload == "mlp":
        model = mlp_model(nn)
        optimizer = optim.SGD(model.parameters(), lr=MLP_LR)
    elif workload.startswith("gpt"):
        activation = "relu" if workload == "gpt_relu" else "gelu"
        model = gpt_model(nn, nn.generate_square_subsequent_mask, activation)
        optimizer = optim.AdamW(model.parameters(), lr=1e-3)
    else:
        model = lstm_model(nn)
        optimizer = optim.Adam(model.parameters(), lr=1e-3)
    x_np, y_np = data(workload)
    x, y = ac.tensor(x_np), ac.tensor(y_np)

    def step() -> None:
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def step_torch(workload: str) -> Callable[[], None]:
    import torch

    torch.manual_seed(0)
    nn = torch.nn
    if workload == "mlp":
        model = mlp_model(nn)
        optimizer: Any = torch.optim.SGD(model.parameters(), lr=MLP_LR)
    elif workload.startswith("gpt"):
        activation = "relu" if workload == "gpt_relu" else "gelu"
        model = gpt_model(nn, nn.Transformer.generate_square_subsequent_mask, activation)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    else:
        model = lstm_model(nn)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x_np, y_np = data(workload)
    x, y = torch.tensor(x_np), torch.tensor(y_np)

    def step() -> None:
        logits = model(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def step_numpy(workload: str) -> Callable[[], None]:
    """The MLP step written by hand: the floor any NumPy-based library can reach."""
    x, y = data("mlp")
    rng = np.random.default_rng(1)
    params = []
    for fan_in, fan_out in itertools.pairwise(MLP_SIZES):
        bound = 1 / np.sqrt(fan_in)
        params += [
            rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
            rng.uniform(-bound, bound, fan_out).astype(np.float32),
        ]
    w1, b1, w2, b2, w3, b3 = params
    rows = np.arange(MLP_BATCH)

    def step() -> None:
        h1 = np.maximum(x @ w1.T + b1, 0)
        h2 = np.maximum(h1 @ w2.T + b2, 0)
        logits = h2 @ w3.T + b3
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        probs[rows, y] -= 1
        g3 = probs / np.float32(MLP_BATCH)
        g2 = (g3 @ w3) * (h2 > 0)
        g1 = (g2 @ w2) * (h1 > 0)
        grads = (g1.T @ x, g1.sum(0), g2.T @ h1, g2.sum(0), g3.T @ h2, g3.sum(0))
        for p, g in zip(params, grads, strict=True):
            p -= np.float32(MLP_LR) * g

    return step


# --------------------------------------------------------------------- workers
def _status(field: str) -> int:
    """A field of /proc/self/status in bytes (VmRSS, VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not found in /proc/self/status")


def time_worker(framework: str, workload: str) -> dict[str, Any]:
    if framework == "torch":
        import torch

        torch.set_num_threads(2)
    step = globals()[f"step_{framework}"](workload)
    for _ in range(3):
        step()
    times = []
    for _ in range(REPEATS[workload]):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {"times": times}


def memory_worker(framework: str, workload: str) -> dict[str, Any]:
    if framework == "torch":
        import torch

        torch.set_num_threads(2)
    return peak_memory(globals()[f"step_{framework}"](workload), traced=framework == "ours")


def peak_memory(step: Callable[[], object], traced: bool) -> dict[str, Any]:
    """Peak growth of the resident set over one ``step`` (after two warm-up steps).

    Run it in a process started with ``MEMORY_ENV`` (see the module docstring). With
    ``traced``, the peak that ``tracemalloc`` sees over one more step is added.
    """
    step()
    step()
    gc.collect()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset VmHWM to the current resident set
    before = _status("VmRSS")
    step()
    result: dict[str, Any] = {"rss_peak": _status("VmHWM") - before}
    if traced:
        import tracemalloc

        gc.collect()
        tracemalloc.start()
        start, _ = tracemalloc.get_traced_memory()
        step()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["traced_peak"] = peak - start
    return result


# glibc returns every large freed buffer to the system, for every framework alike.
MEMORY_ENV = {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}


def run_worker(kind: str, framework: str, workload: str) -> dict[str, Any]:
    env = dict(os.environ)
    if kind == "memory":
        env.update(MEMORY_ENV)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, framework, workload],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"CPU cores: {os.cpu_count()}, load average at start: {load:.2f}")
    times: dict[str, dict[str, list[float]]] = {
        w: {f: [] for f in fs} for w, fs in FRAMEWORKS.items()
    }
    for _ in range(ROUNDS):
        for workload, frameworks in FRAMEWORKS.items():
            for framework in frameworks:
                times[workload][framework] += run_worker("time", framework, workload)["times"]
    memory = {
        w: {f: run_worker("memory", f, w) for f in fs if f != "numpy"}
        for w, fs in FRAMEWORKS.items()
    }
    median = {w: {f: float(np.median(t)) for f, t in fs.items()} for w, fs in times.items()}
    best = {w: {f: float(np.min(t)) for f, t in fs.items()} for w, fs in times.items()}

    def cell(t: dict[str, float], b: dict[str, float], name: str) -> str:
        return f"{t[name] * 1e3:8.2f} ({b[name] * 1e3:7.2f})" if name in t else f"{'-':>18}"

    def ratio(t: dict[str, float], b: dict[str, float], name: str) -> str:
        if name not in t:
            return f"{'-':>15}"
        return f"{t['ours'] / t[name]:6.2f}x ({b['ours'] / b[name]:5.2f}x)"

    print("\nTime per training step in ms: median (best) over all timed steps")
    print(
        f"{'workload':<8} {'ours':>18} {'torch':>18} {'numpy':>18}"
        f" {'ours/torch':>15} {'target':>7} {'ours/numpy':>15}"
    )
    for workload, t in median.items():
        b = best[workload]
        print(
            f"{workload:<8} {cell(t, b, 'ours')} {cell(t, b, 'torch')} {cell(t, b, 'numpy')}"
            f" {ratio(t, b, 'torch')} {TARGETS[workload]:6.2f}x {ratio(t, b, 'numpy')}"
        )
    targets = [(w, "torch", TARGETS[w]) for w in median] + [("mlp", "numpy", MLP_NUMPY_TARGET)]
    for workload, other, target in targets:
        by_median = median[workload]["ours"] / median[workload][other]
        by_best = best[workload]["ours"] / best[workload][other]
        verdict = (
            "met"
            if by_median <= target
            else "met by best times only"
            if by_best <= target
            else "MISSED"
        )
        print(f"target {workload} ours/{other} <= {target:.2f}x: {verdict}")

    print("\nPeak memory growth during one training step (resident set, MiB):")
    print(f"{'workload':<8} {'ours':>10} {'torch':>10} {'ours/torch':>11} {'ours traced':>12}")
    for workload, m in memory.items():
        ours, torch_peak = m["ours"]["rss_peak"], m["torch"]["rss_peak"]
        # a growth of less than a MiB is within the noise of the resident set: no ratio
        ratio = f"{ours / torch_peak:>10.2f}x" if torch_peak >= 2**20 else f"{'-':>11}"
        print(
            f"{workload:<8} {ours / 2**20:>10.1f} {torch_peak / 2**20:>10.1f}"
            f" {ratio} {m['ours']['traced_peak'] / 2**20:>12.1f}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        worker = time_worker if sys.argv[2] == "time" else memory_worker
        print(json.dumps(worker(sys.argv[3], sys.argv[4])))
    else:
        main()

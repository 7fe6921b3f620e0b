"""Elementwise kernels split across threads give the results of one call on whole arrays."""

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute._core import parallel


def _kernel(x: np.ndarray, out: np.ndarray) -> None:
    np.exp(x, out)
    out *= x
    time.sleep(0.002)  # each thread takes the next piece when free: give the workers time
    _kernel.threads.add(threading.get_ident())  # type: ignore[attr-defined]
    _kernel.calls += 1  # type: ignore[attr-defined]


@pytest.fixture
def threads():
    before = ac.get_num_threads()
    _kernel.threads = set()  # type: ignore[attr-defined]
    _kernel.calls = 0  # type: ignore[attr-defined]
    yield
    ac.set_num_threads(before)


@pytest.mark.parametrize("num_threads", [1, 2, 3])
def test_split_kernel_matches_one_call(threads, num_threads: int) -> None:
    ac.set_num_threads(num_threads)
    x = np.random.default_rng(0).standard_normal((5, parallel.PIECE_SIZE + 7)).astype(np.float32)
    out = np.empty_like(x)
    parallel.run_split(_kernel, x, out)
    np.testing.assert_array_equal(out, np.exp(x) * x)
    used = _kernel.threads  # type: ignore[attr-defined]
    if num_threads > 1:  # the calling thread takes a share, worker threads the others
        assert threading.get_ident() in used and len(used) > 1
    else:  # piece after piece on the calling thread
        assert used == {threading.get_ident()} and _kernel.calls > 1  # type: ignore[attr-defined]


def test_small_or_strided_arrays_run_in_one_call(threads) -> None:
    ac.set_num_threads(2)
    x = np.ones((4, parallel.PIECE_SIZE), np.float32)
    for array in (x[:1], x.T, x[:, ::2]):
        out = np.empty_like(array)
        parallel.run_split(_kernel, array, out)
        np.testing.assert_array_equal(out, np.exp(array) * array)
    assert _kernel.threads == {threading.get_ident()}  # type: ignore[attr-defined]


def _row_kernel(x: np.ndarray, out: np.ndarray, sums: np.ndarray, none: None) -> None:
    assert none is None
    sums[...] = x.sum(axis=1)
    np.subtract(x, sums[:, None], out)
    _kernel.threads.add(threading.get_ident())  # type: ignore[attr-defined]
    _kernel.calls += 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("num_threads", [1, 2])
@pytest.mark.parametrize("row_size", [1000, 3 * parallel.PIECE_SIZE])
def test_split_rows_give_whole_rows(threads, num_threads: int, row_size: int) -> None:
    ac.set_num_threads(num_threads)
    x = np.random.default_rng(0).standard_normal((700 * 1000 // row_size + 2, row_size))
    out, sums = np.empty_like(x), np.empty(len(x))
    parallel.run_split_rows(_row_kernel, x, out, sums, None)
    np.testing.assert_allclose(sums, x.sum(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(out, x - sums[:, None])
    assert _kernel.calls > 1  # type: ignore[attr-defined]


def test_split_rows_of_small_arrays_run_in_one_call(threads) -> None:
    ac.set_num_threads(2)
    x = np.ones((100, 100))
    out, sums = np.empty_like(x), np.empty(len(x))
    parallel.run_split_rows(_row_kernel, x, out, sums, None)
    assert _kernel.calls == 1  # type: ignore[attr-defined]
    np.testing.assert_array_equal(out, x - 100)


def test_calls_run_in_worker_threads(threads) -> None:
    ac.set_num_threads(2)
    results: list[int] = []
    parallel.run_calls([lambda i=i: results.append(i) for i in range(5)])
    assert sorted(results) == list(range(5))


def test_a_failing_call_returns_only_after_the_other_threads_stopped(threads) -> None:
    ac.set_num_threads(2)
    caller, worker_busy = threading.get_ident(), threading.Event()
    finished: list[int] = []

    def call(i: int) -> None:
        if threading.get_ident() == caller:  # fails once a worker is inside a call
            worker_busy.wait(5)
            raise ValueError("boom")
        worker_busy.set()
        time.sleep(0.02)
        finished.append(i)

    with pytest.raises(ValueError, match="boom"):
        parallel.run_calls([lambda i=i: call(i) for i in range(3)])
    assert worker_busy.is_set() and len(finished) == 2  # the worker finished what it took


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_num_threads_must_be_a_positive_integer(bad) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        ac.set_num_threads(bad)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_worker_threads_of_its_own(threads) -> None:
    ac.set_num_threads(2)
    x = np.ones(4 * parallel.PIECE_SIZE, np.float32)
    parallel.run_split(_kernel, x, np.empty_like(x))  # the parent's pool exists now
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the split kernel ran (a hang fails by timeout)
        out = np.empty_like(x)
        parallel.run_split(_kernel, x, out)
        os._exit(0 if np.array_equal(out, np.exp(x) * x) else 1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked child hung on the parent's worker threads")


def _spin_probe(before_probe: str = "", **env: str) -> list:
    """Run ``_SPIN_PROBE`` in a fresh interpreter: OpenBLAS's spin settings before and after."""
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run(
        [sys.executable, "-c", before_probe + _SPIN_PROBE],
        capture_output=True,
        text=True,
        check=True,
        env=environment | env,
    ).stdout
    return json.loads(out)


_SPIN_PROBE = """
import json
import os
import numpy as np
from auto_compyute._core import parallel
libraries = parallel.openblas_libraries()
before = [library.openblas_thread_timeout() for library in libraries]
a = np.random.default_rng(0).standard_normal((300, 300))
expected = a @ a
parallel.set_num_threads(2)
parallel.run_calls([lambda: None] * 2)  # the first use of worker threads
after = [library.openblas_thread_timeout() for library in libraries]
same_product = bool(np.array_equal(a @ a, expected))
print(json.dumps([before, after, same_product, os.getenv("OPENBLAS_THREAD_TIMEOUT")]))
"""


needs_openblas = pytest.mark.skipif(
    not parallel.openblas_libraries(), reason="NumPy here does not use OpenBLAS (or not Linux)"
)


@needs_openblas
def test_first_threaded_kernel_shortens_openblas_spin() -> None:
    before, after, same_product, variable = _spin_probe()
    assert before and set(before) == {0} and set(after) == {20}
    assert same_product and variable is None  # products still right; no variable left behind


@needs_openblas
def test_openblas_spin_the_user_set_is_kept() -> None:
    before, after, _, variable = _spin_probe(OPENBLAS_THREAD_TIMEOUT="25")
    assert before == after and set(after) == {25} and variable == "25"


@needs_openblas
def test_openblas_spin_is_left_alone_while_other_threads_run() -> None:
    before, after, _, _ = _spin_probe(
        "import threading\nthreading.Thread(target=threading.Event().wait, daemon=True).start()\n"
    )
    assert before == after == [0] * len(before)

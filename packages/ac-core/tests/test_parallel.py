"""Elementwise kernels split across threads give the results of one call on whole arrays."""

import os
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

"""The seed README's ac-core snippets, run verbatim."""

import auto_compyute as ac


def test_seed_snippet() -> None:
    # creates 2x3 matrices with values drawn from a normal distribution.
    x1 = ac.randn(2, 3, req_grad=True)
    x2 = ac.randn(2, 3, req_grad=True)
    x3 = ac.randn(2, 3, req_grad=True)

    # do some computation
    y = x1**2 + 4 * x2 + x3 + 10
    y  # noqa: B018

    text = repr(y)
    assert text.startswith("Tensor([[") and text.endswith("grad_fn=Add)")
    assert "\n        [" in text  # rows aligned under the first, as PyTorch prints them
    expected = x1.numpy() ** 2 + 4 * x2.numpy() + x3.numpy() + 10
    assert abs(y.numpy() - expected).max() < 1e-5
    y.sum().backward()
    assert abs(x1.grad - 2 * x1.numpy()).max() < 1e-6
    assert (x2.grad == 4).all() and (x3.grad == 1).all()

"""Train a 2-layer MLP on scikit-learn's handwritten digits with ac-core alone.

Everything is written with raw tensors: the weights are leaves with ``req_grad=True``,
the loss is a log-softmax picked at the targets, and the update is plain SGD under
``no_grad``. Run: ``python examples/train_mlp_core.py`` (needs ac-core and scikit-learn).
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import auto_compyute as ac


def main(epochs: int = 40, batch_size: int = 32, lr: float = 0.05, hidden: int = 64) -> float:
    ac.manual_seed(0)
    images, labels = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        images / 16.0, labels, test_size=0.25, random_state=0, stratify=labels
    )
    x_train, x_test = ac.tensor(x_train, dtype=ac.float32), ac.tensor(x_test, dtype=ac.float32)
    y_train, y_test = ac.tensor(y_train), ac.tensor(y_test)

    def layer(fan_in: int, fan_out: int) -> tuple[ac.Tensor, ac.Tensor]:
        bound = 1 / np.sqrt(fan_in)
        weight = (ac.rand(fan_in, fan_out) * 2 - 1) * bound
        bias = (ac.rand(fan_out) * 2 - 1) * bound
        return weight.requires_grad_(), bias.requires_grad_()

    w1, b1 = layer(64, hidden)
    w2, b2 = layer(hidden, 10)
    params = [w1, b1, w2, b2]

    def model(x: ac.Tensor) -> ac.Tensor:
        return (x @ w1 + b1).relu() @ w2 + b2

    for epoch in range(epochs):
        order, total_loss = ac.randperm(len(x_train)), 0.0
        for start in range(0, len(x_train), batch_size):
            batch = order[start : start + batch_size]
            logits = model(x_train[batch])
            loss = -logits.log_softmax(dim=-1)[ac.arange(len(batch)), y_train[batch]].mean()
            for p in params:
                p.grad = None
            loss.backward()
            with ac.no_grad():
                for p in params:
                    p.sub_(p.grad, alpha=lr)  # p -= lr * p.grad, in one pass
            total_loss += loss.item() * len(batch)
        if epoch % 10 == 9 or epoch == epochs - 1:
            with ac.no_grad():
                accuracy = (model(x_test).argmax(dim=-1) == y_test).float().mean().item()
            mean_loss = total_loss / len(x_train)
            print(f"epoch {epoch + 1:3d}  loss {mean_loss:.4f}  test accuracy {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()

"""The smallest complete picture of backprop: one tanh neuron, forward and backward.

    o = tanh(x1·w1 + x2·w2 + b)

Run it with ``make demo`` (or ``python -m examples.demo``).
"""

from __future__ import annotations

import math

from autograd import Value, gradcheck


def main() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()

    print("Forward:  o = tanh(x1*w1 + x2*w2 + b)")
    print(f"  n = {n.data:.4f}    o = tanh(n) = {o.data:.4f}")
    print("Backward: the chain rule, one factor at a time")
    print(f"  do/dn  = 1 - o^2          = {1 - o.data ** 2:.4f}")
    for leaf, other in ((w1, x1), (w2, x2), (x1, w1), (x2, w2)):
        print(f"  do/d{leaf.label} = do/dn * {other.label:<2} = {leaf.grad:+.4f}")
    lr = 0.1
    print(f"Weight updates with learning rate {lr}: Δw = -lr * do/dw")
    for w in (w1, w2, b):
        print(f"  Δ{w.label:<2} = {-lr * w.grad:+.4f}   ({w.label}: {w.data:+.4f} -> {w.data - lr * w.grad:+.4f})")

    def neuron(x1, x2, w1, w2, b):
        return (x1 * w1 + x2 * w2 + b).tanh()

    ok = gradcheck(neuron, [2.0, 0.0, -3.0, 1.0, 6.8813735870195432])
    print(f"gradcheck against central differences: {'passed' if ok else 'failed'}")
    assert math.isclose(w1.grad, 1.0, rel_tol=1e-4)


if __name__ == "__main__":
    main()

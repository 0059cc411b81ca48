"""Print the torch float64 reference numbers pasted into tests/test_nn_conv.py (CONV_REF, POOL_REF).

Run by hand with torch installed (``pip install torch==2.13.0``; the tests never import this):
``python tests/conv_reference.py``.  The draws are the tests' own (``random.Random(seed)``, in the
order input, weight, bias, upstream gradient), so the tests rebuild the same inputs without torch.
"""

from __future__ import annotations

import random
import textwrap
from typing import Any

CONV: list[tuple[Any, ...]] = [  # (C, O, H, W, kernel, stride, padding, seed)
    (2, 3, 5, 4, 3, 1, 0, 1),
    (1, 2, 6, 5, (3, 2), (2, 1), (1, 2), 2),
    (2, 1, 4, 4, 2, 2, 1, 3),
    (3, 2, 5, 5, (2, 3), (1, 2), (0, 1), 4),
]
POOL: list[tuple[Any, ...]] = [  # (C, H, W, kernel, stride, seed, ties)
    (2, 5, 5, 2, None, 5, False),
    (1, 6, 5, (3, 2), (1, 2), 6, False),
    (2, 4, 5, 2, 1, 7, True),
]


def _pair(v: Any) -> tuple[int, int]:
    return v if isinstance(v, tuple) else (v, v)


def _draws(r: random.Random, n: int, ties: bool = False) -> list[float]:
    return [float(r.randint(0, 2)) if ties else r.uniform(-1, 1) for _ in range(n)]


def _text(t: Any) -> str:
    """A tensor's entries, row-major, as a Python string literal wrapped to fit the line length."""
    parts = textwrap.wrap(" ".join(repr(float(v)) for v in t.flatten().tolist()), 96)
    if len(parts) == 1:
        return repr(parts[0])
    lines = "".join(f"            {p + ' '!r}\n" for p in parts[:-1])
    return f"(\n{lines}            {parts[-1]!r}\n        )"


def _entry(key: tuple[Any, ...], tensors: list[tuple[str, Any]]) -> str:
    body = "".join(f"        # {name}, shape {list(t.shape)}\n        {_text(t)},\n" for name, t in tensors)
    return f"    {key!r}: (\n{body}    ),\n"


def main() -> None:
    import torch
    import torch.nn.functional as F

    torch.set_default_dtype(torch.float64)
    out = ["CONV_REF = {\n"]
    for C, O, H, W, k, s, p, seed in CONV:  # noqa: E741
        kh, kw = _pair(k)
        r = random.Random(seed)
        x = torch.tensor(_draws(r, C * H * W)).reshape(1, C, H, W).requires_grad_()
        w = torch.tensor(_draws(r, O * C * kh * kw)).reshape(O, C, kh, kw).requires_grad_()
        b = torch.tensor(_draws(r, O)).requires_grad_()
        y = F.conv2d(x, w, b, stride=s, padding=p)
        (y * torch.tensor(_draws(r, y.numel())).reshape(y.shape)).sum().backward()
        tensors = [("y", y), ("x.grad", x.grad), ("weight.grad", w.grad), ("bias.grad", b.grad)]
        out.append(_entry((C, O, H, W, k, s, p, seed), tensors))
    out.append("}\nPOOL_REF = {\n")
    for C, H, W, k, s, seed, ties in POOL:
        r = random.Random(seed)
        x = torch.tensor(_draws(r, C * H * W, ties)).reshape(1, C, H, W).requires_grad_()
        y = F.max_pool2d(x, k, s)
        (y * torch.tensor(_draws(r, y.numel())).reshape(y.shape)).sum().backward()
        out.append(_entry((C, H, W, k, s, seed, ties), [("y", y), ("x.grad", x.grad)]))
    out.append("}\n")
    print("".join(out), end="")


if __name__ == "__main__":
    main()

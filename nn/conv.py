"""Convolution for images as nested lists: ``Conv2d``, ``MaxPool2d`` and ``Flatten``, in torch's layout.

An image is ``[C][H][W]`` (channels of rows of Values or numbers; a numpy array works too) and
a batch is a list of images.  ``Conv2d`` keeps ``weight`` as ``[out][in][kh][kw]`` Values and
``bias`` as ``[out]`` (``torch.nn.Conv2d``'s shapes, so the parameter names ``weight.o.i.y.x``
are torch's indices) and makes each output pixel ONE ``dot`` node over (the kernel's weights,
the receptive field, the bias); zeros from ``padding`` are left out of the node (they add
nothing).  ``MaxPool2d`` folds each window in row-major order with the registry's ``max_first``
op (``autograd.max_of``): the first maximum takes the gradient on a tie, where torch's goes, and
the graph holds every pixel of the window, so ``autograd.compile`` replays it correctly when
the maxima move.  ``Flatten``
turns ``[C][H][W]`` into one list, channel by channel, ready for a ``Layer``.

Beyond torch's arguments, ``Conv2d(..., activation="relu")`` applies an activation to every
output pixel (default ``"linear"``: torch's plain convolution), as ``Layer`` does, so a CNN
is ``Sequential(Conv2d(1, 4, 3, activation="relu"), MaxPool2d(2), Flatten(), Layer(36, 10))``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from operator import countOf
from typing import Any

from autograd import Value, matvec, max_of

from . import checks
from .activations import get_activation
from .init import Seed, get_init
from .module import Module

__all__ = ["Conv2d", "MaxPool2d", "Flatten"]

Pair = tuple[int, int]
Plan = list[tuple[int, int, tuple[int, ...], tuple[int, ...] | None]]


def _pair(where: str, name: str, x: Any, low: int) -> Pair:
    """An int or a pair of ints (height, width), each >= ``low``, as a pair."""
    if isinstance(x, (tuple, list)):
        if len(x) != 2:
            raise ValueError(f"{where}: {name} must be an int or a pair (height, width), got {checks.short_repr(x)}")
        return (checks.integer(where, f"{name}[0]", x[0], low=low), checks.integer(where, f"{name}[1]", x[1], low=low))
    n = checks.integer(where, name, x, low=low, hint="or a pair (height, width)")
    return (n, n)


def _is_list(x: Any) -> bool:
    return isinstance(x, (list, tuple))


def _as_nested(x: Any) -> Any:
    """A numpy array as nested lists; anything else as it is."""
    tolist = getattr(x, "tolist", None)
    return tolist() if tolist is not None and not isinstance(x, Value) else x


def _is_batch(x: Any) -> bool:
    """True for a list of images (four levels of lists), False for one image."""
    depth = 0
    while _is_list(x) and x and depth < 4:
        x, depth = x[0], depth + 1
    return depth == 4


def _image(x: Any, where: str) -> tuple[list[Any], int, int, int]:
    """One image checked to be [C][H][W] of Values or numbers (every channel H rows of W)."""
    shape_hint = "pass one image as [channels][height][width] (nested lists) or a list of such images"
    if not _is_list(x) or not x or not all(map(_is_list, x)):
        raise TypeError(
            f"{where}: expected an image [C][H][W] of Values or numbers, got {checks.short_repr(x)}; {shape_hint}"
        )
    C, H = len(x), len(x[0])
    if H == 0 or not _is_list(x[0][0]):
        raise TypeError(
            f"{where}: channel 0 must be a non-empty list of rows, got {checks.short_repr(x[0])}; {shape_hint}"
        )
    W = len(x[0][0])
    for c, channel in enumerate(x):
        if len(channel) != H:
            raise ValueError(
                f"{where}: channel {c} has {len(channel)} rows but channel 0 has {H}; images must not be ragged"
            )
        for r, row in enumerate(channel):
            if not _is_list(row) or len(row) != W:
                got = len(row) if _is_list(row) else checks.short_repr(row)
                raise ValueError(
                    f"{where}: row {r} of channel {c} has {got} entries, expected {W}; images must not be ragged"
                )
            kinds = list(map(type, row))
            if countOf(kinds, Value) == W or countOf(kinds, float) == W:  # the usual cases, at C speed
                continue
            for v in row:
                if not checks.is_scalar(v):
                    raise TypeError(
                        f"{where}: pixel {checks.short_repr(v)} in channel {c}, row {r} is not a Value or a number"
                    )
    if W == 0:
        raise ValueError(f"{where}: the image has width 0; {shape_hint}")
    return list(x), C, H, W


def _kernel(row: list[float], channels: int, kh: int, kw: int) -> list[list[list[Value]]]:
    """One output channel's weights, given flat in (in, ky, kx) order, as Values [in][kh][kw]."""
    it = iter(row)
    return [[[Value(float(next(it))) for _ in range(kw)] for _ in range(kh)] for _ in range(channels)]


def _out_size(where: str, size: int, kernel: int, stride: int, padding: int, axis: str) -> int:
    """torch's floor mode: (size + 2·padding − kernel) // stride + 1, refusing a kernel that does not fit."""
    span = size + 2 * padding
    if kernel > span:
        raise ValueError(
            f"{where}: the kernel's {axis} {kernel} is bigger than the input's {axis} {size}"
            f"{f' padded to {span}' if padding else ''}; use a smaller kernel, more padding or a bigger image"
        )
    return (span - kernel) // stride + 1


class Conv2d(Module):
    """2-D convolution as torch computes it: out[o][y][x] = b[o] + Σ w[o][i][ky][kx]·in[i][y·s+ky−p][x·s+kx−p].

    ``init=None`` is torch's default, U(±1/√fan_in) for weights and biases with fan_in = in·kh·kw,
    drawn from ``seed`` (an int, a ``random.Random`` or None for Python's global ``random``); a
    name from ``nn.init`` (or ``f(nout, nin, seed=...)``) draws each output channel's kernel as
    one row of fan_in weights (so xavier's fan_out is out_channels, not torch's out·kh·kw) and
    starts the biases at 0, as ``Layer`` does.  ``load_state_dict`` also takes torch's nested
    ``weight``/``bias`` (lists, numpy arrays or tensors: anything with ``tolist``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Pair,
        stride: int | Pair = 1,
        padding: int | Pair = 0,
        bias: bool = True,
        init: Any = None,
        seed: Seed = None,
        *,
        activation: Any = "linear",
    ) -> None:
        self.in_channels = checks.integer("Conv2d", "in_channels", in_channels, low=1)
        self.out_channels = checks.integer("Conv2d", "out_channels", out_channels, low=1)
        self.kernel_size = _pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = _pair("Conv2d", "stride", stride, 1)
        self.padding = _pair("Conv2d", "padding", padding, 0)
        has_bias = checks.flag("Conv2d", "bias", bias)
        self.activation, self._act = get_activation(activation, "Conv2d")
        rng = checks.random_source("Conv2d", seed)
        kh, kw = self.kernel_size
        fan_in = self.in_channels * kh * kw
        if init is None:  # torch's default: kaiming_uniform(a=√5) = U(±1/√fan_in), the bias the same
            bound = 1.0 / math.sqrt(fan_in)
            rows = [[rng.uniform(-bound, bound) for _ in range(fan_in)] for _ in range(self.out_channels)]
            biases = [rng.uniform(-bound, bound) for _ in range(self.out_channels)] if has_bias else []
        else:  # an nn.init scheme over fan_in = in·kh·kw inputs per output channel; biases start at 0 as in Layer
            rows = get_init(init, "Conv2d")(self.out_channels, fan_in, seed=rng)
            if len(rows) != self.out_channels or any(len(r) != fan_in for r in rows):
                raise ValueError(f"Conv2d: init returned a shape other than [{self.out_channels}][{fan_in}]")
            biases = [0.0] * self.out_channels if has_bias else []
        self.weight = [_kernel(r, self.in_channels, kh, kw) for r in rows]
        self.bias: list[Value] | None = [Value(float(b)) for b in biases] if has_bias else None
        self._plans: dict[Pair, tuple[int, int, Plan]] = {}

    def _rows(self) -> list[list[Value]]:
        """Each output channel's weights as one row in (in, ky, kx) order: the order of a receptive field."""
        return [[w for channel in o for row in channel for w in row] for o in self.weight]

    def _plan(self, H: int, W: int) -> tuple[int, int, Plan]:
        """For each output pixel, which flat inputs it reads and (at a padded border) which weights."""
        key = (H, W)
        if key not in self._plans:
            (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
            Ho = _out_size("Conv2d", H, kh, sh, ph, "height")
            Wo = _out_size("Conv2d", W, kw, sw, pw, "width")
            plan: Plan = []
            for oy in range(Ho):
                for ox in range(Wo):
                    xs, ws = [], []
                    for i in range(self.in_channels):
                        for ky in range(kh):
                            for kx in range(kw):
                                y, x = oy * sh + ky - ph, ox * sw + kx - pw
                                if 0 <= y < H and 0 <= x < W:
                                    xs.append((i * H + y) * W + x)
                                    ws.append((i * kh + ky) * kw + kx)
                    plan.append((oy, ox, tuple(xs), None if len(ws) == kh * kw * self.in_channels else tuple(ws)))
            self._plans[key] = (Ho, Wo, plan)
        return self._plans[key]

    def _one(self, image: Any) -> list[list[list[Value]]]:
        channels, C, H, W = _image(image, "Conv2d")
        if C != self.in_channels:
            raise ValueError(
                f"Conv2d: the image has {C} channel{'s' if C != 1 else ''} but in_channels={self.in_channels}; "
                f"build Conv2d({C}, ...) or pass [{self.in_channels}][H][W]"
            )
        Ho, Wo, plan = self._plan(H, W)
        flat = [v if v.__class__ is Value else Value(float(v)) for channel in channels for row in channel for v in row]
        rows = self._rows()
        out: list[list[list[Value]]] = [[[] for _ in range(Ho)] for _ in range(self.out_channels)]
        for oy, _, xi, wi in plan:
            ws = rows if wi is None else [[r[k] for k in wi] for r in rows]
            zs = matvec(ws, [flat[j] for j in xi], self.bias)
            for o, z in enumerate(zs if self.activation == "linear" else map(self._act, zs)):
                out[o][oy].append(z)
        return out

    def __call__(self, x: Any) -> Any:
        x = _as_nested(x)
        return [self._one(image) for image in x] if _is_batch(x) else self._one(x)

    def output_shape(self, shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """The (C, H, W) this layer makes from an input of (C, H, W)."""
        C, H, W = shape
        if C != self.in_channels:
            raise ValueError(f"Conv2d: input has {C} channels but in_channels={self.in_channels}")
        return (self.out_channels, *self._plan(H, W)[:2])

    def to_torch_state_dict(self) -> dict[str, Any]:
        """``{"weight": [out][in][kh][kw], "bias": [out]}``: ``torch.nn.Conv2d``'s layout (no bias if bias=False)."""
        out: dict[str, Any] = {"weight": [[[[w.data for w in r] for r in c] for c in o] for o in self.weight]}
        if self.bias is not None:
            out["bias"] = [b.data for b in self.bias]
        return out

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Dotted names (``weight.0.1.2.2``) as every module takes, or torch's nested ``weight``/``bias``."""
        if isinstance(state, Mapping) and any(_is_list(_as_nested(v)) for v in state.values()):
            flat: dict[str, Any] = {}
            for key, value in state.items():
                _flatten_state(str(key), _as_nested(value), flat)
            state = flat
        super().load_state_dict(state, strict=strict)

    def __repr__(self) -> str:
        return (
            f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}, "
            f"activation={self.activation!r})"
        )


def _flatten_state(name: str, value: Any, out: dict[str, Any]) -> None:
    """Nested lists under ``name`` as ``name.i.j...`` entries (torch's indices are the parameter names)."""
    if _is_list(value):
        for i, item in enumerate(value):
            _flatten_state(f"{name}.{i}", item, out)
    else:
        out[name] = value


class MaxPool2d(Module):
    """The largest value of each window (torch's floor mode); ``stride`` defaults to ``kernel_size``.

    A window with a Value gives ``autograd.max_of`` of its pixels in row-major order (k·k − 1
    ``max_first`` nodes; the first maximum takes the gradient on a tie, as in torch); a window of
    plain numbers gives its largest number."""

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None) -> None:
        self.kernel_size = _pair("MaxPool2d", "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair("MaxPool2d", "stride", stride, 1)

    def _one(self, image: Any) -> list[list[list[Value | float]]]:
        channels, _, H, W = _image(image, "MaxPool2d")
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        Ho = _out_size("MaxPool2d", H, kh, sh, 0, "height")
        Wo = _out_size("MaxPool2d", W, kw, sw, 0, "width")
        out = []
        for channel in channels:
            pooled = []
            for oy in range(Ho):
                rows = channel[oy * sh : oy * sh + kh]
                line: list[Value | float] = []
                for ox in range(Wo):
                    window = [v for row in rows for v in row[ox * sw : ox * sw + kw]]
                    if any(isinstance(v, Value) for v in window):
                        line.append(max_of(window))
                    else:
                        line.append(max(map(float, window)))
                pooled.append(line)
            out.append(pooled)
        return out

    def __call__(self, x: Any) -> Any:
        x = _as_nested(x)
        return [self._one(image) for image in x] if _is_batch(x) else self._one(x)

    def output_shape(self, shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """The (C, H, W) this layer makes from an input of (C, H, W)."""
        C, H, W = shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return (C, _out_size("MaxPool2d", H, kh, sh, 0, "height"), _out_size("MaxPool2d", W, kw, sw, 0, "width"))

    def to_torch_state_dict(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride})"


class Flatten(Module):
    """``[C][H][W]`` as one list in torch's order (channel, row, column); a batch gives one list per image."""

    def _one(self, image: Any) -> list[Any]:
        channels, _, _, _ = _image(image, "Flatten")
        return [v for channel in channels for row in channel for v in row]

    def __call__(self, x: Any) -> Any:
        x = _as_nested(x)
        return [self._one(image) for image in x] if _is_batch(x) else self._one(x)

    def output_shape(self, shape: tuple[int, int, int]) -> tuple[int]:
        """The length of the list made from an input of (C, H, W)."""
        C, H, W = shape
        return (C * H * W,)

    def to_torch_state_dict(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return "Flatten()"

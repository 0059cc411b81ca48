"""Why a replay's gradient turned non-finite: the eager engine's ``NonFiniteGradError``, found on failure only.

Every group can describe what each operand of each of its nodes receives in
backward (its ``shares``); the first share that is not finite, or the first
sum of finite shares that overflows, is reported like ``backward()`` reports it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..backward import non_finite_error
from ..errors import NonFiniteGradError
from ..ops import Op
from .index import Floats, Slots


class Share(NamedTuple):
    """What operand ``position`` of ``op`` receives at each of m nodes: ``upstream · local``."""

    op: Op  # the eager op named in messages
    position: int
    slots: Slots  # (m,) the slot each share is added to
    inputs: Floats  # (m, k) the node's operand values
    out: Floats  # (m,) the node's value
    local: Floats  # (m,) ∂out/∂operand
    upstream: Floats  # (m,) ∂root/∂out
    share: Floats  # (m,) upstream · local, 0 where upstream is 0 (as eager, which skips it)


def _error(sh: Share, i: int, previous: float) -> NonFiniteGradError:
    product = float(sh.share[i])
    return non_finite_error(
        "compile",
        sh.op,
        sh.inputs[i].tolist(),
        float(sh.out[i]),
        sh.position,
        float(sh.local[i]),
        float(sh.upstream[i]),
        product,
        previous,
        previous + product,
    )


def explain(shares: list[Share], before: Floats, bad_slot: int) -> NonFiniteGradError:
    """The error for one backward step that left ``bad_slot``'s gradient non-finite.

    ``before``: the gradients before the step.  Either one share is not finite
    itself (an infinite local derivative, an overflowing product), or the
    shares added to ``bad_slot`` overflow together.
    """
    for sh in shares:
        bad = np.flatnonzero(~np.isfinite(sh.share))
        if bad.size:
            i = int(bad[0])
            return _error(sh, i, float(before[sh.slots[i]]))
    running = float(before[bad_slot])
    for sh in shares:
        for i in np.flatnonzero(sh.slots == bad_slot).tolist():
            if not math.isfinite(running + float(sh.share[i])):
                return _error(sh, i, running)
            running += float(sh.share[i])
    return NonFiniteGradError(f"compile: the gradient at slot {bad_slot} turned {float(before[bad_slot])!r}")

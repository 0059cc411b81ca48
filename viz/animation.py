"""``animate``: training as a GIF — frames of the network diagram or the decision boundary.

Frames come from a :class:`viz.FrameRecorder` that ``nn.fit`` called after
each step, or from any list of pictures (PIL images, PNG bytes, matplotlib
figures, or viz/graphviz graphs, which are rendered).  Frames of different
sizes are centred on a white canvas of the largest size, so the network
does not jump around while its numbers change.  Written with Pillow.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import Image

from .atomic import write_file


def _image(frame: Any) -> Image.Image:
    if isinstance(frame, Image.Image):
        return frame.convert("RGB")
    if isinstance(frame, (bytes, bytearray)):
        return Image.open(io.BytesIO(frame)).convert("RGB")
    if hasattr(frame, "savefig"):  # a matplotlib figure
        from .plots import figure_to_image

        image: Image.Image = figure_to_image(frame)
        return image
    if hasattr(frame, "source"):  # a graphviz graph
        from .renderers import pipe

        return Image.open(io.BytesIO(pipe(frame, "png"))).convert("RGB")
    raise TypeError(
        f"animate: cannot make a frame of a {type(frame).__name__}; use PIL images, PNG bytes, "
        "matplotlib figures or graphviz graphs"
    )


def animate(
    frames: Any | Iterable[Any],
    path: str | os.PathLike[str],
    *,
    fps: float = 4.0,
    loop: int = 0,
    hold_last: float = 1.5,
    max_size: int = 1600,
) -> Path:
    """Write ``frames`` (a :class:`viz.FrameRecorder` or a list of pictures) as a GIF at ``path``.

    ``fps`` frames per second; the last frame stays ``hold_last`` seconds;
    ``loop=0`` repeats forever.  Frames larger than ``max_size`` pixels on a
    side are scaled down (GIFs of huge diagrams are unwatchable anyway).
    """
    items = getattr(frames, "frames", frames)
    images = [_image(f) for f in items]
    if not images:
        raise ValueError("animate: no frames; did fit() run with the FrameRecorder in callbacks=[...]?")
    if not fps > 0:
        raise ValueError(f"animate: fps must be > 0, got {fps!r}")
    w = max(im.width for im in images)
    h = max(im.height for im in images)
    scale = min(1.0, max_size / max(w, h))
    W, H = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = []
    for im in images:
        if scale < 1.0:
            im = im.resize(
                (max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.Resampling.LANCZOS
            )
        c = Image.new("RGB", (W, H), "white")
        c.paste(im, ((W - im.width) // 2, (H - im.height) // 2))
        canvas.append(c)
    ms = int(round(1000 / fps))
    durations = [ms] * len(canvas)
    durations[-1] = max(ms, int(hold_last * 1000))
    path = Path(path)
    if path.suffix.lower() != ".gif":
        path = path.with_suffix(".gif")
    first, rest = canvas[0], canvas[1:]
    options = dict(save_all=True, append_images=rest, duration=durations, loop=loop, optimize=False, disposal=1)
    write_file(path, lambda f: first.save(f, format="GIF", **options))
    return path

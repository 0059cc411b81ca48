"""deltaw, the application: the ``deltaw`` command line and its guided demo.

The libraries are ``autograd`` (the engine), ``nn`` (networks) and ``viz``
(pictures); this package only uses them (deltaw -> viz -> nn -> autograd).
Run it as ``deltaw ...`` or ``python -m deltaw ...``.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

__all__ = ["__version__"]

DISTRIBUTION = "deltaw"
#: where pyproject.toml sits in a source tree (the one place the version is written)
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _version(pyproject: Path = PYPROJECT) -> str:
    """The installed distribution's version; in a source tree without install, pyproject's."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return "0+unknown"
    # the [project] table's version line (a regex, not tomllib: Python 3.10 has no tomllib)
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    found = project and re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), re.M)
    return found.group(1) if found else "0+unknown"


__version__ = _version()

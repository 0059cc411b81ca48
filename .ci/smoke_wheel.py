"""Check an installed deltaw wheel from outside the repo; run by .ci/smoke_wheel.sh in a fresh venv.

    python -I smoke_wheel.py --source SRC --out DIR [--full]

SRC is a clean copy of the source tree the wheel was built from. Checks: every source file
of the shipped packages is in the wheel and nothing else is (no tests/, examples/,
benchmarks/, docs/); every module of every package in the wheel, found with
pkgutil.walk_packages, imports from the venv (--full: with the test, plot and render extras
installed, since autograd.testing needs hypothesis and viz.animation Pillow); `deltaw
--version` prints the installed version; `deltaw demo --quick` writes the files it names.
Every check runs; each failure is printed, and the exit code is 1 if there was any.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import pkgutil
import re
import subprocess
import sys
import sysconfig
import traceback
from pathlib import Path

DIST = "deltaw"
NOT_SHIPPED = {"tests", "examples", "benchmarks", "docs"}  # top-level folders that stay out of the wheel
SKIPPED_FILES = {"__pycache__"}
MAGIC = {".svg": (b"<?xml", b"<svg"), ".png": (b"\x89PNG",), ".gif": (b"GIF8",), ".html": (b"<!DOCTYPE html>",)}
# need only Graphviz's dot (the pages hold its SVG)
DEMO_ALWAYS = {"neuron_graph.svg", "moons_network.svg", "neuron_explorer.html", "moons_run.html"}
DEMO_PLOTS = {"moons_loss.png", "moons_deltas.png", "moons_boundary.png", "moons_training.gif"}  # [plot]

failures: list[str] = []


def fail(message: str) -> None:
    """Record a failed check and print it at once."""
    failures.append(message)
    print(f"FAIL: {message}", flush=True)


def ok(message: str) -> None:
    print(f"ok: {message}", flush=True)


def wheel_files() -> dict[str, set[str]]:
    """The installed distribution's files (outside .dist-info), grouped by top-level folder."""
    dist = importlib.metadata.distribution(DIST)
    groups: dict[str, set[str]] = {}
    for f in dist.files or []:
        top = f.parts[0]
        # ".." holds the console scripts (bin/deltaw)
        if top == ".." or top.endswith(".dist-info") or "__pycache__" in f.parts or len(f.parts) < 2:
            continue
        groups.setdefault(top, set()).add(f.as_posix())
    return groups


def source_files(source: Path) -> dict[str, set[str]]:
    """The files a wheel must hold: everything under each top-level package of the source tree."""
    groups: dict[str, set[str]] = {}
    for init in sorted(source.glob("*/__init__.py")):
        top = init.parent.name
        if top in NOT_SHIPPED:
            continue
        files = {
            p.relative_to(source).as_posix()
            for p in init.parent.rglob("*")
            if p.is_file() and not SKIPPED_FILES.intersection(p.parts) and p.suffix != ".pyc"
        }
        groups[top] = files
    return groups


def check_contents(source: Path) -> list[str]:
    """The wheel holds exactly the source packages' files; returns the shipped top-level packages."""
    shipped, expected = wheel_files(), source_files(source)
    for top in sorted(NOT_SHIPPED & shipped.keys()):
        fail(f"{top}/ is in the wheel; it must stay out (see [tool.setuptools.packages.find] in pyproject.toml)")
    for top in sorted(expected.keys() - shipped.keys()):
        fail(f"package {top} is missing from the wheel: add it to [tool.setuptools.packages.find] include")
    for top in sorted(shipped.keys() & expected.keys()):
        missing = sorted(expected[top] - shipped[top])
        extra = sorted(shipped[top] - expected[top])
        if missing:
            fail(
                f"{len(missing)} file(s) of {top} missing from the wheel: {', '.join(missing)} "
                "(is [tool.setuptools.packages.find] in pyproject.toml broken? a subpackage needs an __init__.py, "
                "a data file a pattern in [tool.setuptools.package-data])"
            )
        if extra:
            fail(f"{len(extra)} file(s) in the wheel that the source does not have: {', '.join(extra)}")
        if f"{top}/py.typed" not in shipped[top]:
            fail(f"{top}/py.typed is missing from the wheel")
        if not missing and not extra:
            ok(f"{top}: the wheel holds all {len(expected[top])} files of the source")
    return sorted(shipped.keys() - NOT_SHIPPED)


def import_from_venv(name: str, site: Path) -> bool:
    """Import one module; it must come from the venv's site-packages, not from a source tree."""
    try:
        module = importlib.import_module(name)
    except BaseException:  # SystemExit too: a module must not exit on import
        fail(f"import {name}:\n{traceback.format_exc(limit=3)}")
        return False
    where = getattr(module, "__file__", None)
    if where is None or not Path(where).resolve().is_relative_to(site):
        fail(f"{name} was imported from {where}, not from the venv's {site}")
        return False
    return True


def compile_only(name: str) -> None:
    """Compile a module without running it (a package's ``__main__``)."""
    try:
        spec = importlib.util.find_spec(name)
        code = spec.loader.get_code(name) if spec and spec.loader else None  # type: ignore[attr-defined]
    except Exception:
        fail(f"compile {name}:\n{traceback.format_exc(limit=3)}")
        return
    if code is None:
        fail(f"{name}: no code found")


def check_imports(tops: list[str], site: Path, every_module: bool) -> None:
    """Import each shipped package; with every_module, each of their modules (walk_packages)."""
    for top in tops:
        if not import_from_venv(top, site):
            continue
        if not every_module:
            ok(f"import {top}")
            continue
        package = sys.modules[top]
        failed_before = len(failures)
        found = [top]
        errors: list[str] = []
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{top}.", onerror=errors.append):
            found.append(info.name)
            if info.name.rsplit(".", 1)[-1] == "__main__":  # runs a program when imported: compile it only
                compile_only(info.name)
            else:
                import_from_venv(info.name, site)
        for name in errors:
            fail(f"walk_packages could not import {name}")
        on_disk = {
            ".".join(p.relative_to(site).with_suffix("").parts).removesuffix(".__init__")
            for p in (site / top).rglob("*.py")
        }
        unreached = sorted(on_disk - set(found))
        if unreached:
            fail(f"modules in the wheel that walk_packages does not reach (no __init__.py?): {', '.join(unreached)}")
        if len(failures) == failed_before:
            ok(f"{top}: imported all {len(found)} modules from the wheel")


def run(argv: list[str], where: Path) -> subprocess.CompletedProcess[str] | None:
    """Run a command of the venv in ``where``; None (and a failure) if it did not exit with 0."""
    proc = subprocess.run(argv, cwd=where, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        fail(f"`{' '.join(argv)}` exited with {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
        return None
    return proc


def check_version(bindir: Path, tops: list[str], where: Path) -> None:
    """`deltaw --version` (and `python -m deltaw --version`) print the installed version."""
    version = importlib.metadata.version(DIST)
    commands = [[str(bindir / "deltaw"), "--version"]]
    if "deltaw" in tops:
        commands.append([sys.executable, "-m", "deltaw", "--version"])
    for argv in commands:
        proc = run(argv, where)
        if proc is not None:
            text = proc.stdout + proc.stderr
            if version in text:
                ok(f"`{' '.join(argv[-3:])}` says {text.strip()!r}")
            else:
                fail(f"`{' '.join(argv)}` printed {text.strip()!r}, without the installed version {version}")


def check_demo(bindir: Path, out: Path, with_plots: bool) -> None:
    """`deltaw demo --quick` writes the pictures it names, each a real file of its format."""
    proc = run([str(bindir / "deltaw"), "demo", "--quick", "--no-progress", "--out", str(out)], out.parent)
    if proc is None:
        return
    named = {Path(m) for m in re.findall(r"^\s*wrote (\S+)", proc.stdout, flags=re.MULTILINE)}
    named = {p if p.is_absolute() else out.parent / p for p in named}
    written = {p for p in out.rglob("*") if p.is_file()}
    for p in sorted(written - {q.resolve() for q in named} - named):
        fail(f"deltaw demo wrote {p} without naming it")
    for p in sorted(named):
        if not p.is_file():
            fail(f"deltaw demo says it wrote {p}, but there is no such file")
        elif not p.read_bytes().lstrip().startswith(MAGIC.get(p.suffix, (b"",))):
            fail(f"deltaw demo wrote {p}, which is not a {p.suffix} file")
    wanted = DEMO_ALWAYS | (DEMO_PLOTS if with_plots else set())
    missing = sorted(wanted - {p.name for p in named})
    if missing:
        fail(f"deltaw demo --quick did not write {', '.join(missing)} (is Graphviz's dot installed?)")
    else:
        ok(f"deltaw demo --quick wrote {', '.join(sorted(p.name for p in named))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="clean copy of the source tree")
    parser.add_argument("--out", type=Path, required=True, help="an empty folder outside the repo")
    parser.add_argument("--full", action="store_true", help="extras installed: import every module, all pictures")
    args = parser.parse_args()
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    bindir = Path(sysconfig.get_paths()["scripts"])
    print(f"== the installed wheel ({'with extras' if args.full else 'no extras'}) in {site}", flush=True)
    if args.full:  # the same wheel as the first pass: its contents and version are checked already
        tops = sorted(wheel_files().keys() - NOT_SHIPPED)
    else:
        tops = check_contents(args.source.resolve())
        check_version(bindir, tops, args.out)
    check_imports(tops, site, every_module=args.full)
    check_demo(bindir, args.out.resolve() / ("demo-full" if args.full else "demo"), with_plots=args.full)
    which = "with extras" if args.full else "no extras"
    if failures:
        print(f"\nwheel smoke check ({which}): {len(failures)} failure(s)", flush=True)
        return 1
    print(f"wheel smoke check ({which}): all passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

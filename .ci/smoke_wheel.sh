#!/usr/bin/env bash
# The install a user does, checked: build the sdist and the wheel from a clean copy of the tree,
# install the wheel into a fresh venv outside the repo, and run .ci/smoke_wheel.py from outside
# the repo, first on the plain install, then with the extras [test,plot,render].
# Usage: .ci/smoke_wheel.sh   (PYTHON=python3.x to choose the interpreter; KEEP=1 keeps the work folder)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/deltaw-wheel.XXXXXX")
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$work"' EXIT; else echo "work folder: $work"; fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# 1. A clean copy: the files a fresh clone has plus uncommitted edits and new files, without
#    .venv, build/, *.egg-info or caches (stale build output could hide a missing package).
mkdir "$work/src"
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard \
        | xargs -0 -r sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh \
        | tar --null -T - -cf -) | tar -xf - -C "$work/src"
else
    (cd "$repo" && tar --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist \
        --exclude=./out --exclude='*.egg-info' --exclude=__pycache__ -cf - .) | tar -xf - -C "$work/src"
fi

# 2. Build the sdist, then the wheel from the sdist, as PyPA's `build` does; no deprecation warnings.
"$python" -m venv "$work/build-env"
"$work/build-env/bin/python" -m pip install -q --upgrade pip build
"$work/build-env/bin/python" -m build --outdir "$work/dist" "$work/src" >"$work/build.log" 2>&1 || {
    cat "$work/build.log"
    echo "wheel check: the build failed (log above)" >&2
    exit 1
}
if grep -i "deprecat" "$work/build.log"; then
    echo "wheel check: the build gave the deprecation warnings above; fix pyproject.toml" >&2
    exit 1
fi
wheel=$(ls "$work"/dist/*.whl)
echo "built $(basename "$wheel") and $(cd "$work/dist" && ls ./*.tar.gz | cut -c3-)"

# 3. Install into a fresh venv and check from outside the repo (python -I: no script folder,
#    no PYTHONPATH, no user site on sys.path), first without extras, then with them.
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
"$work/venv/bin/python" -m pip install -q "$wheel"
"$work/venv/bin/python" -m pip check
mkdir "$work/run"
cd "$work/run"
status=0
"$work/venv/bin/python" -I "$repo/.ci/smoke_wheel.py" --source "$work/src" --out "$work/run" || status=1
"$work/venv/bin/python" -m pip install -q "$wheel[test,plot,render]"
"$work/venv/bin/python" -m pip check
"$work/venv/bin/python" -I "$repo/.ci/smoke_wheel.py" --source "$work/src" --out "$work/run" --full || status=1
if [ "$status" -ne 0 ]; then
    echo "wheel check: FAILED (see FAIL lines above)" >&2
fi
exit "$status"

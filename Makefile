# `make demo` and `make test` each set up .venv on their own.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo docs test bench lint wheel-check browser-deps clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,plot,render]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/deltaw demo --out out/demo

# the README's pictures: the demo's files, regenerated into docs/
docs: $(STAMP)
	$(VENV)/bin/deltaw demo --out docs --no-progress
	$(PY) -m examples.gpt --out out/gpt
	cp out/gpt/gpt_attention.png out/gpt/gpt_deltas.png docs/
	$(PY) -m examples.explorer_screenshot --out docs/explorer.png

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

# the system parts the browser tests drive (Debian/Ubuntu, as root); selenium is in the test extra
browser-deps:
	apt-get update -qq && apt-get install -y -qq chromium chromium-driver

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m benchmarks
	$(PY) -m benchmarks.bench_compile
	$(PY) -m benchmarks.bench_fit_callbacks
	$(PY) -m benchmarks.bench_rnn
	$(PY) -m benchmarks.bench_gpt
	$(PY) -m benchmarks.bench_cnn
	$(PY) -m benchmarks.bench_viz
	$(PY) -m benchmarks.bench_explore

# ruff (lint and format check) and mypy (strict on autograd), configured in pyproject.toml
lint: $(STAMP)
	$(PY) -m pip install -q 'ruff==0.17.6' 'mypy==2.4.1'
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# the install a user does: sdist and wheel built from a clean copy, the wheel installed into a fresh
# venv outside the repo, every module imported from it, `deltaw --version`, `deltaw demo --quick`
wheel-check:
	PYTHON=$(PYTHON) bash .ci/smoke_wheel.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis .mypy_cache .ruff_cache

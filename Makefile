# Set-up and the everyday commands. torch is pinned by constraints.txt: on these machines
# torch 2.13.0 is a CPU build already on disk, while an unpinned torch pulls a CUDA build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet -c constraints.txt

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/gankit train --out runs/demo --overwrite

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/seed_speed.py
	$(BIN)/python benchmarks/time_to_quality.py
	$(BIN)/python benchmarks/members_throughput.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) runs bench-out .pytest_cache .ruff_cache

# Set-up and the everyday commands. torch is pinned by constraints.txt: on these machines
# torch 2.13.0 is a CPU build already on disk, while an unpinned torch pulls a CUDA build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet -c constraints.txt

.PHONY: demo test bench bench-full bench-peers lint clean gpu-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/gankit train --out runs/demo --overwrite --wait-figures

test: lint
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m slow
	$(BIN)/python benchmarks/same_numbers.py
	$(BIN)/python benchmarks/seed_speed.py
	$(BIN)/python benchmarks/time_to_quality.py
	$(BIN)/python benchmarks/members_throughput.py
	$(BIN)/python benchmarks/threads_under_load.py
	$(BIN)/python benchmarks/user_runs.py
	$(BIN)/python benchmarks/evaluation_cost.py
	$(BIN)/python benchmarks/figure_cost.py
	$(BIN)/python benchmarks/distributed_agreement.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/own_data_floors.py
	$(BIN)/python benchmarks/run_folder_size.py
	$(BIN)/python benchmarks/table_length.py --seeds 3
	$(BIN)/python benchmarks/rare_shares.py
	$(BIN)/python benchmarks/conditional_curves.py --seeds 0,1,2 --backward both

# The long ones (about two hours on 2 cores): mixtures against the published tables, the
# objective comparisons on every task, the theory lab, digits (also on request), refinement,
# tables against SDV's synthesizers (bench-peers) and images.
bench-full: bench bench-peers
	$(BIN)/python benchmarks/mixtures.py
	$(BIN)/python benchmarks/compare_objectives.py --task parabola --pick 0 1 2 3 4 5 6 7 8 9 10
	$(BIN)/python benchmarks/compare_objectives.py --task parabola --pick 0 10 11 12 13 14 15 --out bench-out/defaults
	$(BIN)/python benchmarks/compare_objectives.py --task ring --steps 4000 --pick 0 1 2 3 5 7 8
	$(BIN)/python benchmarks/compare_objectives.py --task grid --steps 4000 --pick 0 1 2 3 5 7 8
	$(BIN)/gankit theory --out bench-out/theory
	$(BIN)/python benchmarks/digits.py
	$(BIN)/python benchmarks/refine.py
	$(BIN)/python benchmarks/conditional_digits.py --seeds 0,1,2,3,4
	$(BIN)/python benchmarks/conditional_folders.py --seeds 0,1,2
	$(BIN)/python benchmarks/image_folder.py
	$(BIN)/python benchmarks/readme_timings.py

# Tables against SDV's GaussianCopula, CTGAN and TVAE, scored by SDMetrics: SDV is no dependency
# of gankit, so it lives in a venv of its own (bench-out/sdv-venv), with gankit installed in it.
PEERS := bench-out/sdv-venv
$(PEERS)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet -c constraints.txt sdv==2.0.0 -e .
	touch $@

bench-peers: $(PEERS)/.installed
	$(PEERS)/bin/python benchmarks/tables.py --seeds 3 --out bench-out/tables
	$(PEERS)/bin/python benchmarks/conditional_tables.py --seeds 3 --out bench-out/conditional_tables
	$(PEERS)/bin/python benchmarks/conditional_tables.py --seeds 1 --tables diabetes-age,mixed-age --out bench-out/conditional_numbers

# ruff, then the layer contract in pyproject.toml (import-linter: no import points up a layer).
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) runs bench-out .pytest_cache .ruff_cache

# On a machine with a GPU and a CUDA build of torch: the CUDA tests and member throughput
# (benchmarks/gpu_check.py), then a minute of digits training on each device (the benchmark
# prints steps and images per second).
gpu-check: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/gpu_check.py
	$(BIN)/python benchmarks/digits.py --seconds 30 --no-mlp --device cpu --out bench-out/gpu-check-cpu
	$(BIN)/python benchmarks/digits.py --seconds 30 --no-mlp --device cuda --out bench-out/gpu-check-cuda

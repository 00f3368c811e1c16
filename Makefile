# ruralgov — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
DEMO_ARGS ?= --seed 1

.PHONY: demo test lint bench bench-dashboard bench-room paper-quick paper robustness robustness-posterior robustness-quick stories levers search dashboard room docs docs-serve archive venv dev clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e .
	touch $@

$(DEVSTAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@ $(STAMP)

DASHSTAMP := $(VENV)/.installed-dashboard
$(DASHSTAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dashboard]"
	touch $@ $(STAMP)
ROOMSTAMP := $(VENV)/.installed-room
$(ROOMSTAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[room]"
	touch $@ $(STAMP)

venv: $(STAMP)
dev: $(DEVSTAMP)

## demo: install and run the baseline scenario; outputs go under results/
demo: $(STAMP)
	$(VENV)/bin/ruralgov run baseline $(DEMO_ARGS)

## test: install with dev extras, lint (ruff) and run the whole test suite
test: $(DEVSTAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

## lint: ruff over the whole tree (configured in pyproject.toml)
lint: $(DEVSTAMP)
	$(VENV)/bin/ruff check .

## paper-quick: the paper's hypotheses, realism patterns and classic models, quick profile
## (small counties; about eight minutes on two cores, a progress bar per sweep; run by CI)
## -> results/paper-quick/REPORT.md
paper-quick: $(STAMP)
	$(VENV)/bin/ruralgov reproduce --profile quick

## paper: the same, full profile (hours on two cores; resumable) -> results/paper/REPORT.md,
## with each test's share of supported points where `make robustness` (and a posterior study in
## results/robustness-posterior) has finished
paper: $(STAMP)
	$(VENV)/bin/ruralgov reproduce --profile full \
	  $(if $(wildcard results/robustness/robustness.json),--robustness results/robustness) \
	  $(if $(wildcard results/robustness-posterior/robustness.json),--posterior results/robustness-posterior)

## robustness: every hypothesis re-judged at 200 Latin-hypercube points x 2 root seeds over
## the uncertain parameters (hours on two cores; resumable) -> results/robustness/ROBUSTNESS.md
robustness: $(STAMP)
	$(VENV)/bin/ruralgov robustness

## robustness-posterior: the same at 50 draws from the shipped calibration's posterior (each
## test's posterior probability of being supported; half an hour on two cores; resumable)
## -> results/robustness-posterior/ROBUSTNESS.md
robustness-posterior: $(STAMP)
	$(VENV)/bin/ruralgov robustness --profile posterior \
	  --posterior results/calibration/targets/posterior.parquet --out results/robustness-posterior

## robustness-quick: the same at 6 points, one root seed (a check of the machinery, minutes)
robustness-quick: $(STAMP)
	$(VENV)/bin/ruralgov robustness --profile quick --quiet

## stories: check every scenario story's claims over 10 seeds (a minute or two)
## -> docs/stories.md; exit status 1 if a story claims what the model does not do
stories: $(STAMP)
	$(VENV)/bin/ruralgov stories --out docs/stories.md

## levers: the lever table, each instrument's effect on the baseline county with 95% intervals
## (10 paired seeds, 96 steps; a few minutes on two cores) -> docs/levers.md
levers: $(STAMP)
	$(VENV)/bin/ruralgov levers --out docs/levers.md

## search: the shipped directed search, lever settings for a quiet county that complies
## (NSGA-II, 288 runs of the default county; ~15 minutes on two cores; needs the analysis extra)
search: $(DEVSTAMP)
	$(VENV)/bin/ruralgov search search/quiet_county

## dashboard: the browser dashboard for training sessions, http://127.0.0.1:8765/ (offline)
DASHBOARD_ARGS ?=
dashboard: $(DASHSTAMP)
	$(VENV)/bin/ruralgov dashboard $(DASHBOARD_ARGS)

## room: a training room where trainees play township heads from their phones (prints the
## room's code and the addresses of the phones' page, the projector and the console)
ROOM_ARGS ?=
room: $(ROOMSTAMP)
	$(VENV)/bin/ruralgov room $(ROOM_ARGS)

## docs: build the documentation site into site/ (strict: a broken link fails; offline)
## docs-serve: the same, served at http://127.0.0.1:8000/ and rebuilt as you edit
export NO_MKDOCS_2_WARNING = 1
export DISABLE_MKDOCS_2_WARNING = true
docs: $(DEVSTAMP)
	$(PY) -m mkdocs build --strict

docs-serve: $(DEVSTAMP)
	$(PY) -m mkdocs serve

## archive: the model archive for a model library such as CoMSES (code, ODD, pinned
## dependencies, a runnable example and its expected output) -> dist/ruralgov-<version>-comses.zip
archive: $(DEVSTAMP)
	$(PY) tools/archive.py

## bench: speed and memory benchmarks (~10 min, ~6 GB); prints a table, writes benchmarks/latest.json
BENCH_ARGS ?=
bench: $(STAMP)
	$(PY) benchmarks/run.py $(BENCH_ARGS)

## bench-room: a training room with 40 simulated phones over HTTP, the default county, rounds
## of 12 months: how long the last choice waits for its round (target <= 1 s) -> benchmarks/room.json
bench-room: $(ROOMSTAMP)
	$(PY) benchmarks/room.py --participants 40 --rounds 5 --json benchmarks/room.json

## bench-dashboard: the dashboard in headless Chromium (step latency, play rate, start) at 2,000
## and 50,000 villagers, and how far 1,000,000 are from 5 steps/s -> benchmarks/dashboard.json
bench-dashboard: $(STAMP)
	$(PY) benchmarks/dashboard.py --villagers 2000 50000 --million --json benchmarks/dashboard.json

clean-venv:
	rm -rf $(VENV)

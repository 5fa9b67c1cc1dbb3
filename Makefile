# The project's commands: `make demo` (the main job) and `make test` (the whole
# suite), plus test-fast (the inner loop), coverage, lint, bench and docs. Each
# creates .venv on first use and reinstalls only when pyproject.toml changes.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0
# modAL's metadata pins skorch==0.9.0, which no longer imports: --no-deps.
MODAL_PIN := modAL-python==0.4.2.1
# The regression tests' MaxDet reference; its metadata pulls openml, seaborn and
# an unpinned torch, none of which its selection code needs: --no-deps.
BMDAL_PIN := bmdal_reg==3.0.2
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: demo test test-fast coverage test-compat test-skorch lint format bench docs docs-screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install $(TORCH_PIN)
	$(PIP) install -e ".[test,plot,experiment,modal,bench,lint,dask,label-studio]"
	$(PIP) install --no-deps $(MODAL_PIN) $(BMDAL_PIN)
	touch $@

$(VENV)/.installed-docs: $(VENV)/.installed
	$(PIP) install -e ".[docs]"
	touch $@

$(VENV)/.installed-skorch: $(VENV)/.installed
	$(PIP) install -e ".[skorch-tests]"
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	# the reference implementation, for comparison only
	$(PIP) install --no-deps batchbald-redux==2.0.5 toma==1.1.0
	touch $@

# baal and scikit-activeml, for bench_embeddings.py's comparison only, in their
# own environment: baal pulls jupyter and matplotlib, neither belongs in .venv.
OTHERS_VENV := .venv-others
OTHERS_PIP := $(OTHERS_VENV)/bin/python -m pip --disable-pip-version-check --quiet

$(OTHERS_VENV)/.installed:
	$(PYTHON) -m venv $(OTHERS_VENV)
	$(OTHERS_PIP) install $(TORCH_PIN)
	$(OTHERS_PIP) install baal==2.1.0 scikit-activeml==1.0.1 $(TORCH_PIN)
	touch $@

# A second environment with the last scikit-learn that stock modAL works on.
COMPAT_VENV := .venv-compat
COMPAT_PIP := $(COMPAT_VENV)/bin/python -m pip --disable-pip-version-check --quiet

# plot: pytest imports every package module for its doctests, the experiment's
# plots (matplotlib) included.
$(COMPAT_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_PIP) install $(TORCH_PIN)
	$(COMPAT_PIP) install -e ".[test,modal,plot]" "scikit-learn>=1.7,<1.8"
	$(COMPAT_PIP) install --no-deps $(MODAL_PIN)
	touch $@

# The Label Studio server for tests/annotation, in its own environment: its pins
# (Django, numpy < 2.3 through opencv, label-studio-sdk) must not drive .venv,
# which has only the client (the label-studio extra). The tests find the server
# through SKBATCHBALD_LABEL_STUDIO (tests/annotation/_label_studio_server.py).
LS_VENV := .venv-label-studio
LS_PIN := label-studio==1.23.2
LS_PIP := $(LS_VENV)/bin/python -m pip --disable-pip-version-check --quiet
export SKBATCHBALD_LABEL_STUDIO ?= $(abspath $(LS_VENV)/bin/label-studio)

$(LS_VENV)/.installed:
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_PIP) install $(LS_PIN)
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python -m skbatchbald run --preset demo --output results/demo

test: $(VENV)/.installed $(LS_VENV)/.installed
	$(BIN)/python -m pytest

# The inner loop: everything but the slow, the network and the Label Studio
# tests (setup.cfg says which are which). `make test` and CI run those too.
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not slow and not network and not label_studio and not stock_modal"

# The whole suite under coverage (settings in setup.cfg).
coverage: $(VENV)/.installed $(LS_VENV)/.installed
	$(BIN)/python -m pytest --cov --cov-report=term

# Only the stock-modAL file: the compat venv has no optional extras (dask, ...).
test-compat: $(COMPAT_VENV)/.installed
	$(COMPAT_VENV)/bin/python -m pytest tests/test_stock_modal.py -m stock_modal -p no:cacheprovider

# skorch's own tests, from its wheel, with MCDropoutClassifier in place of
# NeuralNetClassifier; tests/skorch_suite/ lists the deviations that are by design.
test-skorch: $(VENV)/.installed-skorch
	PYTHONPATH=tests/skorch_suite $(BIN)/python -m pytest -c tests/skorch_suite/pytest.ini \
		--rootdir tests/skorch_suite --pyargs skorch.tests.test_classifier skorch.tests.test_net

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The site, warnings as errors; the gallery examples run (a few minutes on a CPU).
docs: $(VENV)/.installed-docs
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

$(VENV)/.installed-screenshots: $(VENV)/.installed
	$(PIP) install -e ".[screenshots]"
	touch $@

# docs/_static/annotation/*.png from a real Label Studio round, with the
# system's Chromium (apt-get install chromium; CHROMIUM=path to use another),
# driven by Playwright; `playwright install` (a browser download) is not needed.
docs-screenshots: $(VENV)/.installed-screenshots $(LS_VENV)/.installed
	$(BIN)/python docs/_scripts/label_studio_screenshots.py

bench: $(VENV)/.installed-bench $(OTHERS_VENV)/.installed
	$(BIN)/python benchmarks/bench_acquisition.py
	$(BIN)/python benchmarks/bench_epig.py
	$(BIN)/python benchmarks/bench_sampling.py
	# pools on disk and on a Dask LocalCluster, small sizes (docs/scaling.rst)
	$(BIN)/python benchmarks/bench_out_of_core.py small
	# one round on 10^6 cached embeddings, against baal and scikit-activeml
	$(BIN)/python benchmarks/bench_embeddings.py --others $(OTHERS_VENV)/bin/python

clean:
	rm -rf $(VENV) $(COMPAT_VENV) $(LS_VENV) $(OTHERS_VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	rm -rf docs/_build docs/auto_examples docs/generated docs/sg_execution_times.rst

# Fine-Tuning Pretrained Models: two commands, `make lab` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PORT ?= 8888
BIN := $(VENV)/bin
STAMP := $(VENV)/.course-setup-done

# Caches stay inside the project, not in the home directory.
export HF_HOME ?= $(CURDIR)/.cache/huggingface
export MPLCONFIGDIR ?= $(CURDIR)/.cache/matplotlib
export IPYTHONDIR ?= $(CURDIR)/.cache/ipython
export JUPYTER_RUNTIME_DIR ?= $(CURDIR)/.cache/jupyter/runtime
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup lab test test-fast test-colab hub-standins course bench finetune-full quizzes clean
setup: $(STAMP)

$(STAMP): pyproject.toml quizzes/pyproject.toml tools/setup_env.sh
	VENV=$(VENV) PYTHON=$(PYTHON) tools/setup_env.sh
	touch $@

lab: setup  ## open the course in JupyterLab on loopback (prints the URL with its token); nbgrader's extensions off
	JUPYTER_CONFIG_PATH=$(abspath $(VENV))/etc/jupyter-student $(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=$(CURDIR) \
	  --LabApp.default_url=/lab/tree/notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

test: setup  ## the whole test suite: package tests, every lesson under nbmake on the ci profile, acceptance, the Colab stand-in
	$(BIN)/python -m pytest -p no:cacheprovider -ra --durations=10 notebooks tests --nbmake --nbmake-timeout=900

test-colab: setup  ## only the Colab stand-in: every lesson at the transformers floor on the Hub model set (tests/test_colab.py)
	$(BIN)/python -m pytest -p no:cacheprovider -ra tests/test_colab.py tests/test_hub_standins.py

hub-standins: setup  ## build the Hub-layout cache of stand-ins; then HF_HOME=.cache/hub-standins COURSE_MODELS=hub-full
	$(BIN)/python -m course_dev.hub_standins --out .cache/hub-standins

test-fast: setup  ## package tests only
	$(BIN)/python -m pytest -p no:cacheprovider -ra tests -m "not acceptance and not slow"

course: setup  ## execute every lesson headless on the default profile into build/
	$(BIN)/python -m tools.run_course

bench: setup  ## measure the course on this machine: table + build/bench/bench.json (BENCH_ARGS="--skip-test-command" ...)
	$(BIN)/python -m course_dev.bench $(BENCH_ARGS)

finetune-full: setup  ## fine-tune on every training review, F1 on the offline test split (about 3 minutes on 2 cores)
	PYTHONPATH=$(CURDIR) $(BIN)/python -m course_dev.finetune --profile cpu --full-data --eval-split test $(FINETUNE_ARGS)

quizzes: setup  ## regenerate the quiz data and notebooks from quizzes/bank
	$(BIN)/course-quiz build

clean:
	rm -rf build .cache

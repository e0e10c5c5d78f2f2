"""Shared test set-up: offline Hugging Face, caches inside the project, no network hangs."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

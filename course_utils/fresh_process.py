"""The child side of `memory.load_in_fresh_process` and `memory.train_in_fresh_process`: what runs inside the new
Python process (`python -m course_utils.fresh_process`, a JSON request on stdin, a JSON report on stdout), and the
process's resident-memory high-water mark it reports."""

from __future__ import annotations

import time

from .memory import process_rss_bytes, quantization_backend

PROBE_PROMPT = "What is the capital of France?"


def peak_rss_bytes() -> int:
    """This process's resident-memory high-water mark.

    On Linux, VmHWM from /proc: getrusage's ru_maxrss is carried over from the parent across fork and exec, so a
    child of a 2 GB notebook kernel would report at least 2 GB whatever it did.
    """
    import resource
    import sys

    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, kilobytes elsewhere


def _load_quietly(request: dict, device_map: str | dict | None):
    """Both children's preamble: quiet logs, `from_pretrained` as requested, timed; (model, seconds, RSS before)."""
    import logging
    import warnings

    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    kwargs = {"dtype": getattr(torch, request["dtype"])}
    if request.get("quantization_config"):
        quantization_backend()
        kwargs["quantization_config"] = BitsAndBytesConfig.from_dict(request["quantization_config"])
    if device_map:
        kwargs["device_map"] = device_map
    rss_before = process_rss_bytes()
    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(request["checkpoint"], **kwargs)
    return model, time.perf_counter() - start, rss_before


def _peaks(**report) -> dict:
    """`report` plus the process's high-water mark and, on a GPU, the peak allocated GPU memory."""
    import torch

    report["peak_rss_bytes"] = peak_rss_bytes()
    if torch.cuda.is_available():
        report["peak_cuda_bytes"] = torch.cuda.max_memory_allocated()
    return report


def _probe(request: dict) -> dict:
    """The child side of `load_in_fresh_process`."""
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(request.get("tokenizer") or request["checkpoint"])
    model, load_seconds, rss_before = _load_quietly(request, request.get("device_map"))
    rss_after_load = process_rss_bytes()
    batch = tokenizer.apply_chat_template(
        [{"role": "user", "content": PROBE_PROMPT}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    ).to(model.device)
    with torch.no_grad():
        model.generate(**batch, max_new_tokens=4, do_sample=False)
    return _peaks(
        load_seconds=load_seconds,
        footprint_bytes=model.get_memory_footprint(),
        rss_before_load_bytes=rss_before,
        rss_after_load_bytes=rss_after_load,
    )


def _train_probe(request: dict) -> dict:
    """The child side of `train_in_fresh_process`."""
    import torch

    # One GPU, the whole model (device_map="auto" would split it across the GPUs of a multi-GPU host).
    model, load_seconds, rss_before = _load_quietly(request, {"": 0} if torch.cuda.is_available() else None)
    loaded = {
        "load_seconds": load_seconds,
        "footprint_bytes": model.get_memory_footprint(),
        "load_peak_rss_bytes": peak_rss_bytes(),  # the high-water mark of loading alone
    }
    with torch.no_grad():  # reads every weight once: what a memory-mapped checkpoint has not done yet
        model(input_ids=torch.zeros(1, 8, dtype=torch.long, device=model.device))
    loaded["loaded_forward_peak_rss_bytes"] = peak_rss_bytes()
    checkpointing = bool(request.get("gradient_checkpointing"))
    if request["method"] in ("LoRA", "QLoRA"):
        from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

        if request["method"] == "QLoRA":
            from .qlora import keep_4bit_layers_trainable

            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=checkpointing)
            keep_4bit_layers_trainable(model)
        model = get_peft_model(model, LoraConfig(**request["lora"]))
    if checkpointing and request["method"] != "QLoRA":  # the same setting for every method
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    rss_after_load = process_rss_bytes()
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    generator = torch.Generator().manual_seed(0)
    vocab = model.get_input_embeddings().weight.shape[0]
    for _ in range(request["steps"]):
        ids = torch.randint(0, vocab, (request["batch_size"], request["seq_len"]), generator=generator)
        ids = ids.to(model.device)
        model(input_ids=ids, labels=ids).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return _peaks(**loaded, rss_before_load_bytes=rss_before, rss_after_load_bytes=rss_after_load)


if __name__ == "__main__":
    import json
    import sys

    child_request = json.loads(sys.stdin.read())
    child_report = _train_probe(child_request) if child_request.get("train") else _probe(child_request)
    print(json.dumps(child_report), flush=True)

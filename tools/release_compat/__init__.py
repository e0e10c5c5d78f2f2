"""Does every release in the course's declared range accept what the lessons and course_utils pass to it?

For transformers, peft, bitsandbytes, datasets, accelerate and evaluate, every minor release from the course's floor
(course_utils.runtime.MINIMUM_VERSIONS) to the newest on the package index, at the newest patch of each
(`pip index versions`), is downloaded once as a wheel into a cache folder (`pip download --no-deps`; never
installed) and read with `ast`:

- the keyword arguments the lessons and course_utils pass to `TrainingArguments`, `Trainer`, `from_pretrained`,
  `BitsAndBytesConfig`, `LoraConfig`, `load_dataset` and `evaluate.load`, themselves collected with `ast` from the
  notebooks' code cells and course_utils' modules (a new argument is checked without editing this package), must be
  parameters (or dataclass fields) of that release;
- the names the course imports from these packages (`from bitsandbytes.functional import x`) must be defined there.

An argument passed under a feature test (`x = {"a": 1} if "a" in fields else {"b": 1}`, or the same as an `if`
statement) is required only in the releases where the test is true, and the other branch's where it is false.
A release that fails is a finding to fix (raise the floor, or fix the lesson), never one to skip.

    python -m tools.release_compat [--cache .cache/wheels] [--packages transformers,peft]

sources (what the course passes) · releases (the wheels in range) · wheels (what a release accepts) · check (the
check, its report and the command line).
"""

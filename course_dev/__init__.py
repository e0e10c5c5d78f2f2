"""Developer tooling, run from a checkout: the benchmark (`python -m course_dev.bench`) and the lesson fine-tune's
script twin (`python -m course_dev.finetune`). Not part of what students or instructors install."""

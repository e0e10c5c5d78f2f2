"""Repository tools, run from the checkout as modules (`python -m tools.check_notebooks`, `make course`).

A package, so the lesson runner (`tools.run_course`) is one importable module that `make course`, the benchmark
(`course_dev.bench`) and the tests share. Tools import `course_utils` and each other, never `course_dev`.
"""

"""`python -m course_dev.bench` (`make bench`): how fast the course runs on this machine, as a table and JSON.

A benchmark, not a test: it measures and reports, it asserts nothing. One module per part:

- `machine`: the machine's own limit, dense matmul GFLOP/s at the thread count the fine-tune uses (and on 1 thread);
- `finetune_runs`: the lesson fine-tune (`python -m course_dev.finetune`) on a profile (default `cpu`): examples/s,
  real tokens/s, model FLOP utilisation (6 x matmul parameters x real tokens / time, as a fraction of the matmul
  limit), peak memory, held-out F1; the same fine-tune the original tutorial's way (`--original-recipe`), in the
  same run, as the baseline; variants reported apart; the full training split against the book's figure;
- `lessons`: wall time of every lesson on the `ci` and `cpu` profiles (`tools.run_course`), and of `make test`;
- `quiz`: quiz grading end to end, a simulated class of a secret-seed term (folder -> gradebook -> CSV + item
  analysis), beside the executing grader's per-kernel figure;
- `report`: the table, built as rows of data and rendered to markdown in one place;
- `cli`: the options and the order of the parts.

    python -m course_dev.bench                          # everything (about an hour on 2 cores)
    python -m course_dev.bench --skip-test-command --lesson-profiles ci
    python -m course_dev.bench --quick                  # seconds-scale versions of each part (for tests)

Each fine-tune runs in its own process, so the thread settings and the peak memory are that run's own.
Another busy program on the same cores makes every figure noisy: the JSON records the load average around each part.
"""

"""`course-quiz` / `course-quiz`: the instructor's cycle, from the bank to grades.

build      bank -> package data, source and release notebooks (--check: fail if out of date)
release    register quizzes in the gradebook and (re)generate release/ with nbgrader
autograde  grade a folder of <student>.ipynb or <student>/<quiz>.ipynb (copies, never the originals)
export     the gradebook as CSV (nbgrader's CSV export)
summary    table: student, score per quiz, flags
feedback   HTML feedback per student; hidden tests stripped unless --show-hidden-tests
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from course_utils.errors import CourseError

from .course import QUIZ_IDS, default_course_dir

EXIT_OK, EXIT_STALE, EXIT_ERROR = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    # nbgrader's gradebook emits SQLAlchemy warnings that are noise to an instructor.
    warnings.filterwarnings("ignore", module=r"nbgrader\..*")
    warnings.filterwarnings("ignore", message=r".*not in session.*")
    try:
        return arguments.run(arguments)
    except CourseError as error:  # expected problems: say what and how to fix, no traceback
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="course-quiz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="command")

    build = commands.add_parser("build", help="generate package data, source and release notebooks from the bank")
    build.add_argument("--check", action="store_true", help="only report generated files that are out of date")
    build.add_argument("--root", type=Path, help="course checkout to write into (default: this checkout)")
    build.set_defaults(run=run_build)

    release = commands.add_parser("release", aliases=["generate"], help="nbgrader generate_assignment")
    release.add_argument("quizzes", nargs="*", metavar="quiz", help="quiz1 .. quiz5 (default: all)")
    _course_option(release)
    release.set_defaults(run=run_release)

    autograde = commands.add_parser("autograde", help="autograde a folder of student notebooks")
    autograde.add_argument("folder", type=Path, help="<student_id>.ipynb files or <student_id>/<quiz>.ipynb folders")
    autograde.add_argument("--quiz", choices=QUIZ_IDS, help="which quiz (default: from the folder or file names)")
    autograde.add_argument("--timeout", type=int, help="seconds per cell (default: nbgrader_config.py, 30)")
    _course_option(autograde)
    autograde.set_defaults(run=run_autograde)

    export = commands.add_parser("export", help="write the grades as CSV")
    export.add_argument("--to", type=Path, default=Path("grades.csv"), help="CSV file (default: grades.csv)")
    _course_option(export)
    export.set_defaults(run=run_export)

    summary = commands.add_parser("summary", help="print student, score per quiz and flags")
    _course_option(summary)
    summary.set_defaults(run=run_summary)

    feedback = commands.add_parser("feedback", help="generate HTML feedback for students")
    feedback.add_argument("quiz", choices=QUIZ_IDS)
    feedback.add_argument(
        "--show-hidden-tests", action="store_true", help="keep the hidden tests (and so the answer key) in the feedback"
    )
    feedback.add_argument("--student", help="only this student (default: every autograded student)")
    _course_option(feedback)
    feedback.set_defaults(run=run_feedback)
    return main_parser


def _course_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--course", type=Path, help="nbgrader course folder (default: <checkout>/quizzes)")


def _course(arguments) -> Path:
    return arguments.course or default_course_dir()


def run_build(arguments) -> int:
    from course_utils.paths import project_root

    from .build import build, stale_files

    root = arguments.root or project_root()
    if root is None:
        raise CourseError("Run build from a course checkout, or pass --root <checkout>.")
    bank, config = root / "quizzes" / "bank", root / "quizzes" / "nbgrader_config.py"
    if arguments.check:
        problems = stale_files(bank, config, root)
        for problem in problems:
            print(problem)
        if problems:
            print("Generated quiz files are out of date. Fix: course-quiz build")
            return EXIT_STALE
        print("Generated quiz files are up to date.")
        return EXIT_OK
    for path in build(bank, config, root):
        print(f"wrote {path}")
    return EXIT_OK


def run_release(arguments) -> int:
    from .course import check_quiz_id, generate_assignment, nbgrader_api

    course = _course(arguments)
    quiz_ids = [check_quiz_id(quiz_id) for quiz_id in arguments.quizzes] or QUIZ_IDS
    api = nbgrader_api(course)
    for quiz_id in quiz_ids:
        generate_assignment(api, quiz_id)
        print(f"{quiz_id}: registered in {course / 'gradebook.db'}, student version in {course / 'release' / quiz_id}")
    return EXIT_OK


def run_autograde(arguments) -> int:
    from .grading import autograde_folder

    run = autograde_folder(arguments.folder, _course(arguments), arguments.quiz, arguments.timeout)
    flagged = sum(1 for row in run.rows if row.flags)
    print(
        f"{run.quiz_id}: graded {len(run.rows)} submissions in {run.seconds:.0f} s "
        f"({run.per_minute:.1f}/min); {flagged} flagged. Next: course-quiz summary / export."
    )
    return EXIT_OK


def run_export(arguments) -> int:
    from .grading import export_csv

    print(f"wrote {export_csv(_course(arguments), arguments.to)}")
    return EXIT_OK


def run_summary(arguments) -> int:
    from .grading import summary_rows, summary_table

    print(summary_table(summary_rows(_course(arguments))))
    return EXIT_OK


def run_feedback(arguments) -> int:
    from .grading import generate_feedback

    files = generate_feedback(_course(arguments), arguments.quiz, arguments.show_hidden_tests, arguments.student)
    hidden = "included" if arguments.show_hidden_tests else "stripped"
    print(f"{arguments.quiz}: {len(files)} feedback files in {_course(arguments) / 'feedback'} (hidden tests {hidden})")
    return EXIT_OK

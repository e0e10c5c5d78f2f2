"""`course-quiz ...`: the instructor's cycle, from the bank to grades, in a term workspace outside the checkout.

init       build (or rebuild) a term workspace: term secret, shuffled term notebooks, key, nbgrader course
release    one notebook per student, each with the student's own choice order (for LMS distribution)
build      public bank -> package data and public practice notebooks (--check: fail if out of date)
lint       bank checks that give answers away (the right choice being the longest, ...)
autograde  read a folder of <student>.ipynb or <student>/<quiz>.ipynb (never run), grade, export CSVs + report
export     the gradebook as CSV: nbgrader's columns, a Canvas gradebook import or a Moodle grade import
bench      time a simulated class end to end (folder -> gradebook -> CSVs -> item analysis)
summary    table: student, score per quiz, flags (incl. manual overrides and needs_manual_grade)
report     item analysis HTML of a quiz
settings   feedback release time and whether feedback names the right choice
feedback   HTML feedback per student from the gradebook (after the release time)
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from course_utils.errors import CourseError

from .text import printable

EXIT_OK, EXIT_STALE, EXIT_ERROR, EXIT_LINT = 0, 1, 2, 3


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

    init = commands.add_parser("init", help="build a term workspace outside the checkout")
    init.add_argument(
        "workspace", type=Path, help="e.g. ~/quiz-term-2026 (created; rebuilt with its seed if it exists)"
    )
    init.add_argument(
        "--term-secret",
        help="the term's secret (default: a random one, kept in <workspace>/term.json); write --term-secret=VALUE "
        "when the value begins with '-', as a random token may",
    )
    init.add_argument("--term", help="term id written into the notebooks (default: the folder name)")
    init.add_argument("--bank", type=Path, help="public bank folder (default: <checkout>/quizzes/bank)")
    init.set_defaults(run=run_init)

    release = commands.add_parser("release", help="per-student notebooks, each in the student's own order")
    release.add_argument("quiz")
    release.add_argument(
        "--per-student", type=Path, required=True, metavar="ROSTER", help="CSV whose first column is the student id"
    )
    release.add_argument("--to", type=Path, help="folder (default: <workspace>/release-per-student/<quiz>)")
    _course_option(release)
    release.set_defaults(run=run_release)

    build = commands.add_parser("build", help="generate package data and practice notebooks from the bank")
    build.add_argument("--check", action="store_true", help="only report generated files that are out of date")
    build.add_argument("--root", type=Path, help="course checkout to write into (default: this checkout)")
    build.set_defaults(run=run_build)

    lint = commands.add_parser("lint", help="bank checks: the right choice must not be a tell")
    lint.add_argument("--bank", type=Path, help="bank folder (default: <checkout>/quizzes/bank)")
    lint.set_defaults(run=run_lint)

    autograde = commands.add_parser("autograde", help="grade a folder of student notebooks by reading them")
    autograde.add_argument("folder", type=Path, help="<student_id>.ipynb files or <student_id>/<quiz>.ipynb folders")
    autograde.add_argument("--quiz", help="which quiz (default: from the folder or file names)")
    autograde.add_argument("--quiet", action="store_true", help="no line per student")
    _course_option(autograde)
    autograde.set_defaults(run=run_autograde)

    export = commands.add_parser("export", help="write the grades as CSV (ungraded is blank, never 0)")
    export.add_argument("--format", choices=["nbgrader", "canvas", "moodle"], default="nbgrader")
    export.add_argument("--to", type=Path, default=Path("grades.csv"), help="CSV file (default: grades.csv)")
    _course_option(export)
    export.set_defaults(run=run_export)

    bench = commands.add_parser("bench", help="throughput of a simulated class, export and item analysis included")
    bench.add_argument("--students", type=int, nargs="+", default=[1000], help="class sizes (default: 1000)")
    bench.set_defaults(run=run_bench)

    summary = commands.add_parser("summary", help="print student, score per quiz and flags")
    _course_option(summary)
    summary.set_defaults(run=run_summary)

    report = commands.add_parser("report", help="item analysis of a quiz as HTML")
    report.add_argument("quiz")
    _course_option(report)
    report.set_defaults(run=run_report)

    settings = commands.add_parser("settings", help="show or change the feedback settings of a term")
    settings.add_argument(
        "--feedback-after", help="ISO time from which feedback may be written, e.g. 2026-12-01T12:00Z"
    )
    settings.add_argument("--name-right-choice", choices=["yes", "no"], help="feedback names the right choice")
    _course_option(settings)
    settings.set_defaults(run=run_settings)

    feedback = commands.add_parser("feedback", help="HTML feedback for students (after the release time)")
    feedback.add_argument("quiz")
    feedback.add_argument("--student", help="only this student (default: every graded student)")
    _course_option(feedback)
    feedback.set_defaults(run=run_feedback)
    return main_parser


def _course_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--course", type=Path, help="term workspace (default: $COURSE_QUIZ_WORKSPACE)")


def _course(arguments) -> Path:
    from .course import check_course_dir, default_course_dir

    return check_course_dir(arguments.course or default_course_dir())


def _checkout(root: Path | None = None) -> Path:
    from course_utils.paths import project_root

    root = root or project_root()
    if root is None:
        raise CourseError("Run this from a course checkout, or pass --root/--bank.")
    return Path(root)


def run_init(arguments) -> int:
    from .term import init_workspace

    bank = arguments.bank or _checkout() / "quizzes" / "bank"
    settings = init_workspace(arguments.workspace, bank, term_secret=arguments.term_secret, term_id=arguments.term)
    workspace = arguments.workspace.expanduser().resolve()
    print(f"term {settings['term']}: workspace {workspace} (term secret and key readable by you only)")
    print(
        f"Give students the notebooks in {workspace / 'release'}; then course-quiz autograde <folder> --course {workspace}"
    )
    return EXIT_OK


def run_build(arguments) -> int:
    from .build import build, stale_files

    root = _checkout(arguments.root)
    bank = root / "quizzes" / "bank"
    if arguments.check:
        problems = stale_files(bank, root)
        for problem in problems:
            print(problem)
        if problems:
            print("Generated quiz files are out of date. Fix: course-quiz build")
            return EXIT_STALE
        print("Generated quiz files are up to date.")
        return EXIT_OK
    for path in build(bank, root):
        print(f"wrote {path}")
    return EXIT_OK


def run_lint(arguments) -> int:
    from .bank import lint, load_bank

    bank = arguments.bank or _checkout() / "quizzes" / "bank"
    problems = lint(load_bank(bank), bank)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} lint problem(s) in {bank}")
    return EXIT_LINT if problems else EXIT_OK


def run_autograde(arguments) -> int:
    from .exports import export_all
    from .grading import autograde_folder

    course = _course(arguments)
    run = autograde_folder(arguments.folder, course, arguments.quiz, progress=None if arguments.quiet else print)
    for note in run.notes:
        print(printable(note))
    from .formgrader import write_autograded  # the formgrader's view of these grades

    shown = write_autograded(course, run.quiz_id, arguments.folder, run.inbox)
    print(f"{len(shown)} notebooks for nbgrader's formgrader in {course / 'autograded'}")
    written = export_all(course)
    report = item_report(course, run.quiz_id)
    flagged = sum(1 for row in run.rows if row.flags)
    print(
        f"{run.quiz_id}: graded {len(run.rows)} submissions in {run.seconds:.1f} s ({run.per_minute:.0f}/min); "
        f"{flagged} flagged. Wrote {', '.join(str(path) for path in written.values())} and {report}. "
        f"Next: course-quiz summary --course {course}"
    )
    return EXIT_OK


def item_report(course: Path, quiz_id: str) -> Path:
    """The item analysis of a quiz, every student's letters first mapped to the term's."""
    from .grading import class_answers
    from .item_analysis import analyse, write_report
    from .term import TermKey

    key = TermKey.load(course)
    answers = class_answers(course, quiz_id)
    in_term_letters = {student: key.in_term_letters(quiz_id, student, read) for student, read in answers.items()}
    items = analyse(in_term_letters, key.answers(quiz_id))
    target = course / "reports" / f"{quiz_id}-item-analysis.html"
    return write_report(items, quiz_id, len(answers), target, key.choices(quiz_id))


def run_report(arguments) -> int:
    from .course import check_quiz_id

    course = _course(arguments)
    print(f"wrote {item_report(course, check_quiz_id(arguments.quiz, course))}")
    return EXIT_OK


def run_export(arguments) -> int:
    from .exports import export

    written = export(_course(arguments), {arguments.format: arguments.to})
    print(f"wrote {written[arguments.format]}")
    return EXIT_OK


def run_release(arguments) -> int:
    from .course import check_quiz_id
    from .per_student import read_roster, release_per_student

    course = _course(arguments)
    quiz_id = check_quiz_id(arguments.quiz, course)
    target = arguments.to or course / "release-per-student" / quiz_id
    written = release_per_student(course, quiz_id, read_roster(arguments.per_student), target)
    print(
        f"{quiz_id}: {len(written)} notebooks in {target}, one per student, each in the student's own choice "
        f"order; grading now reads every {quiz_id} submission in its student's order."
    )
    return EXIT_OK


def run_bench(arguments) -> int:
    from .throughput import print_throughput

    print_throughput(arguments.students)
    return EXIT_OK


def run_summary(arguments) -> int:
    from .grading import gradebook_rows, summary_table

    print(summary_table(gradebook_rows(_course(arguments))))
    return EXIT_OK


def run_settings(arguments) -> int:
    from datetime import datetime

    from .term import load_term, save_settings

    course = _course(arguments)
    settings, _ = load_term(course)
    if arguments.feedback_after:
        try:
            datetime.fromisoformat(arguments.feedback_after)
        except ValueError:
            raise CourseError(
                f"{arguments.feedback_after!r} is not an ISO time: write e.g. 2026-12-01T12:00Z"
            ) from None
        settings["feedback"]["release_after"] = arguments.feedback_after
    if arguments.name_right_choice:
        settings["feedback"]["name_right_choice"] = arguments.name_right_choice == "yes"
    save_settings(course, settings)
    feedback = settings["feedback"]
    print(
        f"feedback released after: {feedback['release_after'] or 'not set (feedback withheld)'}; "
        f"names the right choice: {'yes' if feedback['name_right_choice'] else 'no'}"
    )
    return EXIT_OK


def run_feedback(arguments) -> int:
    from .course import check_quiz_id, course_config
    from .feedback import write_feedback

    course = _course(arguments)
    course_config(course)
    files = write_feedback(course, check_quiz_id(arguments.quiz, course), arguments.student)
    print(f"{arguments.quiz}: {len(files)} feedback files in {course / 'feedback'}")
    return EXIT_OK

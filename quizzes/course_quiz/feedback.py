"""Feedback for students, built from the gradebook only: per question the score and the answer as read.

Never outputs of student or test cells (nothing was run, and nothing the student wrote is echoed beyond the
letter read). Naming the right choice, and releasing feedback at all, are the instructor's settings in the
workspace's term.json (`course-quiz settings`): off until a release time the instructor gives.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from .course import QuizCourseError, check_course_dir
from .grading import class_answers, read_scores
from .static_grade import Release
from .term import TermKey, load_term


def release_time(settings: dict) -> datetime | None:
    value = settings.get("feedback", {}).get("release_after")
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def check_released(settings: dict, quiz_id: str, now: datetime | None = None) -> None:
    released = release_time(settings)
    if released is None or (now or datetime.now(timezone.utc)) < released:
        when = "no release time is set" if released is None else f"it is released at {released.isoformat()}"
        raise QuizCourseError(
            f"Feedback for {quiz_id} is not released yet ({when}). "
            "Fix: course-quiz settings --course <workspace> --feedback-after 2026-12-01T12:00Z"
        )


def write_feedback(
    course_dir: Path, quiz_id: str, student_id: str | None = None, now: datetime | None = None
) -> list[Path]:
    """Per student: the gradebook's score of each question (a manual override included) out of the release's
    points, and the letter the answer was read as, in the student's own letters."""
    course_dir = check_course_dir(course_dir)
    settings, _ = load_term(course_dir)
    check_released(settings, quiz_id, now)
    name_right = bool(settings["feedback"].get("name_right_choice"))
    key = TermKey.load(course_dir)
    release = Release.load(course_dir, quiz_id, key)
    scores = read_scores(course_dir)
    written = []
    for student, by_question in sorted(class_answers(course_dir, quiz_id).items()):
        if (student_id and student != student_id) or (student, quiz_id) not in scores.questions:
            continue
        points = scores.questions[(student, quiz_id)]
        lines = []
        for question, right in key.answers(quiz_id, student).items():
            letter = by_question.get(question)
            got, out_of = points.get(question, 0.0), release.points[question]
            read = f"your answer read as {letter}" if letter else "your answer could not be read as A-D"
            extra = f"; the right choice is {right}" if name_right and letter != right else ""
            lines.append(f"<li>{question}: {got:g} / {out_of:g} point{'s' if out_of != 1 else ''} — {read}{extra}</li>")
        total = scores.total(student, quiz_id)
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{quiz_id} feedback</title></head><body>"
            f"<h1>{quiz_id}: {total:g} / {release.max_score:g}</h1><ul>{''.join(lines)}</ul></body></html>\n"
        )
        target = course_dir / "feedback" / student / quiz_id / f"{quiz_id}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
        written.append(target)
    return written

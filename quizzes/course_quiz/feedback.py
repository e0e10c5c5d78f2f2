"""Feedback for students, built from the gradebook only: per question the score and the answer as read.

Never outputs of student or test cells (nothing was run, and nothing the student wrote is echoed beyond the
letter read). Naming the right choice, and releasing feedback at all, are the instructor's settings in the
workspace's term.json (`course-quiz settings`): off until a release time the instructor gives.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from .course import QuizCourseError, check_course_dir
from .grading import class_answers, gradebook_rows
from .term import load_term


def release_time(settings: dict) -> datetime | None:
    value = settings.get("feedback", {}).get("release_after")
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def write_feedback(
    course_dir: Path, quiz_id: str, student_id: str | None = None, now: datetime | None = None
) -> list[Path]:
    course_dir = check_course_dir(course_dir)
    settings, key = load_term(course_dir)
    released = release_time(settings)
    now = now or datetime.now(timezone.utc)
    if released is None or now < released:
        when = "no release time is set" if released is None else f"it is released at {released.isoformat()}"
        raise QuizCourseError(
            f"Feedback for {quiz_id} is not released yet ({when}). "
            "Fix: course-quiz settings --course <workspace> --feedback-after 2026-12-01T12:00Z"
        )
    name_right = bool(settings["feedback"].get("name_right_choice"))
    answers = class_answers(course_dir, quiz_id)
    rows = {row.student_id: row for row in gradebook_rows(course_dir) if row.quiz_id == quiz_id}
    written = []
    for student, by_question in sorted(answers.items()):
        if student_id and student != student_id:
            continue
        row = rows[student]
        lines = []
        for question, entry in key["quizzes"][quiz_id].items():
            if question.startswith("_"):
                continue
            letter = by_question.get(question)
            right = letter == entry["answer"]
            read = f"your answer read as {letter}" if letter else "your answer could not be read as A-D"
            extra = f"; the right choice is {entry['answer']}" if name_right and not right else ""
            lines.append(f"<li>{question}: {1 if right else 0} point — {read}{extra}</li>")
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{quiz_id} feedback</title></head><body>"
            f"<h1>{quiz_id}: {row.score:g} / {row.max_score:g}</h1><ul>{''.join(lines)}</ul></body></html>\n"
        )
        target = course_dir / "feedback" / student / quiz_id / f"{quiz_id}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
        written.append(target)
    return written

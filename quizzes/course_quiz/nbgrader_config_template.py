"""nbgrader configuration of a term workspace (copied there by `course-quiz init`; edit the copy if you must).

Grading reads answers as text and never runs a student's notebook: `StaticGrade` replaces nbgrader's
`Execute` step. `course-quiz` refuses to grade when this file fails to load or lacks StaticGrade; plain
nbgrader without this file would execute the notebooks, and then every test cell scores 0 with a message
naming `course-quiz autograde` (the notebooks hold no key).
"""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from course_quiz.static_grade import SanitizeCellMetadata, StaticGrade

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

c.CourseDirectory.course_id = "fine-tuning-pretrained-models"

# Answer cells hold `answer_qN = ""` above an empty solution region; no stub is added.
c.ClearSolutions.code_stub = {"python": ""}

# One notebook must not stop the class: nbgrader's DeduplicateIds leaves metadata that its own check then refuses
# (as it refuses an edited schema version), ending `nbgrader autograde <quiz>` for every student after it.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    SanitizeCellMetadata,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]

# nbgrader's autograde (also from the formgrader) reads instead of executing.
c.Autograde.autograde_preprocessors = [
    StaticGrade,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

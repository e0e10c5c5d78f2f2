"""nbgrader configuration of the course's quizzes (quiz1 .. quiz5, generated from quizzes/bank/).

Run nbgrader through `course-quiz ...` (see quizzes/README.md); it loads this file and
sets the course root and gradebook to this folder, or to the folder given with --course.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

c.CourseDirectory.course_id = "fine-tuning-pretrained-models"

# Answer cells hold `answer_qN = ""` above the solution region; the solution is removed without a stub.
c.ClearSolutions.code_stub = {"python": ""}

# Seconds per cell when autograding. An infinite loop is interrupted after this and scores zero for
# the question it is in; the rest of the notebook still runs.
c.Execute.timeout = 30

# Deleted read-only and test cells are put back by `course-quiz autograde` before nbgrader runs (and
# flagged): nbgrader 0.9.6's own OverwriteCells.add_missing_cells raises a KeyError on these notebooks.
# Edited read-only cells are overwritten by nbgrader itself from its gradebook, hidden tests included.

# nbgrader 0.9 copies hidden tests into the feedback it generates. Ours hold the answer key, so feedback
# for students strips them; `course-quiz feedback --show-hidden-tests` restores nbgrader's default.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]

# Kernels that grade: no history file, and no start-up warnings from each of them in the terminal.
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]

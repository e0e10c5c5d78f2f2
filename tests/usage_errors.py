"""Shared by the command-line tests: bad arguments end in argparse's usage error (exit 2), never a traceback."""

import pytest


def usage_error(main, arguments: list[str], capsys) -> str:
    """Call a command's `main(arguments)`; it must exit with status 2 and no traceback. Returns what it wrote."""
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error
    return error

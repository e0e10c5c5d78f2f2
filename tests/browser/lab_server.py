"""JupyterLab started exactly as the README says (`make lab`), on a free loopback port, stopped for sure.

The server runs in its own process group; `stop()` asks it to shut down (kernels included) through
its REST API, then terminates and finally kills the whole group, so no kernel outlives the test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

URL_PATTERN = re.compile(r"http://127\.0\.0\.1:(\d+)/lab[^\s?]*\?token=([0-9a-f]+)")


class LabDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """`make lab PORT=<port>` from `root`; `url` is the printed URL with its token."""

    def __init__(self, root: Path, env: dict[str, str], log_path: Path, start_timeout: float = 300):
        self.root = Path(root)
        self.env = env
        self.log_path = Path(log_path)
        self.start_timeout = start_timeout
        self.port = free_port()
        self.url: str | None = None
        self.token: str | None = None
        self.process: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._reader: threading.Thread | None = None

    @property
    def command(self) -> list[str]:
        return ["make", "lab", f"PORT={self.port}"]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return "".join(self._lines)

    def start(self) -> LabServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._launch(self.command, self.env)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            match = URL_PATTERN.search(self.output())
            if match:
                self.url, self.token = match.group(0), match.group(2)
                if int(match.group(1)) != self.port:
                    raise LabDidNotStart(f"`{' '.join(self.command)}` printed a URL on another port: {self.url}")
                self._wait_until_answering(deadline)
                return self
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                raise LabDidNotStart(
                    f"`{' '.join(self.command)}` exited with {self.process.returncode} before "
                    f"printing a URL. Its output:\n{self.output()[-4000:]}"
                )
            time.sleep(0.2)
        raise LabDidNotStart(
            f"`{' '.join(self.command)}` printed no URL with a token within {self.start_timeout:.0f} s. "
            f"Its output:\n{self.output()[-4000:]}"
        )

    def _launch(self, command: list[str], env: dict[str, str]) -> None:
        """Start `command` in a session of its own (stopped as a group), its output read line by line into
        `output()` and the log."""
        self.process = subprocess.Popen(
            command,
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with open(self.log_path, "w", encoding="utf-8") as log:
            for line in self.process.stdout:
                self._lines.append(line)
                log.write(line)
                log.flush()

    def _wait_until_answering(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                self.api("GET", "/api/status")
                return
            except OSError:
                time.sleep(0.2)
        raise LabDidNotStart(f"{self.url} printed but never answered.\n{self.output()[-4000:]}")

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 10):
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def url_for(self, lab_path: str) -> str:
        """A JupyterLab URL (e.g. /lab/tree/notebooks/x.ipynb) carrying the printed token."""
        return f"{self.base_url}{lab_path}?token={self.token}"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        descendants = self._descendants()  # kernels run in their own sessions: killpg alone misses them
        try:  # shuts kernels down cleanly, then the server exits
            self.api("POST", "/api/shutdown", timeout=5)
            self.process.wait(timeout=20)
        except Exception:
            pass
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)  # the group: make, jupyter and anything they started
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
                if sig == signal.SIGTERM:
                    continue  # make is gone; SIGKILL below still reaches any straggler in the group
            except subprocess.TimeoutExpired:
                pass
        for process in descendants:
            try:
                process.kill()
            except Exception:  # already gone
                pass
        if self._reader is not None:
            self._reader.join(timeout=5)

    def _descendants(self) -> list:
        try:
            import psutil

            return psutil.Process(self.process.pid).children(recursive=True)
        except Exception:
            return []

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""

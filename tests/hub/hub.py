"""A real JupyterHub on loopback for the nbgrader cycle test: local system users, nbgrader's exchange in a
temporary folder, stopped for sure.

The hub runs as root (it must, to start each user's server as that user: JupyterHub's LocalProcessSpawner),
with `configurable-http-proxy` from npm in front, and DummyAuthenticator with one shared password: a test-only
stand-in for PAM, allowed users listed. Each user is a real account (`useradd`) with a home in the
temporary folder, so nbgrader's exchange sees real owners and modes, as on a course server.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.browser.lab_server import LabServer, free_port

COURSE_ID = "fine-tuning-pretrained-models"
PASSWORD = "course-hub-test-password"  # DummyAuthenticator: the test's own users, on 127.0.0.1 only
VENV_BIN = Path(sys.executable).parent


class HubProblem(RuntimeError):
    """The hub, its proxy or a user account could not be set up; the message says what and how to fix it."""


COMMANDS = {
    "course-quiz": "course_quiz",
    "nbgrader": "nbgrader",
    "alembic": "alembic",  # nbgrader's gradebook runs it
    "jupyterhub-singleuser": "jupyterhub.singleuser",
}


def reachable_by_all(path: Path) -> bool:
    """Every folder above `path` can be entered by other users (a venv made from a Python under /root cannot)."""
    return all(os.stat(folder).st_mode & 0o001 for folder in path.resolve().parents)


def user_bin(root: Path) -> tuple[Path, dict[str, str]]:
    """A folder of commands (`course-quiz`, `nbgrader`, `jupyterhub-singleuser`, `python`) that the test's
    local users can run with the course's installed packages, and the environment they need.

    Where the course's venv is built on an interpreter other users cannot reach (pyenv under /root, as on
    this machine), the interpreter and its standard library (not its site-packages) are copied into the
    test's folder, and a venv made from the copy reads the course venv's site-packages; its share/ and etc/
    are the course venv's (JupyterLab's extensions and settings, nbgrader's server extensions). The same
    interpreter build, not the system's Python: a different 3.11 patch release breaks soupsieve 4.1, which
    nbconvert needs to render the formgrader's pages.
    """
    if reachable_by_all(Path(sys.executable)):
        return VENV_BIN, {}
    base = Path(sys.base_prefix)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    copy = root / "python"
    (copy / "bin").mkdir(parents=True)
    shutil.copy2(base / "bin" / version, copy / "bin" / version)
    (copy / "lib").mkdir()
    for library in (base / "lib").glob("libpython*.so*"):
        shutil.copy2(library, copy / "lib" / library.name)
    shutil.copytree(
        base / "lib" / version, copy / "lib" / version, ignore=shutil.ignore_patterns("site-packages", "test")
    )
    (copy / "lib" / version / "site-packages").mkdir()
    environment = {"LD_LIBRARY_PATH": str(copy / "lib")}
    venv = root / "user-venv"
    subprocess.run(
        [str(copy / "bin" / version), "-m", "venv", "--without-pip", str(venv)],
        check=True,
        capture_output=True,
        env={**os.environ, **environment},
    )
    course_site = VENV_BIN.parent / "lib" / version / "site-packages"
    (venv / "lib" / version / "site-packages" / "course-venv.pth").write_text(
        f"import site; site.addsitedir({str(course_site)!r})\n"
    )
    for shared in ("share", "etc"):
        (venv / shared).symlink_to(VENV_BIN.parent / shared)
    for command, module in COMMANDS.items():
        script = venv / "bin" / command
        script.write_text(
            f'#!/bin/sh\nLD_LIBRARY_PATH="{copy / "lib"}" exec "{venv / "bin" / "python"}" -m {module} "$@"\n'
        )
        script.chmod(0o755)
    for path in [copy, venv, *copy.rglob("*"), *venv.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o005)
    return venv / "bin", environment


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def proxy_command() -> str:
    found = shutil.which("configurable-http-proxy")
    if not found:
        raise HubProblem(
            "configurable-http-proxy is not installed. Fix: `npm install -g configurable-http-proxy` "
            "(what .ci/run does)."
        )
    return found


class Users:
    """Local accounts created for the test (useradd) and removed after it (userdel); homes under `root`."""

    def __init__(self, root: Path):
        self.root = root
        self.names: list[str] = []

    def add(self, name: str) -> Path:
        if os.geteuid() != 0:
            raise HubProblem("the JupyterHub test creates local users and must run as root (as CI does).")
        home = self.root / name
        try:
            pwd.getpwnam(name)
            subprocess.run(["userdel", name], check=False, capture_output=True)  # left over by a killed run
        except KeyError:
            pass
        subprocess.run(
            ["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/bash", "--user-group", name],
            check=True,
            capture_output=True,
        )
        self.names.append(name)
        home.mkdir(parents=True, exist_ok=True)
        entry = pwd.getpwnam(name)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        home.chmod(0o700)
        return home

    def uid(self, name: str) -> int:
        return pwd.getpwnam(name).pw_uid

    def run(self, name: str, command: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
        """`command` as that user, as they would type it in their terminal; fails with its output."""
        entry = pwd.getpwnam(name)
        result = subprocess.run(
            command,
            cwd=cwd,
            env={**env, "HOME": entry.pw_dir, "USER": name, "LOGNAME": name},
            user=entry.pw_uid,
            group=entry.pw_gid,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        output = result.stdout + result.stderr
        if result.returncode != 0:
            raise AssertionError(f"{name}$ {' '.join(command)} exited {result.returncode}:\n{output[-12000:]}")
        return output

    def processes(self) -> list:
        """Processes still running as one of the test's users (there should be none after the hub stops)."""
        import psutil

        uids = set()
        for name in self.names:
            try:
                uids.add(self.uid(name))
            except KeyError:
                pass
        found = []
        for process in psutil.process_iter(["uids", "cmdline"]):
            try:
                if process.info["uids"] and process.info["uids"].real in uids:
                    found.append(process)
            except Exception:
                pass
        return found

    def still_running(self, grace_seconds: float) -> list[str]:
        """The test users' processes that have not ended within `grace_seconds` ("pid command" each).

        A server's children may take a moment to exit after the hub stops; a zombie has ended (it holds nothing
        but its exit status until its parent reaps it), so it does not count."""
        import psutil

        _, alive = psutil.wait_procs(self.processes(), timeout=grace_seconds)
        running = []
        for process in alive:
            try:
                if process.status() == psutil.STATUS_ZOMBIE:
                    continue
                running.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                pass
        return running

    def remove(self) -> None:
        for process in self.processes():  # only processes of the accounts this test created
            try:
                process.kill()
            except Exception:
                pass
        for name in self.names:
            subprocess.run(["userdel", name], check=False, capture_output=True)
        self.names = []


class Hub(LabServer):
    """`jupyterhub -f <config>` as root on free loopback ports; `stop()` ends the hub, the proxy and servers.

    A LabServer for its log reader and its stop (the group, then every descendant), after a SIGINT that lets
    the hub stop each user's server and its proxy itself."""

    def __init__(self, root: Path, users: dict[str, Path], admin: str, environment: dict[str, str], bin_dir: Path):
        super().__init__(root, env=dict(os.environ), log_path=root / "jupyterhub.log")
        self.bin_dir = bin_dir  # the users' commands (user_bin)
        self.users = users  # name -> home
        self.admin = admin
        self.environment = environment  # what every single-user server gets
        self.hub_port, self.api_port = free_port(), free_port()
        self.url = self.base_url  # the proxy's public port: what a browser opens

    @property
    def ports(self) -> list[int]:
        return [self.port, self.hub_port, self.api_port]

    def config(self) -> str:
        homes = {name: str(home) for name, home in self.users.items()}
        server_env = {
            **self.environment,
            "PATH": f"{self.bin_dir}{os.pathsep}/usr/bin:/bin",
        }
        return f"""
import json
c = get_config()  # noqa: F821
c.JupyterHub.bind_url = "{self.url}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{self.hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.api_port}"
c.ConfigurableHTTPProxy.command = [{proxy_command()!r}]
c.ConfigurableHTTPProxy.pid_file = {str(self.root / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{self.root / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(self.root / "cookie_secret")!r}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allowed_users = set({sorted(homes)!r})
c.Authenticator.admin_users = {{{self.admin!r}}}
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
homes = json.loads({json.dumps(homes)!r})
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab"
c.Spawner.cmd = [{str(self.bin_dir / "jupyterhub-singleuser")!r}]
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
server_env = json.loads({json.dumps(server_env)!r})
c.Spawner.environment = {{
    key: (lambda spawner, value=value: value.format(username=spawner.user.name)) for key, value in server_env.items()
}}
"""

    def start(self, timeout: float = 120) -> Hub:
        config = self.root / "jupyterhub_config.py"
        config.write_text(self.config())
        self._launch(
            [str(VENV_BIN / "jupyterhub"), "-f", str(config)],
            {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HubProblem(f"jupyterhub exited with {self.process.returncode}:\n{self.output()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api", timeout=5) as response:
                    if json.loads(response.read()).get("version"):
                        return self
            except OSError:
                time.sleep(0.5)
        raise HubProblem(f"jupyterhub did not answer on {self.url} within {timeout:.0f} s:\n{self.output()[-4000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        descendants = self._descendants()  # single-user servers run in their own sessions
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        super().stop()
        for process in descendants:
            try:
                process.kill()
            except Exception:  # already gone
                pass


def shared_folder(prefix: str) -> Path:
    """A temporary folder every test user can traverse (pytest's tmp_path is root's only)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder

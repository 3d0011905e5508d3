"""A container engine for the compose test: podman behind its Docker-compatible socket, driven by
Debian's docker-compose, with every image built here from Debian's packages (no registry needed)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
IMAGES = Path(__file__).resolve().parent / "images"
CONTAINERS_CONF = IMAGES / "containers.conf"
PREFIX = "localhost/pilotwatch-ci"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
LOCAL_CERTIFICATES = Path("/usr/local/share/ca-certificates")
HEALTH_INTERVAL = 2.0


class Unavailable(Exception):
    """No container engine can run here; the message says why."""


class Engine:
    """podman and its Docker-compatible API on a socket of its own."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.socket = folder / "podman.sock"
        self.env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
        self.service: subprocess.Popen[bytes] | None = None
        self.watched: set[str] = set()
        self._stop = threading.Event()
        self._health: threading.Thread | None = None

    def podman(
        self, *args: str, timeout: float = 120, check: bool = True, stdin: Any = subprocess.DEVNULL
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["podman", *args], env=self.env, stdin=stdin, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def has_image(self, name: str) -> bool:
        return self.podman("image", "exists", name, check=False).returncode == 0

    def build(self, name: str, context: Path, **arguments: str) -> None:
        """Build with Docker's image format, which keeps HEALTHCHECK as `docker build` does."""
        argv = ["build", "--format", "docker", "-t", name]
        for key, value in arguments.items():
            argv += ["--build-arg", f"{key}={value}"]
        self.podman(*argv, str(context), timeout=900)

    def check_runs(self, image: str) -> None:
        """Start one container, or say why podman cannot run any here."""
        probe = self.podman("run", "--rm", "--network", "none", image, "true", check=False, timeout=120)
        if probe.returncode != 0:
            raise Unavailable(f"podman cannot start a container here: {probe.stderr.strip()[-800:]}")

    # --- the Docker-compatible API -------------------------------------------------------------

    def serve(self, timeout: float = 30) -> str:
        """Start `podman system service` on our socket; returns the DOCKER_HOST that reaches it."""
        log = (self.folder / "podman-service.log").open("wb")
        self.service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{self.socket}"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.service.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    "podman's API service did not answer:\n"
                    + (self.folder / "podman-service.log").read_text(errors="replace")[-2000:]
                )
            time.sleep(0.2)
        return f"unix://{self.socket}"

    def answers(self) -> bool:
        try:
            connection = UnixHTTPConnection(str(self.socket))
            connection.request("GET", "/_ping")
            return connection.getresponse().status == 200
        except OSError:
            return False

    # --- health checks: podman runs them from systemd timers; without systemd, from here -------

    def watch_health(self, project: str) -> None:
        """Run the health checks of this compose project's containers every 2 s, as a daemon would."""
        self.watched.add(project)
        if self._health is None:
            self._health = threading.Thread(target=self._run_health_checks, daemon=True)
            self._health.start()

    def _run_health_checks(self) -> None:
        while not self._stop.wait(HEALTH_INTERVAL):
            for project in list(self.watched):
                listing = self.podman(
                    "ps", "-q", "--filter", f"label=com.docker.compose.project={project}", check=False
                )
                for container in listing.stdout.split():
                    # A container without a check answers with an error: nothing to do for it.
                    self.podman("healthcheck", "run", container, check=False, timeout=30)

    def containers(self, project: str) -> list[dict[str, Any]]:
        """Each container of the project as `podman inspect` shows it."""
        ids = self.podman(
            "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"
        ).stdout.split()
        return json.loads(self.podman("inspect", *ids).stdout) if ids else []

    def volumes(self, project: str) -> list[str]:
        listing = self.podman("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={project}")
        return listing.stdout.split()

    def stop(self) -> None:
        self._stop.set()
        if self._health is not None:
            self._health.join(timeout=60)
        if self.service is not None and self.service.poll() is None:
            self.service.terminate()
            try:
                self.service.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.service.kill()
                self.service.wait()


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=5)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.path)


# --- the images ---------------------------------------------------------------------------------


def debian_base(engine: Engine, folder: Path, mirror: str = DEBIAN_MIRROR) -> str:
    """A minimal Debian bookworm image made by debootstrap from Debian's mirror (kept for later runs)."""
    name = f"{PREFIX}/debian:bookworm"
    if engine.has_image(name):
        return name
    root = folder / "debian-root"
    try:
        made = subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(root), mirror],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if made.returncode != 0:
            raise Unavailable(f"debootstrap could not make a Debian base: {made.stderr.strip()[-800:]}")
        with subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE) as tar:
            engine.podman("import", "-", name, stdin=tar.stdout, timeout=300)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return name


@contextmanager
def python_context(folder: Path) -> Iterator[Path]:
    """The Python base's build folder: its Dockerfile and the local certificate authorities."""
    context = folder / "python-context"
    (context / "certificates").mkdir(parents=True)
    shutil.copy(IMAGES / "python" / "Dockerfile", context / "Dockerfile")
    for certificate in sorted(LOCAL_CERTIFICATES.glob("*.crt")):
        shutil.copy(certificate, context / "certificates" / certificate.name)
    try:
        yield context
    finally:
        shutil.rmtree(context, ignore_errors=True)


def build_images(engine: Engine, base: str, folder: Path, timings: dict[str, float]) -> dict[str, str]:
    """The Pilotwatch image FROM a Python made of Debian's packages, and the infrastructure images
    the stack needs, all on one Debian base. Returns the compose file's image variables."""
    images = {
        "python": f"{PREFIX}/python:3.11",
        "REDIS_IMAGE": f"{PREFIX}/redis:7",
        "POSTGRES_IMAGE": f"{PREFIX}/postgres:15",
        "MAILPIT_IMAGE": f"{PREFIX}/mailpit:stand-in",
        "PILOTWATCH_IMAGE": f"{PREFIX}/pilotwatch:ci",
    }
    started = time.monotonic()
    with python_context(folder) as context:
        engine.build(images["python"], context, BASE_IMAGE=base)
    for variable, kind in (
        ("REDIS_IMAGE", "redis"),
        ("POSTGRES_IMAGE", "postgres"),
        ("MAILPIT_IMAGE", "mailpit"),
    ):
        engine.build(images[variable], IMAGES / kind, BASE_IMAGE=base)
    timings["Python, Redis, PostgreSQL and mailbox images (podman build, cached layers kept)"] = (
        time.monotonic() - started
    )
    started = time.monotonic()
    engine.build(images["PILOTWATCH_IMAGE"], ROOT, BASE_IMAGE=images["python"])
    timings["Pilotwatch image (BASE_IMAGE = that Python)"] = time.monotonic() - started
    return {key: value for key, value in images.items() if key.endswith("_IMAGE")}


# --- docker-compose -----------------------------------------------------------------------------


class Compose:
    """docker-compose on one project folder (the compose file and its .env), through the engine's API."""

    def __init__(self, folder: Path, project: str, docker_host: str, profiles: str = ""):
        self.folder = folder
        self.project = project
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("COMPOSE_")}
        self.env.update(DOCKER_HOST=docker_host, COMPOSE_PROFILES=profiles)

    def __call__(
        self, *args: str, timeout: float = 180, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = ["docker-compose", "--ansi", "never", "-p", self.project, *args]
        result = subprocess.run(
            argv,
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def background(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["docker-compose", "--ansi", "never", "-p", self.project, *args],
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def pilotwatch(self, *args: str, volumes: tuple[str, ...] = ()) -> str:
        """`pilotwatch ARGS` in a one-off container of the app image. It runs as the `migrate` service:
        docker-compose 1.x links a one-off container to the running ones of its own service, and
        podman refuses links, so `run intake` fails there while the intake runs."""
        mounts = [word for volume in volumes for word in ("-v", volume)]
        return self("run", "--rm", "-T", "--no-deps", *mounts, "migrate", "pilotwatch", *args).stdout

    def psql(self, sql: str) -> str:
        result = self(
            "exec", "-T", "postgres", "psql", "-U", "pilotwatch", "-d", "pilotwatch", "-At", "-c", sql
        )
        return result.stdout.strip()

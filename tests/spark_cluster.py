"""A Spark standalone cluster on this machine, for the tests: a master and two workers on
127.0.0.1, each its own JVM started with Spark's own launch classes from the pyspark package
(``java -cp <pyspark>/jars/* org.apache.spark.deploy.master.Master`` …), and stopped by their
process ids — the way a real cluster runs, without Spark's shell scripts or a download.

:func:`running_cluster` is a context manager (the fixture ``spark_cluster`` in test_cluster.py
wraps it); :func:`master_state` reads the master's JSON view (workers, applications).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"
# Each daemon's own heap (Spark's default, SPARK_DAEMON_MEMORY, is 1 GB); the executors the
# workers start get their memory from the application (spark.executor.memory). The daemons only
# pass messages: the quick compiler alone and one GC thread leave the CPUs to the executors.
DAEMON_OPTIONS = ["-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
STARTUP_SECONDS = 90


def java_missing() -> str | None:
    """Why a cluster cannot start here (no java, no pyspark), or None."""
    if shutil.which("java") is None:
        return "Spark needs Java: no `java` on PATH (install a JRE, e.g. default-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'procmine[spark]')"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    """A running standalone cluster: its master URL, web (JSON) port and the daemons' processes."""

    url: str
    web_port: int
    directory: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def state(self) -> dict:
        return master_state(self.web_port)


def master_state(web_port: int) -> dict:
    """The master's JSON view: ``workers`` (with ``state``, ``coresused``), ``activeapps``…"""
    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/json/", timeout=5) as answer:
        return json.load(answer)


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _scala_version() -> str:
    """The Scala version of pyspark's jars (``spark-core_2.13-….jar``: ``2.13``)."""
    core = next((_spark_home() / "jars").glob("spark-core_*.jar"))
    return core.name.removeprefix("spark-core_").split("-")[0]


def _daemon(
    name: str, main: str, arguments: list[str], directory: Path, env: dict[str, str]
) -> subprocess.Popen:
    """One JVM running ``main``, its output in ``directory/name.log``, in a process group of its
    own (so whatever it starts — a worker's executors — can be found and stopped with it)."""
    home = _spark_home()
    command = ["java", *DAEMON_OPTIONS, "-cp", f"{home / 'jars'}/*", main, *arguments]
    with open(directory / f"{name}.log", "wb") as log:
        return subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=directory,
            env=env,
            start_new_session=True,
        )


@contextlib.contextmanager
def running_cluster(workers: int = 2, cores: int = 1, memory: str = "1g") -> Iterator[Cluster]:
    """A master and ``workers`` workers (``cores`` cores and ``memory`` each) on 127.0.0.1 and
    free ports, the workers' Python this interpreter; yields once every worker has registered,
    and stops every process it started, by id, on the way out (also when starting failed)."""
    directory = Path(tempfile.mkdtemp(prefix="procmine-spark-"))
    env = {
        **os.environ,
        "SPARK_HOME": str(_spark_home()),  # where a worker finds the jars for its executors
        # What Spark's launch scripts would set: without it a worker looks for a source build.
        "SPARK_SCALA_VERSION": _scala_version(),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(directory / "local"),
    }
    port, web_port = free_port(), free_port()
    cluster = Cluster(f"spark://127.0.0.1:{port}", web_port, directory)
    try:
        cluster.processes["master"] = _daemon(
            "master",
            MASTER,
            ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(web_port)],
            directory,
            env,
        )
        # A worker that finds no master retries only after 5 to 15 s: start them once it listens.
        _wait_for(cluster, "the master's port", lambda: _listens(port))
        for number in range(1, workers + 1):
            work = directory / f"worker{number}"
            work.mkdir()
            arguments = [
                cluster.url, "--host", "127.0.0.1", "--port", str(free_port()),
                "--webui-port", str(free_port()), "--cores", str(cores), "--memory", memory,
                "--work-dir", str(work),
            ]  # fmt: skip
            cluster.processes[f"worker{number}"] = _daemon(
                f"worker{number}", WORKER, arguments, directory, env
            )
        _wait_for_workers(cluster, workers)
        yield cluster
    finally:
        _stop(cluster)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for_workers(cluster: Cluster, workers: int) -> None:
    def registered() -> bool:
        state = cluster.state()
        return sum(worker["state"] == "ALIVE" for worker in state["workers"]) >= workers

    _wait_for(cluster, f"{workers} workers to register", registered)


def _listens(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(cluster: Cluster, what: str, ready: Callable[[], bool]) -> None:
    """Polls ``ready`` (an OSError or ValueError counts as not yet) until it holds, for at most
    STARTUP_SECONDS; fails with the daemons' logs when one exits or time runs out."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for name, process in cluster.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"the Spark {name} exited:\n{_tail(cluster, name)}")
        with contextlib.suppress(OSError, ValueError):
            if ready():
                return
        time.sleep(0.2)
    logs = "\n".join(_tail(cluster, name) for name in cluster.processes)
    raise RuntimeError(f"no {what} in {STARTUP_SECONDS} s:\n{logs}")


def _tail(cluster: Cluster, name: str, lines: int = 30) -> str:
    path = cluster.directory / f"{name}.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return f"--- {name}.log\n" + "\n".join(text.splitlines()[-lines:])


def _stop(cluster: Cluster) -> None:
    """Stop the workers, then the master, by process id (SIGTERM, then SIGKILL after 20 s);
    then any process left in their groups (an executor a worker started), by id."""
    groups = {process.pid for process in cluster.processes.values()}  # each leads its group
    for name in sorted(cluster.processes, key=lambda name: name == "master"):
        process = cluster.processes[name]
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
    for pid in group_members(groups):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def group_members(groups: set[int]) -> list[int]:
    """The live processes whose process group is one of ``groups``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            # pid (comm) state ppid pgrp …: comm may hold spaces, so split after its ")".
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z" and int(fields[2]) in groups:
                found.append(int(entry.name))
    return found

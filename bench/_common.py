"""Shared pieces of the benchmarks: the machine description, tables, result files, the replay server.

Every benchmark prints its tables and writes them to ``bench/results/<name>.md`` with a header that
says which machine, Python and date the numbers come from.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import re
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
RECORDINGS = ROOT / "data" / "recordings"
DEMO_KEY = "demo-key-for-the-local-mock-0000"  # the replay server's demo key (not a secret)
DEPLOYMENT = "Meta-Llama-3.1-405B-Instruct"
SYSTEM = "You are a helpful assistant."
QUESTION = "How many languages are in the world?"
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
# The two recorded requests the load and fidelity benchmarks send (see data/recordings/<DEPLOYMENT>/).
BASIC_BODY = {"messages": MESSAGES}
STREAM_BODY = {"messages": MESSAGES, "stream": True, "temperature": 0, "top_p": 1, "max_tokens": 2048}


# -- the machine ------------------------------------------------------------------------------
def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def memory_total() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def machine() -> dict[str, str]:
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": f"{usable_cores()} usable ({os.cpu_count()} online)",
        "memory": memory_total(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "load average (1/5/15 min) at start": load,
    }


def machine_lines(info: dict[str, str] | None = None) -> list[str]:
    info = info or machine()
    return [f"- {key}: {value}" for key, value in info.items()]


# -- numbers and tables ---------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank on sorted data; NaN for no data."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub markdown table. ``align``: one letter per column, l or r (default: first l, rest r)."""
    align = align or "l" + "r" * (len(headers) - 1)
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align)) + " |"

    rule = "| " + " | ".join(("-" * w if a == "l" else "-" * (w - 1) + ":") for w, a in zip(widths, align)) + " |"
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])


def write_result(name: str, title: str, body: str, info: dict[str, str] | None = None) -> Path:
    """Print a benchmark's report and write it to ``bench/results/<name>.md``."""
    text = (
        f"## {title}\n\n"
        + "\n".join(machine_lines(info))
        + f"\n- command: `python bench/{name}.py`\n\n{body.strip()}\n"
    )
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    print(f"written: {path.relative_to(ROOT)}")
    return path


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value != value else f"{value:,.{digits}f}"  # NaN check without math


# -- processes ------------------------------------------------------------------------------
def python() -> str:
    """The interpreter running the benchmarks (the project's .venv under ``make bench``)."""
    return sys.executable


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB: from /proc/<pid>/status on Linux; elsewhere (macOS) from psutil,
    which has no peak for another process, so VmHWM is the resident size now."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        import psutil

        rss = psutil.Process(pid).memory_info().rss // 1024
        return {"VmRSS": rss, "VmHWM": rss}
    out: dict[str, int] = {}
    for line in status.read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(rest.split()[0])
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    import psutil  # /proc/<pid>/stat on Linux, the system's own calls on macOS

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


class ServerProcess:
    """A server subprocess (``self.proc``): its pid, and a stop that terminates, then kills if it must."""

    proc: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ReplayProcess(ServerProcess):
    """``python -m helpers.mock serve`` in a subprocess, on a free loopback port.

    The port is read from the ``endpoint <name> <url>`` lines the server prints once it listens; the
    constructor returns once the server answers ``GET /info`` (``ready_seconds`` after the start).
    """

    def __init__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> None:
        cmd = [python(), "-m", "helpers.mock", "serve", "--port", "0", *args]
        full_env = {**os.environ, **(env or {})}
        full_env.pop("AZURE_INFERENCE_CREDENTIAL", None)  # the server then accepts the demo key
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.port = 0
        self.startup_seconds = float("nan")
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        # Raw reads from the pipe: a readline() on the text wrapper would buffer the lines after the first, and the
        # selector would not report them (the server prints its resource's endpoints before the "endpoint" lines).
        fd, head = self.proc.stdout.fileno(), b""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"replay server exited: {self.proc.stderr.read()[-2000:]}")
            if sel.select(timeout=0.5):
                head += os.read(fd, 65536)
                m = re.search(r"^endpoint (\S+) http://127\.0\.0\.1:(\d+)/", head.decode(errors="replace"), re.M)
                if m:
                    self.port = int(m.group(2))
                    self.startup_seconds = time.perf_counter() - self.started
                    break
        sel.close()
        if not self.port:
            self.stop()
            raise RuntimeError("replay server did not print its endpoints in time")
        # Drain its output in the background so a chatty server never blocks on a full pipe.
        for stream in (self.proc.stdout, self.proc.stderr):
            _drain(stream)
        # The endpoint lines come once the socket listens, before the app has started: wait until it answers.
        self.ready_seconds = self._wait_ready(deadline)

    def _wait_ready(self, deadline: float) -> float:
        import http.client

        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", f"/{DEPLOYMENT}/info?api-version=2024-05-01-preview", headers={"api-key": DEMO_KEY})
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.01)
        self.stop()
        raise RuntimeError("replay server did not answer GET /info in time")

    def __enter__(self) -> ReplayProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _drain(stream: Any) -> None:
    import threading

    def run() -> None:
        with contextlib.suppress(Exception):
            for _ in stream:
                pass

    threading.Thread(target=run, daemon=True).start()


def wait_for_port(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

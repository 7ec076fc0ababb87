"""gunicorn servers started in their own process group (always stopped), and ``wrk`` runs against them."""

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lms import ROOT

BIN = Path(sys.executable).parent
WORKERS = 2
CONNECTIONS = 32
THREADS = 2


def log(message: str) -> None:
    """Progress on stderr, so that stdout carries only the table."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, env: dict, log_dir: Path):
    """Serve ``app_spec`` with gunicorn (2 sync workers) on a free port; yields its base URL.

    The server runs in a session of its own, so the whole group (master and workers) is stopped on the way
    out, whatever happened meanwhile.
    """
    port = free_port()
    log_path = log_dir / f"gunicorn-{app_spec.replace(':', '-')}-{port}.log"
    command = [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--worker-class", "sync"]
    command += ["--bind", f"127.0.0.1:{port}", app_spec]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_until_serving(port, process, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """Stop a process group politely, then firmly."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_until_serving(port: int, process: subprocess.Popen, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        try:
            status, _headers, _body = request(f"http://127.0.0.1:{port}", "/")
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s: {log_path.read_text()[-2000:]}")


def request(base_url: str, path: str, *, cookie: str = "", form: dict | None = None):
    """One HTTP request without following redirects: (status, headers as a list of pairs, body text)."""
    from urllib.parse import urlencode, urlsplit

    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request("POST" if form is not None else "GET", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode(errors="replace")
    finally:
        conn.close()


@dataclass
class WrkResult:
    """What one wrk run reported."""

    requests_per_second: float
    p50_ms: float
    failures: int  # responses other than 200
    socket_errors: int  # connections refused, reset or timed out (a loaded machine, not a wrong answer)

    @property
    def summary(self) -> str:
        """A short note for the table."""
        note = f"p50 {self.p50_ms:.1f} ms"
        return note + (f", {self.socket_errors} socket errors" if self.socket_errors else "")


def wrk_binary() -> str:
    """The wrk executable (``make bench`` installs the Debian package when it is missing)."""
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    return found


def wrk(url: str, seconds: float, cookie: str = "") -> WrkResult:
    """Load ``url`` with ``wrk -t2 -c32`` for ``seconds`` (a 10 s timeout, so a busy machine slows, not fails)."""
    command = [wrk_binary(), f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "10s", "--latency"]
    command += ["--script", str(Path(__file__).with_name("not_200.lua"))]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    failures = re.search(r"Not-200 responses: (\d+)", output)
    if rate is None or failures is None:
        raise RuntimeError(f"unexpected wrk output: {output[-500:]}")
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", output)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        p50_ms=float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan"),
        failures=int(failures.group(1)),
        socket_errors=sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    )

"""Measures one phase of one contender in a Python process of its own.

The worker (this file run as a script) imports what the contender needs,
prepares (untimed), then times the call alone. Memory is the process's
resident set: ``baseline_mb`` right before the call (interpreter, imports,
prepared input), ``peak_mb`` the highest it reached during the call, and
``growth_mb`` the difference (``prepare_peak_mb``: the peak before the call).
``http`` counts, during the call, the HTTP requests sent through ``httpx``
(the plugin's, the SDK's and the floor's client; not ``requests``, which the
built-in backend uses) and the bytes received for them, headers and bodies
as they came over the wire.

The peak is read from ``/proc/self/status`` (VmHWM), not from
``getrusage().ru_maxrss``: Linux carries ``ru_maxrss`` across ``exec`` from the
forked parent, so every worker would start at the orchestrator's size. Right
before the call the high-water mark is reset to the current resident set
(``/proc/self/clear_refs``), so that the call's own peak is measured.

The parent kills the worker's process group when it runs over its time limit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
PLUGIN_DIR = os.path.dirname(BENCH_DIR)


def run_phase(
    contender: str,
    phase: str,
    context: dict,
    timeout: float,
    log_path: str,
    extra_env: dict | None = None,
    profile_path: str | None = None,
    timers: list[str] | None = None,
) -> dict:
    """Runs the phase in a worker; returns its measurement, or ``{"error": ...}``
    (``"timed_out": True`` when it ran over ``timeout`` seconds).

    ``profile_path``: save a pyinstrument session of the call there.
    ``timers``: functions (``"module:Qualified.name"``) whose calls are timed
    during the call (outermost calls only), returned as ``"timers"``: unlike a
    profiler, this costs next to nothing, so their seconds are real ones."""
    with tempfile.TemporaryDirectory(prefix="bench-phase-") as tmp:
        result_path = os.path.join(tmp, "result.json")
        spec = {
            "contender": contender,
            "phase": phase,
            "context": context,
            "result_path": result_path,
            "profile_path": profile_path,
            "timers": timers or [],
        }
        with open(log_path, "ab") as log:
            log.write(f"\n===== {contender} {phase} =====\n".encode())
            log.flush()
            worker = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), json.dumps(spec)],
                env={**os.environ, **(extra_env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                worker.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
                return {"error": f"> {timeout:g} s", "timed_out": True}
        if not os.path.exists(result_path):
            return {"error": f"worker exited with {worker.returncode} (log: {log_path})"}
        with open(result_path) as f:
            return json.load(f)


def wait_until_idle(
    pid: int, server_percent: float = 10.0, machine_percent: float = 50.0, limit: float = 300.0
) -> float:
    """Waits (at most ``limit`` s) until, over one second, the process ``pid``
    and its children use less than ``server_percent`` of a core and the whole
    machine less than ``machine_percent`` of its CPUs; returns the seconds
    waited. Keeps leftover server work, and other programs' bursts, out of
    the next timing."""
    import psutil

    start = time.monotonic()
    root = psutil.Process(pid)
    psutil.cpu_percent()
    while time.monotonic() - start < limit:
        processes = [root, *root.children(recursive=True)]
        before = sum(_cpu_seconds(p) for p in processes)
        time.sleep(1.0)
        server = 100 * (sum(_cpu_seconds(p) for p in processes) - before)
        if server < server_percent and psutil.cpu_percent() < machine_percent:
            break
    return time.monotonic() - start


def _cpu_seconds(process) -> float:
    import psutil

    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


def _memory_mb() -> dict[str, float]:
    """``{"VmRSS": current, "VmHWM": peak}`` resident set of this process, in MB."""
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


class _Timer:
    """The wall time and count of a function's outermost calls, and when the
    first began and the last ended (``time.perf_counter``): a timeline."""

    def __init__(self, function):
        self.function = function
        self.seconds = 0.0
        self.calls = 0
        self.began: float | None = None
        self.ended: float | None = None
        self._depth = 0

    def wrapper(self):
        import functools

        @functools.wraps(self.function)
        def timed(*args, **kwargs):
            self._depth += 1
            start = time.perf_counter()
            try:
                return self.function(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:  # nested calls are inside the outer one's time
                    self.ended = time.perf_counter()
                    self.seconds += self.ended - start
                    self.calls += 1
                    self.began = start if self.began is None else self.began

        return timed


def _install_timers(names: list[str]) -> dict[str, _Timer]:
    """Wraps each named function in a :class:`_Timer`, wherever a loaded
    module or its class holds it; returns the timers by name (functions that
    do not exist are left out)."""
    import importlib

    timers = {}
    for name in names:
        module_name, qualname = name.split(":")
        *path, attribute = qualname.split(".")
        try:
            owner = importlib.import_module(module_name)
            for part in path:
                owner = getattr(owner, part)
            original = getattr(owner, attribute)
        except (ImportError, AttributeError):
            continue
        timers[name] = _Timer(original)
        timed = timers[name].wrapper()
        setattr(owner, attribute, timed)
        for module in list(sys.modules.values()):
            for key, value in list(getattr(module, "__dict__", {}).items()):
                if value is original:
                    setattr(module, key, timed)
    return timers


class _HttpCount:
    """Requests and received bytes of every ``httpx`` transport of the process,
    and each request's ``[start s, seconds to its answer's headers, method,
    path, thread]`` (``calls``, start from :meth:`begin`): where a slow run
    waited."""

    def __init__(self):
        import httpx

        self.requests = self.received = 0
        self.calls: list[list] = []
        self._start = time.perf_counter()
        original = httpx.HTTPTransport.handle_request
        count = self

        class Counted(httpx.SyncByteStream):
            def __init__(self, stream):
                self._stream = stream

            def __iter__(self):
                for chunk in self._stream:
                    count.received += len(chunk)
                    yield chunk

            def close(self):
                self._stream.close()

        def handle_request(transport, request):
            sent = time.perf_counter()
            response = original(transport, request)
            count.calls.append(
                [
                    round(sent - count._start, 3),
                    round(time.perf_counter() - sent, 3),
                    request.method,
                    request.url.path,
                    threading.current_thread().name,
                ]
            )
            count.requests += 1
            count.received += sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
            response.stream = Counted(response.stream)
            return response

        httpx.HTTPTransport.handle_request = handle_request

    def begin(self) -> None:
        """Counts from now: the timed call begins."""
        self.requests = self.received = 0
        self.calls, self._start = [], time.perf_counter()


def _worker(spec: dict) -> None:
    import traceback

    sys.path.insert(0, BENCH_DIR)  # the plugin itself is on PYTHONPATH (servers.isolate_fiftyone)
    import contenders

    result: dict = {}
    try:
        start = time.perf_counter()
        call, describe = contenders.prepare(spec["contender"], spec["phase"], spec["context"])
        result["prepare_seconds"] = time.perf_counter() - start
        result["prepare_peak_mb"] = _memory_mb()["VmHWM"]
        timers = _install_timers(spec.get("timers", []))
        http = _HttpCount()
        profiler = None
        if spec["profile_path"]:
            from pyinstrument import Profiler  # run.py --profile needs it installed

            profiler = Profiler(interval=0.001)
        _reset_peak()
        result["baseline_mb"] = _memory_mb()["VmRSS"]
        if profiler:
            profiler.start()
        http.begin()
        start = time.perf_counter()
        try:
            value = call()
        finally:
            result["seconds"] = time.perf_counter() - start
            if profiler:
                profiler.stop()
                profiler.last_session.save(spec["profile_path"])
        result["peak_mb"] = _memory_mb()["VmHWM"]
        result["growth_mb"] = result["peak_mb"] - result["baseline_mb"]
        result["http"] = {
            "requests": http.requests,
            "received_bytes": http.received,
            "calls": http.calls,
        }
        result["output"] = describe(value)
        if timers:
            result["timers"] = {
                name: {
                    "seconds": timer.seconds,
                    "calls": timer.calls,
                    "span": [timer.began - start, timer.ended - start] if timer.calls else None,
                }
                for name, timer in timers.items()
            }
    except Exception as error:  # a failure is a result
        traceback.print_exc()
        result["error"] = f"{type(error).__name__}: {str(error)[:300]}"
    with open(spec["result_path"], "w") as f:
        json.dump(result, f, default=str)


if __name__ == "__main__":
    _worker(json.loads(sys.argv[1]))

"""Warm workers of the batch (:mod:`cpts_diag.batch`): at most ``jobs`` worker processes, each
running ``python -m cpts_diag.batch_worker --serve`` and producing reports one after the other in
one kernel (:mod:`cpts_diag.batch_worker`).

A report costs its kernel start, its imports and the loading of the national data only once per
worker: the parent hands a worker a job (one JSON line on its stdin) and waits for the result file
the worker writes into the report's build folder. A worker that runs out of time, dies or is
interrupted is killed with its kernel (:func:`kill_tree`) and never reused; a finished batch
closes its idle workers (end of stdin: each shuts its kernel down and leaves), so no process
outlives the batch.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

#: Seconds an idle worker gets to shut its kernel down when the batch ends, before it is killed.
CLOSE_GRACE = 10.0


def kill_tree(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """Stop a worker and its kernel: SIGTERM (the worker kills its children), then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            import psutil

            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
        except Exception:  # noqa: BLE001 - psutil missing or process gone
            pass
        proc.kill()
        proc.wait()


class WorkerPool:
    """Warm workers, started on demand, reused while they are healthy."""

    def __init__(self, env: dict, scratch: Path):
        self.env, self.scratch = env, Path(scratch)
        self.idle: list[subprocess.Popen] = []
        self.logs: dict[int, Path] = {}  # worker pid → its log file
        self.started = 0

    def _start(self) -> subprocess.Popen:
        self.started += 1
        log = self.scratch / f"worker-{self.started}.log"
        with open(log, "wb") as fh:
            proc = subprocess.Popen([sys.executable, "-m", "cpts_diag.batch_worker", "--serve"],
                                    stdin=subprocess.PIPE, stdout=fh, stderr=subprocess.STDOUT,
                                    env=self.env, cwd=str(self.scratch), start_new_session=True)
        self.logs[proc.pid] = log
        return proc

    def submit(self, job: dict) -> subprocess.Popen:
        """Hand ``job`` (``id``, ``notebook``, ``build``, ``timeout``, ``params``, ``pdf``) to an
        idle live worker, or to a new one; returns that worker."""
        while self.idle:
            proc = self.idle.pop()
            if proc.poll() is None:
                try:
                    return self._send(proc, job)
                except OSError:  # its stdin is gone: it is dying
                    kill_tree(proc)
        return self._send(self._start(), job)

    @staticmethod
    def _send(proc: subprocess.Popen, job: dict) -> subprocess.Popen:
        proc.stdin.write((json.dumps(job, ensure_ascii=False) + "\n").encode("utf-8"))
        proc.stdin.flush()
        return proc

    def log_of(self, proc: subprocess.Popen) -> Path | None:
        return self.logs.get(proc.pid)

    def release(self, proc: subprocess.Popen) -> None:
        """A worker done with its report: kept for the next one if still alive."""
        if proc.poll() is None:
            self.idle.append(proc)

    def discard(self, proc: subprocess.Popen) -> None:
        """A worker out of time or interrupted: killed with its kernel, never reused."""
        kill_tree(proc)

    def close(self, graceful: bool = True) -> None:
        """End every idle worker: end of stdin (each shuts its kernel down), killed after
        :data:`CLOSE_GRACE` seconds; ``graceful=False``: killed at once."""
        idle, self.idle = self.idle, []
        for proc in idle:
            try:
                if graceful and proc.stdin:
                    proc.stdin.close()
            except OSError:
                pass
        for proc in idle:
            try:
                if graceful:
                    proc.wait(timeout=CLOSE_GRACE)
            except subprocess.TimeoutExpired:
                pass
            kill_tree(proc)

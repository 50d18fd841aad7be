"""A LocalStack runtime executor that runs Python zip functions as host processes (no Docker).

Each execution environment is one `python -m awslambdaric <handler>` process, started from the interpreter
named by LAMBDA_HOST_PYTHON, in the unzipped code, talking to its own `RuntimeApiServer`. A timeout kills the
process group; the next invoke starts a fresh process (a cold start, as on AWS). Output goes to a file, so the
logs of an invocation are exactly the bytes written before its answer arrived.

Not emulated: isolation (same user, file system and network as LocalStack), memory limits, architectures,
non-Python runtimes and container images.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor

from localstack_host_executor.runtime_api import Invocation, RuntimeApiServer

LOG = logging.getLogger(__name__)
HOST_PYTHON_ENV = "LAMBDA_HOST_PYTHON"
# Only these variables of LocalStack's own environment reach a function; the rest is LocalStack's config.
_INHERITED = ("PATH", "LANG", "TMPDIR", "SSL_CERT_FILE", "AWS_CA_BUNDLE")
_LIVE: set[HostRuntimeExecutor] = set()
_LIVE_LOCK = threading.Lock()


class HostRuntimeExecutor(RuntimeExecutor):
    """One execution environment: a runtime process plus the Runtime API server it polls."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self._env: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._api: RuntimeApiServer | None = None
        self._dir = Path(tempfile.mkdtemp(prefix=f"lambda-host-{id}-"))
        self._log_path = self._dir / "output.log"
        self._log_read = 0
        self._stopped = threading.Event()
        self._final_logs: str | None = None

    # Lifecycle

    def start(self, env_vars: dict[str, str]) -> None:
        """Start the runtime and wait for its first `next`; an init failure raises StatusErrorException."""
        self._env = self._process_env(env_vars)
        with _LIVE_LOCK:
            _LIVE.add(self)
        self._spawn()

    def stop(self) -> None:
        """Kill the runtime's process group and stop its Runtime API server."""
        self._stopped.set()
        self._kill()
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if self._final_logs is None:
            self._final_logs = self.get_logs()
            shutil.rmtree(self._dir, ignore_errors=True)

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        """Run one event; a timeout or a crash answers like AWS and leaves a fresh process for the next."""
        if self._process is None or self._process.poll() is not None:
            self._spawn()  # re-init after a timeout or a crash
        api, process = self._api, self._process
        assert api is not None and process is not None
        request_id = payload["invoke-id"]
        timeout_s = float(self.function_version.config.timeout)
        init_logs = self._read_new_logs()
        started = time.monotonic()
        api.submit(
            Invocation(
                request_id=request_id,
                payload=(payload.get("payload") or "").encode(),
                deadline_ms=int((time.time() + timeout_s) * 1000),
                function_arn=payload.get("invoked-function-arn", ""),
                trace_id=payload.get("trace-id", ""),
            )
        )
        outcome = api.wait_outcome(request_id, timeout_s, alive=lambda: process.poll() is None)
        duration_ms = (time.monotonic() - started) * 1000
        if outcome is not None:
            body, is_error, note = outcome.payload, outcome.is_error, ""
        else:
            body, note = _failure(request_id, timeout_s, process.poll())
            is_error = True
            self._kill()
        logs = init_logs + self._frame_logs(request_id, self._read_new_logs() + note, duration_ms)
        return InvocationResult(request_id=request_id, payload=body, is_error=is_error, logs=logs)

    # Addresses (the function and LocalStack share the host's loopback)

    def get_address(self) -> str:
        """Where LocalStack reaches the environment."""
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        """Where the function reaches LocalStack (AWS_ENDPOINT_URL's host)."""
        host = config.GATEWAY_LISTEN[0].host
        return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host

    def get_runtime_endpoint(self) -> str:
        """LocalStack's executor callback prefix (unused by this executor, but part of the function's env)."""
        return (
            f"http://{self.get_endpoint_from_executor()}:{config.GATEWAY_LISTEN[0].port}/_localstack_lambda/{self.id}"
        )

    def get_logs(self) -> str:
        """Everything the current (or last) runtime process wrote."""
        if self._final_logs is not None:
            return self._final_logs
        try:
            return self._log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # Versions

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        """Unzip the function's and its layers' code; refuse what a host process cannot run."""
        runtime = function_version.config.runtime or ""
        if not runtime.startswith("python"):
            raise LambdaRuntimeException(
                f"The host executor runs Python zip functions only, not {runtime or 'container images'}"
            )
        function_version.config.code.prepare_for_execution()
        for layer in function_version.config.layers:
            layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Nothing to undo: LocalStack removes the unzipped code itself."""

    @classmethod
    def validate_environment(cls) -> bool:
        """Warn when the runtime interpreter is missing, since every function would then fail to start."""
        python = _host_python()
        if not os.access(python, os.X_OK):
            LOG.warning("%s=%s is not an executable; Lambda functions cannot start", HOST_PYTHON_ENV, python)
            return False
        return True

    # Internals

    def _process_env(self, env_vars: dict[str, str]) -> dict[str, str]:
        fv = self.function_version
        code = str(fv.config.code.get_unzipped_code_location())
        version = fv.config.runtime.removeprefix("python")
        paths = [code]
        for layer in fv.config.layers:
            root = layer.code.get_unzipped_code_location() / "python"
            paths += [str(root / "lib" / f"python{version}" / "site-packages"), str(root)]
        env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
        env.update({name: str(value) for name, value in env_vars.items()})
        env.update(
            LAMBDA_TASK_ROOT=code,
            PYTHONPATH=os.pathsep.join(paths),
            PYTHONUNBUFFERED="1",
            AWS_EXECUTION_ENV=f"AWS_Lambda_{fv.config.runtime}",
        )
        env.pop("LAMBDA_RUNTIME_DIR", None)
        return env

    def _spawn(self) -> None:
        """Start a runtime process with a new Runtime API server and wait until it polls for work."""
        self._kill()
        self._api = RuntimeApiServer()
        handler = self._env.get("_HANDLER") or self.function_version.config.handler
        with open(self._log_path, "wb") as output:
            self._process = subprocess.Popen(
                [_host_python(), "-m", "awslambdaric", handler],
                cwd=self._env["LAMBDA_TASK_ROOT"],
                env={**self._env, "AWS_LAMBDA_RUNTIME_API": self._api.address},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                process_group=0,  # its own group, so a timeout kills the handler's children too
            )
        self._log_read = 0
        LOG.debug("started runtime pid %s for %s", self._process.pid, self.function_version.qualified_arn)
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._api is not None and self._process is not None
        while not self._api.ready.wait(0.05):
            if self._stopped.is_set():
                raise LambdaRuntimeException(f"Environment {self.id} stopped during start-up")
            if self._api.init_error is not None or self._process.poll() is not None:
                time.sleep(0.1)  # let the runtime finish writing its traceback
                payload = self._api.init_error or _error_payload(
                    "Runtime.ExitError", f"Runtime exited with error: exit status {self._process.poll()}"
                )
                self._kill()
                raise StatusErrorException("Environment startup failed", payload=payload)

    def _frame_logs(self, request_id: str, output: str, duration_ms: float) -> str:
        config_ = self.function_version.config
        return (
            f"START RequestId: {request_id} Version: {self.function_version.id.qualifier}\n{output}"
            f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, round(duration_ms))} ms\tMemory Size: {config_.memory_size} MB\t"
            f"Max Memory Used: {config_.memory_size} MB\t\n"
        )

    def _read_new_logs(self) -> str:
        """What the process wrote since the last call (it writes before answering, so nothing is missed)."""
        try:
            with open(self._log_path, "rb") as output:
                output.seek(self._log_read)
                data = output.read()
        except FileNotFoundError:
            return ""
        self._log_read += len(data)
        return data.decode(errors="replace")

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            # The whole group: the runtime and anything the handler started.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        api, self._api = self._api, None
        if api is not None:
            api.close()


def _host_python() -> str:
    return os.environ.get(HOST_PYTHON_ENV) or sys.executable


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def _failure(request_id: str, timeout_s: float, exit_status: int | None) -> tuple[bytes, str]:
    """The answer (and log line) AWS gives when no result came: a timeout, or the runtime died mid-invocation."""
    if exit_status is None:
        message, error_type = f"Task timed out after {timeout_s:.2f} seconds", "Sandbox.Timedout"
    else:
        message, error_type = f"Runtime exited with error: exit status {exit_status}", "Runtime.ExitError"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return _error_payload(error_type, f"RequestId: {request_id} Error: {message}"), f"{stamp} {request_id} {message}\n"


@atexit.register
def _stop_all() -> None:
    """LocalStack exiting normally: no runtime process may outlive it."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for executor in live:
        executor.stop()

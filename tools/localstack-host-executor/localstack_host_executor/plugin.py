"""The plux plugin that makes `LAMBDA_RUNTIME_EXECUTOR=host` choose `HostRuntimeExecutor`."""

from __future__ import annotations

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """Registered under `localstack.lambda.runtime_executor` as `host`; imports the executor only when chosen."""

    name = "host"

    def load(self, *args: object, **kwargs: object) -> type:
        """Return the executor class (LocalStack instantiates one per execution environment)."""
        from localstack_host_executor import apigateway_binary
        from localstack_host_executor.executor import HostRuntimeExecutor

        # Loaded before any function runs, so before API Gateway decodes a first Lambda answer.
        apigateway_binary.install()
        return HostRuntimeExecutor

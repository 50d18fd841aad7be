"""Run LocalStack's Lambda functions as host processes: a `host` runtime executor for LocalStack 4.x.

Install this package into LocalStack's venv and start LocalStack with `LAMBDA_RUNTIME_EXECUTOR=host` and
`LAMBDA_HOST_PYTHON=<an interpreter with awslambdaric>`. The plugin lives in `plugin`, the executor in
`executor`, the Lambda Runtime API server (no LocalStack imports) in `runtime_api`.
"""

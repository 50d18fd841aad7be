#!/usr/bin/env bash
# Run LocalStack on the host, without Docker, for the tests.
#
#   scripts/localstack.sh up     [s3|full]   install (first use) and start in the background; wait until healthy
#   scripts/localstack.sh down   [s3|full]   stop it, its children and every Lambda function process it started
#   scripts/localstack.sh status [s3|full]   say whether it is running and healthy
#   scripts/localstack.sh install [s3|full]  only install (venvs, executor, runtime venv); start nothing
#
# Modes (default s3) run side by side: each has its own state dir (.localstack/<mode>/, or LOCALSTACK_STATE_DIR),
# pid file, log and port (LOCALSTACK_PORT, else 4566 for s3 and 4599 for full; when the default port is taken by
# anything this script did not start, a free port is used instead; an explicit LOCALSTACK_PORT that is taken is an
# error). After `up`, callers `source <state dir>/env`: AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, LOCALSTACK_PORT, LOCALSTACK_ENDPOINT_HTTP, and in full mode
# AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS and SSL_CERT_FILE (the CA of the generated certificate).
#
#   s3    S3 only, plain HTTP (what `make test` uses).
#   full  what a CDK bootstrap + deploy of the stack needs, Lambda included, over HTTPS with a generated
#         certificate (AWS_ENDPOINT_URL is https://127.0.0.1:<port>). Lambda functions run as host processes
#         through the `host` runtime executor (tools/localstack-host-executor), with the interpreter of
#         .venv-lambda-runtime (awslambdaric + boto3 at the pins of lambda_src/requirements-lambda.txt).
#         LOCALSTACK_LAMBDA_EXECUTOR=docker selects LocalStack's own Docker executor instead, for a machine with a
#         Docker daemon and internet access (untested here: this machine has no daemon).
#
# LocalStack lives in its own venv (.venv-localstack) because its pins clash with the project's.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LOCALSTACK_VENV:-$REPO/.venv-localstack}"
RUNTIME_VENV="${LAMBDA_RUNTIME_VENV:-$REPO/.venv-lambda-runtime}"
EXECUTOR_SRC="$REPO/tools/localstack-host-executor"
START_TIMEOUT_S="${LOCALSTACK_START_TIMEOUT_S:-90}"
# Known-good set on this machine (LocalStack 4.9.2 needs these companions pinned to import cleanly; psutil 7.2
# removed a name 4.9.2's DNS server, imported by the Lambda service, needs).
PINS=('localstack-core[runtime]==4.9.2' 'pyopenssl==25.3.0' 'cryptography>=45.0.7,<47' 'cbor2<6' 'service-identity'
    'psutil<7.2')
FULL_SERVICES="s3,cloudformation,iam,sts,lambda,apigateway,secretsmanager,sqs,cloudwatch,logs,ssm,events,ecr"
# ecr is listed for the CDK bootstrap (CloudFormation mocks its repository) but is no community service, so the
# health endpoint never reports it.
NOT_IN_HEALTH="ecr"

log() { printf 'localstack: %s\n' "$*" >&2; }

usage() {
    echo "usage: $0 up|down|status|install [s3|full]" >&2
    exit 2
}

COMMAND="${1:-}"
MODE="${2:-s3}"
case "$MODE" in
    # s3: what `make test` needs (the store's S3 adapter, the key store's Secrets Manager backend).
    s3) DEFAULT_PORT=4566 SERVICES=s3,secretsmanager SCHEME=http ;;
    full) DEFAULT_PORT=4599 SERVICES="$FULL_SERVICES" SCHEME=https ;;
    *) usage ;;
esac
STATE="${LOCALSTACK_STATE_DIR:-$REPO/.localstack/$MODE}"
PIDFILE="$STATE/localstack.pid"
PORTFILE="$STATE/port"
ENVFILE="$STATE/env"
LOG="$STATE/localstack.log"
PIPLOG="$STATE/pip.log"
TLS="$STATE/tls"

pick_python() {
    # Prefer the interpreter the project's venv was built from, so all venvs share one Python.
    if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
    if [[ -x "$REPO/.venv/bin/python" ]]; then
        "$REPO/.venv/bin/python" -c 'import sys; print(sys._base_executable)' && return
    fi
    command -v python3.11 || command -v python3
}

pip_install() {
    # pip_install VENV STAMP TEXT ARGS...: install unless VENV/STAMP already says TEXT; pip's chatter to a log.
    local venv=$1 stamp="$1/$2" wanted=$3
    shift 3
    if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then return; fi
    local started=$SECONDS
    log "installing into $venv (first use; a minute or two)"
    [[ -x "$venv/bin/python" ]] || "$(pick_python)" -m venv "$venv"
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check "$@" >"$PIPLOG" 2>&1; then
        log "pip install failed; last lines of $PIPLOG:"
        tail -n 30 "$PIPLOG" >&2
        return 1
    fi
    printf '%s' "$wanted" >"$stamp"
    log "installed in $((SECONDS - started)) s"
}

ensure_install() {
    mkdir -p "$STATE"
    pip_install "$VENV" .stillframe-pins "$(printf '%s\n' "${PINS[@]}")" "${PINS[@]}"
    [[ "$MODE" == full ]] || return 0
    # Editable, so executor changes apply on the next start; reinstalled when its pyproject (entry point) changes.
    pip_install "$VENV" .stillframe-executor "$(cksum <"$EXECUTOR_SRC/pyproject.toml")" -e "$EXECUTOR_SRC"
    local runtime_pins
    # The function runtime's pins are the Lambda image's: read from its requirements, not repeated here.
    runtime_pins=$(grep -E '^(awslambdaric|boto3)==' "$REPO/lambda_src/requirements-lambda.txt")
    # shellcheck disable=SC2086  # one pin a word
    pip_install "$RUNTIME_VENV" .stillframe-pins "$runtime_pins" $runtime_pins
}

running_pid() {
    # Print the pid if the recorded process is alive; a stale pid file is removed.
    [[ -f "$PIDFILE" ]] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    # The pid must still be a LocalStack (a stale file's pid may have been reused by anything).
    if [[ -n "$pid" ]] && ps -p "$pid" -o args= 2>/dev/null | grep -q 'localstack.runtime.main'; then
        echo "$pid"
        return 0
    fi
    rm -f "$PIDFILE"
    return 1
}

port_in_use() {
    # True when anything accepts on, or holds, 127.0.0.1:$1.
    "$VENV/bin/python" - "$1" <<'EOF'
import socket, sys
port = int(sys.argv[1])
with socket.socket() as probe:
    probe.settimeout(1)
    if probe.connect_ex(("127.0.0.1", port)) == 0:
        sys.exit(0)
with socket.socket() as probe:
    try:
        probe.bind(("127.0.0.1", port))
    except OSError:
        sys.exit(0)
sys.exit(1)
EOF
}

free_port() {
    "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

choose_port() {
    local port="${LOCALSTACK_PORT:-$DEFAULT_PORT}"
    if ! port_in_use "$port"; then echo "$port"; return; fi
    if [[ -n "${LOCALSTACK_PORT:-}" ]]; then
        log "port $port (LOCALSTACK_PORT) is held by another process, not by this script's $MODE LocalStack;" \
            "free it or unset LOCALSTACK_PORT to use a free port"
        return 1
    fi
    port="$(free_port)"
    log "port $DEFAULT_PORT is held by another process; using free port $port"
    echo "$port"
}

healthy() {
    # Every service of the mode reports available/running, and (full) HTTPS verifies against our CA.
    local port=$1 curl_args=(-fsS --max-time 2)
    [[ "$SCHEME" == https ]] && curl_args+=(--cacert "$TLS/ca.pem")
    curl "${curl_args[@]}" "$SCHEME://localhost:$port/_localstack/health" 2>/dev/null \
        | "$VENV/bin/python" -c '
import json, sys
health = json.load(sys.stdin)["services"]
wanted = set(sys.argv[1].split(",")) - set(sys.argv[2].split(","))
sys.exit(any(health.get(name) not in ("available", "running") for name in wanted))' "$SERVICES" "$NOT_IN_HEALTH" \
        2>/dev/null
}

wait_healthy() {
    local pid=$1 port=$2 deadline=$((SECONDS + START_TIMEOUT_S))
    while ((SECONDS < deadline)); do
        if healthy "$port"; then return 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then
            log "process $pid exited during start-up"
            return 1
        fi
        sleep 0.5
    done
    log "services ($SERVICES) not all available after ${START_TIMEOUT_S} s"
    return 1
}

write_env() {
    local port=$1 endpoint="$SCHEME://127.0.0.1:$1" tmp="$ENVFILE.tmp"
    {
        echo "# Written by scripts/localstack.sh up $MODE; source it."
        echo "export LOCALSTACK_PORT=$port"
        echo "export LOCALSTACK_ENDPOINT_HTTP=http://127.0.0.1:$port"
        echo "export AWS_ENDPOINT_URL=$endpoint"
        echo "export AWS_ENDPOINT_URL_S3=$endpoint"
        echo "export AWS_ACCESS_KEY_ID=test"
        echo "export AWS_SECRET_ACCESS_KEY=test"
        echo "export AWS_DEFAULT_REGION=us-east-1"
        if [[ "$SCHEME" == https ]]; then
            printf 'export %s=%q\n' AWS_CA_BUNDLE "$TLS/ca.pem" NODE_EXTRA_CA_CERTS "$TLS/ca.pem" SSL_CERT_FILE "$TLS/ca.pem"
        fi
    } >"$tmp"
    mv "$tmp" "$ENVFILE"
}

start_localstack() {
    # start_localstack PORT: launch in its own session (setsid), so `down` finds it and everything it spawned.
    # Sets LS_PID (not a subshell: setsid must not be a group leader, so that $! is LocalStack's own pid).
    local port=$1 extra=()
    if [[ "$MODE" == full ]]; then
        [[ -f "$TLS/server.pem" ]] || "$VENV/bin/python" "$REPO/scripts/localstack_cert.py" "$TLS"
        extra=(CUSTOM_SSL_CERT_PATH="$TLS/server.pem" SKIP_SSL_CERT_DOWNLOAD=1 DNS_ADDRESS=0
            LAMBDA_RUNTIME_EXECUTOR="${LOCALSTACK_LAMBDA_EXECUTOR:-host}" LAMBDA_HOST_PYTHON="$RUNTIME_VENV/bin/python"
            LAMBDA_RETRY_BASE_DELAY=1)
    fi
    # DISABLE_EVENTS: no analytics; without network its shutdown hook alone takes ~20 s.
    env OVERRIDE_IN_DOCKER=0 DISABLE_EVENTS=1 FILESYSTEM_ROOT="$STATE" GATEWAY_LISTEN="127.0.0.1:$port" SERVICES="$SERVICES" \
        "${extra[@]}" setsid nohup "$VENV/bin/python" -m localstack.runtime.main </dev/null >"$LOG" 2>&1 &
    LS_PID=$!
}

cmd_up() {
    ensure_install
    local pid port
    if pid="$(running_pid)"; then
        port="$(cat "$PORTFILE")"
        if [[ -n "${LOCALSTACK_PORT:-}" && "$LOCALSTACK_PORT" != "$port" ]]; then
            log "the $MODE LocalStack (pid $pid) already runs on port $port, not $LOCALSTACK_PORT; run down first"
            return 1
        fi
        if wait_healthy "$pid" "$port"; then
            write_env "$port"
            log "already running (pid $pid) at $SCHEME://127.0.0.1:$port"
            return 0
        fi
        log "pid $pid is running but unhealthy; restarting it"
        cmd_down
    fi
    rm -f "$ENVFILE"
    port="$(choose_port)"
    local started=$SECONDS
    start_localstack "$port"
    pid=$LS_PID
    echo "$pid" >"$PIDFILE"
    echo "$port" >"$PORTFILE"
    if ! wait_healthy "$pid" "$port"; then
        log "start failed; last lines of $LOG:"
        tail -n 40 "$LOG" >&2 || true
        cmd_down
        return 1
    fi
    write_env "$port"
    log "$SERVICES available at $SCHEME://127.0.0.1:$port (pid $pid, started in $((SECONDS - started)) s); source $ENVFILE"
}

session_pids() {
    # Processes in LocalStack's session: itself, its children and the function processes (own groups, same session).
    # Zombies are dead already (waiting for init to reap them) and are left out.
    ps -e -o pid=,sid=,stat= | awk -v sid="$1" '$2 == sid && $3 !~ /^Z/ { print $1 }'
}

cmd_down() {
    local pid recorded
    recorded="$(cat "$PIDFILE" 2>/dev/null || true)"
    if ! pid="$(running_pid)"; then
        rm -f "$ENVFILE"
        # LocalStack died (e.g. SIGKILL) but function processes of its session may live on: sweep them too.
        if [[ -z "$recorded" || -z "$(session_pids "$recorded")" ]]; then
            log "not running"
            return 0
        fi
        pid=$recorded
        log "LocalStack (pid $pid) is gone; stopping what is left of its session"
    fi
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then log "still running after 20 s; killing it"; fi
    # Whatever is left of the session (function processes live in their own process groups) is killed by pid.
    local left
    for _ in $(seq 25); do
        left="$(session_pids "$pid")"
        [[ -z "$left" ]] && break
        # shellcheck disable=SC2086  # one pid a word
        kill -KILL $left 2>/dev/null || true
        sleep 0.2
    done
    rm -f "$PIDFILE" "$ENVFILE"
    if [[ -n "$(session_pids "$pid")" ]]; then
        log "processes of session $pid survived: $(session_pids "$pid" | tr '\n' ' ')"
        return 1
    fi
    log "stopped (pid $pid, no process of its session left)"
}

cmd_status() {
    local pid port
    if ! pid="$(running_pid)"; then
        echo "$MODE: stopped"
        return 1
    fi
    port="$(cat "$PORTFILE")"
    if [[ -x "$VENV/bin/python" ]] && healthy "$port"; then
        echo "$MODE: running (pid $pid), $SERVICES available at $SCHEME://127.0.0.1:$port"
        return 0
    fi
    echo "$MODE: running (pid $pid) on port $port, not healthy yet"
    return 1
}

case "$COMMAND" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    install) ensure_install ;;
    *) usage ;;
esac

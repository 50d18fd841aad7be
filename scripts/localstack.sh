#!/usr/bin/env bash
# Run LocalStack's S3 on the host, without Docker, for the integration tests.
#
#   scripts/localstack.sh up       install (first use) and start in the background; wait until S3 is available
#   scripts/localstack.sh down     stop it and its children
#   scripts/localstack.sh status   say whether it is running and healthy
#
# LocalStack lives in its own venv (.venv-localstack) because its pins clash with the project's.
# State, pid file and log live under .localstack/ (git-ignored). Tests then use:
#   AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LOCALSTACK_VENV:-$REPO/.venv-localstack}"
STATE="$REPO/.localstack"
PIDFILE="$STATE/localstack.pid"
LOG="$STATE/localstack.log"
LISTEN="${LOCALSTACK_LISTEN:-127.0.0.1:4566}"
HEALTH_URL="http://$LISTEN/_localstack/health"
START_TIMEOUT_S="${LOCALSTACK_START_TIMEOUT_S:-90}"
# Known-good set on this machine (LocalStack 4.9.2 needs these companions pinned to import cleanly).
PINS=('localstack-core[runtime]==4.9.2' 'pyopenssl==25.3.0' 'cryptography>=45.0.7,<47' 'cbor2<6' 'service-identity')
PINS_STAMP="$VENV/.stillframe-pins"

log() { printf 'localstack: %s\n' "$*" >&2; }

pick_python() {
    # Prefer the interpreter the project's venv was built from, so both venvs share one Python.
    if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
    if [[ -x "$REPO/.venv/bin/python" ]]; then
        "$REPO/.venv/bin/python" -c 'import sys; print(sys._base_executable)' && return
    fi
    command -v python3.11 || command -v python3
}

ensure_venv() {
    local wanted
    wanted="$(printf '%s\n' "${PINS[@]}")"
    if [[ -x "$VENV/bin/python" && -f "$PINS_STAMP" && "$(cat "$PINS_STAMP")" == "$wanted" ]]; then
        return
    fi
    local started=$SECONDS
    log "installing LocalStack into $VENV (first use; a minute or two)"
    [[ -x "$VENV/bin/python" ]] || "$(pick_python)" -m venv "$VENV"
    mkdir -p "$STATE"
    # pip's chatter goes to a log, shown only when the install fails.
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check "${PINS[@]}" >"$STATE/pip.log" 2>&1; then
        log "pip install failed; last lines of $STATE/pip.log:"
        tail -n 30 "$STATE/pip.log" >&2
        return 1
    fi
    printf '%s' "$wanted" >"$PINS_STAMP"
    log "installed in $((SECONDS - started)) s"
}

running_pid() {
    # Print the pid if the recorded process is alive; a stale pid file is removed.
    [[ -f "$PIDFILE" ]] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        echo "$pid"
        return 0
    fi
    rm -f "$PIDFILE"
    return 1
}

s3_available() {
    curl -fsS --max-time 2 "$HEALTH_URL" 2>/dev/null \
        | "$VENV/bin/python" -c 'import json,sys; s=json.load(sys.stdin)["services"].get("s3"); sys.exit(s not in ("available","running"))' \
        2>/dev/null
}

wait_healthy() {
    local pid=$1 deadline=$((SECONDS + START_TIMEOUT_S))
    while ((SECONDS < deadline)); do
        if s3_available; then return 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then
            log "process $pid exited during start-up"
            return 1
        fi
        sleep 0.5
    done
    log "S3 not available after ${START_TIMEOUT_S} s"
    return 1
}

cmd_up() {
    ensure_venv
    mkdir -p "$STATE"
    local pid
    if pid="$(running_pid)"; then
        if wait_healthy "$pid"; then
            log "already running (pid $pid) at http://$LISTEN"
            return 0
        fi
        log "pid $pid is running but unhealthy; restarting it"
        cmd_down
    fi
    local started=$SECONDS
    # setsid: LocalStack gets its own process group, so `down` can stop it and every child it spawned.
    OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$STATE" GATEWAY_LISTEN="$LISTEN" SERVICES=s3 \
        setsid nohup "$VENV/bin/python" -m localstack.runtime.main </dev/null >"$LOG" 2>&1 &
    pid=$!
    echo "$pid" >"$PIDFILE"
    if ! wait_healthy "$pid"; then
        log "start failed; last lines of $LOG:"
        tail -n 40 "$LOG" >&2 || true
        cmd_down
        return 1
    fi
    log "S3 available at http://$LISTEN (pid $pid, started in $((SECONDS - started)) s)"
}

cmd_down() {
    local pid
    if ! pid="$(running_pid)"; then
        log "not running"
        return 0
    fi
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        log "still running after 20 s; killing process group $pid"
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    # Children left in the group (if the leader exited first) are stopped too.
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    log "stopped (pid $pid)"
}

cmd_status() {
    local pid
    if ! pid="$(running_pid)"; then
        echo "stopped"
        return 1
    fi
    if [[ -x "$VENV/bin/python" ]] && s3_available; then
        echo "running (pid $pid), S3 available at http://$LISTEN"
        return 0
    fi
    echo "running (pid $pid), S3 not available yet"
    return 1
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 up|down|status" >&2
        exit 2
        ;;
esac

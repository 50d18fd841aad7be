#!/usr/bin/env bash
# The deployed path on LocalStack: API Gateway -> Lambda (the LocalStack packaging of the real stack) -> S3,
# called over HTTPS with certificate verification on.
#
#   scripts/e2e.sh run     start LocalStack (full mode), bootstrap, deploy a keys-mode and an IAM-mode stack, run
#                          tests/e2e, then destroy the stacks and stop LocalStack, also when a step fails (make e2e)
#   scripts/e2e.sh up      start LocalStack and deploy the keys-mode stack only, create a full-access key, write
#                          .e2e/outputs.json, and leave it running (make e2e-up)
#   scripts/e2e.sh down    destroy what `up` or `run` deployed and stop LocalStack (make e2e-down)
#   scripts/e2e.sh env     print `export` lines for .e2e/outputs.json (eval "$(scripts/e2e.sh env)")
#
# LocalStack itself (its venv, the host runtime executor, the TLS certificate, a free port) is scripts/localstack.sh's
# job; this script only reads the environment it writes (.localstack/full/env). Extra pytest arguments may be passed
# after `run`, e.g. `scripts/e2e.sh run -k auth`.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
STATE="$REPO/.e2e"
OUTPUTS="$STATE/outputs.json"
BIN="$REPO/.venv/bin"
CLI_VENV="$REPO/.venv-awscli"
JS_DIR="$REPO/tests/e2e/js"
KEYS_STACK="${E2E_KEYS_STACK:-StillframeE2e}"
IAM_STACK="${E2E_IAM_STACK:-StillframeE2eIam}"
# The bucket the stacks' delivery function may write images to (tests/e2e/test_image_delivery.py creates it).
DELIVERY_BUCKET="${E2E_DELIVERY_BUCKET:-stillframe-e2e-images}"
REGION="us-east-1"
ACCOUNT="000000000000"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
declare -A TIMINGS=()
TIMING_ORDER=()

log() { printf 'e2e: %s\n' "$*" >&2; }

timed() {
    # timed LABEL COMMAND...: run it, remember how long it took.
    local label=$1 started=$SECONDS
    shift
    "$@"
    TIMINGS[$label]=$((SECONDS - started))
    TIMING_ORDER+=("$label")
    log "$label took ${TIMINGS[$label]} s"
}

print_timings() {
    ((${#TIMING_ORDER[@]})) || return 0
    printf '\ne2e timings\n' >&2
    local label
    for label in "${TIMING_ORDER[@]}"; do printf '  %-36s %5d s\n' "$label" "${TIMINGS[$label]}" >&2; done
}

localstack_env() {
    # shellcheck disable=SC1091
    source "$REPO/.localstack/full/env"
    export AWS_PAGER=""
}

ensure_cli_venv() {
    # The AWS CLI in its own venv: its botocore pin must not move the project's.
    local wanted
    wanted="$(cat "$REPO/tests/e2e/requirements-cli.txt")"
    if [[ -x "$CLI_VENV/bin/aws" && "$(cat "$CLI_VENV/.pins" 2>/dev/null)" == "$wanted" ]]; then return; fi
    log "installing the AWS CLI into $(basename "$CLI_VENV")"
    "$BIN/python" -c 'import sys; print(sys._base_executable)' >/dev/null
    "$("$BIN/python" -c 'import sys; print(sys._base_executable)')" -m venv "$CLI_VENV"
    "$CLI_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REPO/tests/e2e/requirements-cli.txt"
    printf '%s' "$wanted" >"$CLI_VENV/.pins"
}

ensure_js_sdk() {
    if [[ -f "$JS_DIR/node_modules/.installed" && ! "$JS_DIR/package.json" -nt "$JS_DIR/node_modules/.installed" ]]; then
        return
    fi
    log "installing the JavaScript SDK v3 clients into tests/e2e/js"
    (cd "$JS_DIR" && (npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error))
    touch "$JS_DIR/node_modules/.installed"
}

cdklocal() {
    # The CDK CLI's own calls go to LocalStack over plain HTTP: its SDK does not find the env credentials when the
    # endpoint is https://127.0.0.1 (bootstrap fails with NoCredentials). Clients of the deployed API use HTTPS.
    AWS_ENDPOINT_URL="$LOCALSTACK_ENDPOINT_HTTP" AWS_ENDPOINT_URL_S3="$LOCALSTACK_ENDPOINT_HTTP" \
        npx --no-install cdklocal "$@"
}

bootstrap() {
    cdklocal bootstrap "aws://$ACCOUNT/$REGION" >"$STATE/bootstrap.log" 2>&1 || {
        tail -n 40 "$STATE/bootstrap.log" >&2
        return 1
    }
}

deploy() {
    # deploy STACK AUTH_MODE
    local stack=$1 auth=$2
    echo "$stack" >>"$STATE/stacks"
    if ! cdklocal deploy "$stack" --require-approval never --progress events \
        -c localstack=true -c authMode="$auth" -c stackName="$stack" -c imageDeliveryBuckets="$DELIVERY_BUCKET" \
        --outputs-file "$STATE/cdk-outputs-$stack.json" >"$STATE/deploy-$stack.log" 2>&1; then
        log "deploy of $stack failed; last lines of .e2e/deploy-$stack.log:"
        tail -n 60 "$STATE/deploy-$stack.log" >&2
        return 1
    fi
}

write_outputs() {
    # write_outputs FILE STACK [--with-key]: the stack's outputs in the form SDKs take, plus a fresh full-access key.
    local file=$1 stack=$2 key_json="{}"
    if [[ "${3:-}" == "--with-key" ]]; then
        key_json="$("$BIN/stillframe" keys create --stack "$stack" --region "$REGION" --description "e2e full access" --json)"
    fi
    "$BIN/python" "$REPO/tests/e2e/outputs.py" \
        --cdk-outputs "$STATE/cdk-outputs-$stack.json" --stack "$stack" --key "$key_json" \
        --ca-bundle "$AWS_CA_BUNDLE" --region "$REGION" --localstack-endpoint "$AWS_ENDPOINT_URL" >"$file"
    log "wrote ${file#"$REPO"/}"
}

cmd_up() {
    local with_iam=${1:-}
    mkdir -p "$STATE"
    make --no-print-directory install node_modules/.installed >/dev/null
    timed "localstack start" "$REPO/scripts/localstack.sh" up full
    localstack_env
    timed "cdklocal bootstrap" bootstrap
    timed "cdklocal deploy (keys mode)" deploy "$KEYS_STACK" keys
    write_outputs "$OUTPUTS" "$KEYS_STACK" --with-key
    if [[ -n "$with_iam" ]]; then
        timed "cdklocal deploy (IAM mode)" deploy "$IAM_STACK" iam
        write_outputs "$STATE/outputs-iam.json" "$IAM_STACK"
    fi
}

cmd_down() {
    if [[ -f "$REPO/.localstack/full/env" ]] && "$REPO/scripts/localstack.sh" status full >/dev/null 2>&1; then
        localstack_env
        local stack
        for stack in $(tac "$STATE/stacks" 2>/dev/null | awk '!seen[$0]++'); do
            # The media bucket is kept on destroy (RETAIN); LocalStack's state goes with LocalStack below.
            if ! timed "cdklocal destroy $stack" cdklocal destroy "$stack" --force -c localstack=true \
                -c stackName="$stack" >"$STATE/destroy-$stack.log" 2>&1; then
                log "destroy of $stack failed (see .e2e/destroy-$stack.log); LocalStack is stopped anyway"
            fi
        done
    fi
    "$REPO/scripts/localstack.sh" down full
    rm -f "$STATE/stacks" "$OUTPUTS" "$STATE/outputs-iam.json"
}

cmd_run() {
    local status=0
    # Teardown runs however the run ends; the exit status stays the run's own.
    trap 'rc=$?; cmd_down || true; print_timings; log "total $SECONDS s"; exit $rc' EXIT
    ensure_cli_venv
    ensure_js_sdk
    cmd_up --with-iam
    STILLFRAME_E2E_OUTPUTS="$OUTPUTS" STILLFRAME_E2E_IAM_OUTPUTS="$STATE/outputs-iam.json" \
        STILLFRAME_E2E_AWS_CLI="$CLI_VENV/bin/aws" STILLFRAME_E2E_JS_DIR="$JS_DIR" STILLFRAME_REQUIRE_E2E=1 \
        timed "tests/e2e" "$BIN/python" -m pytest tests/e2e -p no:cacheprovider -q "$@" || status=$?
    return $status
}

cmd_env() {
    [[ -f "$OUTPUTS" ]] || { log "no $OUTPUTS: run make e2e-up first"; return 1; }
    "$BIN/python" - "$OUTPUTS" <<'PY'
import json, shlex, sys
o = json.load(open(sys.argv[1]))
pairs = {"API_URL": o["ApiUrl"], "AWS_CA_BUNDLE": o["CaBundle"], "AWS_ACCESS_KEY_ID": o["AccessKeyId"],
         "AWS_SECRET_ACCESS_KEY": o["SecretAccessKey"], "AWS_DEFAULT_REGION": o["Region"]}
print("\n".join(f"export {name}={shlex.quote(str(value))}" for name, value in pairs.items()))
PY
}

case "${1:-}" in
    run) shift; cmd_run "$@" ;;
    up)
        ensure_cli_venv
        cmd_up
        print_timings
        ;;
    down) cmd_down ;;
    env) cmd_env ;;
    *)
        echo "usage: $0 run [pytest args]|up|down|env" >&2
        exit 2
        ;;
esac

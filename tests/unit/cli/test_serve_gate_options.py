"""`stillframe serve` options for SigV4 auth and throttling: flags, environment, usage errors, banner, help."""

from __future__ import annotations

import argparse

import pytest

from stillframe.access.keystore import KeyStore
from stillframe.cli.errors import UsageError
from stillframe.cli.main import build_parser
from stillframe.cli.serve_gate import ACCESS_KEY_ENV, SECRET_KEY_ENV, build_gate, gate_banner
from stillframe.server import RequestGate


def parse(*flags: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *flags])


def key_pair(gate: RequestGate) -> tuple[str, str]:
    """The one key pair a gate's verifier accepts."""
    assert gate.verifier is not None and isinstance(gate.verifier.keys, KeyStore)
    (key,) = gate.verifier.keys.keys
    return key.access_key_id, key.secret_access_key


def test_both_checks_are_off_by_default() -> None:
    gate = build_gate(parse(), {})
    assert gate.verifier is None and gate.throttle is None
    assert gate_banner(gate) == []


def test_flags_turn_both_checks_on_and_the_banner_says_so() -> None:
    # Given a key pair and a rate limit on the command line
    args = parse("--access-key-id", "AKID", "--secret-access-key", "s3cr3t", "--rate-limit", "5", "--burst", "8")

    # When serve builds its gate
    gate = build_gate(args, {})

    # Then signatures are checked with that pair, requests throttled at that rate and burst
    assert gate.verifier is not None and gate.throttle is not None
    assert key_pair(gate) == ("AKID", "s3cr3t")
    assert (gate.throttle.rate, gate.throttle.burst) == (5, 8)
    # And the banner names the key and the limits, never the secret
    banner = "\n".join(gate_banner(gate))
    assert "AKID" in banner and "NotAuthorizedException" in banner
    assert "5 requests per second, burst 8" in banner and "ClientLimitExceededException" in banner
    assert "s3cr3t" not in banner


def test_environment_supplies_the_key_pair_and_flags_win() -> None:
    env = {ACCESS_KEY_ENV: "ENVKEY", SECRET_KEY_ENV: "env-secret"}
    assert key_pair(build_gate(parse(), env)) == ("ENVKEY", "env-secret")
    assert key_pair(build_gate(parse("--access-key-id", "FLAGKEY"), env)) == ("FLAGKEY", "env-secret")


@pytest.mark.parametrize(
    ("flags", "env"),
    [
        (("--access-key-id", "AKID"), {}),
        (("--secret-access-key", "s3cr3t"), {}),
        ((), {SECRET_KEY_ENV: "s3cr3t"}),
        ((), {ACCESS_KEY_ENV: "AKID", SECRET_KEY_ENV: ""}),
    ],
)
def test_half_a_key_pair_is_a_usage_error(flags: tuple[str, ...], env: dict[str, str]) -> None:
    with pytest.raises(UsageError, match="give both --access-key-id and --secret-access-key"):
        build_gate(parse(*flags), env)


def test_burst_without_a_rate_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--burst only applies with --rate-limit"):
        build_gate(parse("--burst", "3"), {})


@pytest.mark.parametrize(("rate", "burst"), [("1", 1), ("0.5", 1), ("20", 20)])
def test_default_burst_is_the_rate(rate: str, burst: int) -> None:
    throttle = build_gate(parse("--rate-limit", rate), {}).throttle
    assert throttle is not None and throttle.burst == burst


@pytest.mark.parametrize(
    "flags",
    [*(("--rate-limit", bad) for bad in ("0", "-1", "nan", "inf", "fast")), ("--rate-limit", "1", "--burst", "0")],
)
def test_impossible_limits_are_rejected(flags: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse(*flags)
    assert exited.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_help_describes_the_new_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--help")
    text = " ".join(capsys.readouterr().out.split())
    options = ("--access-key-id", "--secret-access-key", "--rate-limit", "--burst")
    for expected in (*options, ACCESS_KEY_ENV, SECRET_KEY_ENV):
        assert expected in text
    assert "NotAuthorizedException" in text and "ClientLimitExceededException" in text

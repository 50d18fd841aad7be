"""`stillframe keys create|list|revoke` over a local key store file: output, the file, errors."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from stillframe.access.backends import KeyFile
from stillframe.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["keys", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_create_prints_the_pair_once_and_stores_it_0600(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys_file = tmp_path / "keys.json"
    status, out, err = run(capsys, "create", "--keys-file", str(keys_file), "--description", "lobby cam")
    assert status == 0
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert set(lines) == {"AccessKeyId", "SecretAccessKey"}
    stored = KeyFile(keys_file).load().find(lines["AccessKeyId"])
    assert stored is not None and stored.secret_access_key == lines["SecretAccessKey"]
    assert stored.description == "lobby cam" and stored.stream_prefixes is None and not stored.read_only
    assert stat.S_IMODE(os.stat(keys_file).st_mode) == 0o600
    assert "not shown again" in err


def test_create_json_with_limits_then_list_and_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a limited key made with --json under --data-dir (the default file name)
    where = ("--data-dir", str(tmp_path))
    flags = ("--stream-prefix", "lobby-", "--stream-prefix", "hall", "--read-only", "--json")
    status, out, _ = run(capsys, "create", *where, *flags)
    made = json.loads(out)
    assert status == 0 and made["StreamPrefixes"] == ["lobby-", "hall"] and made["ReadOnly"] is True
    assert (tmp_path / "keys.json").is_file()

    # When listed / Then it shows without its secret
    status, out, _ = run(capsys, "list", *where)
    assert status == 0 and made["AccessKeyId"] in out and "lobby-*,hall*" in out and "read-only" in out
    assert made["SecretAccessKey"] not in out
    _, out, _ = run(capsys, "list", *where, "--json")
    (listed,) = json.loads(out)["Keys"]
    assert "SecretAccessKey" not in listed and listed["Revoked"] is None

    # When revoked / Then it stays listed, as revoked; revoking again changes nothing
    assert run(capsys, "revoke", *where, made["AccessKeyId"])[0] == 0
    _, out, _ = run(capsys, "list", *where, "--json")
    revoked_at = json.loads(out)["Keys"][0]["Revoked"]
    assert revoked_at is not None
    status, _, err = run(capsys, "revoke", *where, made["AccessKeyId"])
    assert status == 0 and "already revoked" in err
    _, out, _ = run(capsys, "list", *where, "--json")
    assert json.loads(out)["Keys"][0]["Revoked"] == revoked_at


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("revoke", "SFAKNOSUCHKEY0000000"), "no access key SFAKNOSUCHKEY0000000"),
        (("create", "--stream-prefix", "no/slashes"), "is not 1-256 characters"),
        (("create", "--description", "x" * 300), "at most 256 characters"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    status, _, err = run(capsys, args[0], "--keys-file", str(tmp_path / "k.json"), *args[1:])
    assert status == 2 and expected in err and err.count("\n") == 1 and err.startswith("stillframe keys: error:")


def test_a_broken_store_fails_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys_file = tmp_path / "keys.json"
    keys_file.write_text("{not json")
    status, _, err = run(capsys, "list", "--keys-file", str(keys_file))
    assert status == 1 and "is not a valid key store" in err


def test_an_empty_store_lists_no_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "list", "--keys-file", str(tmp_path / "none.json"))[2] == "no keys\n"


def test_locations_are_exclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["keys", "list", "--keys-file", "a.json", "--stack", "Stillframe"])
    assert exited.value.code == 2 and "not allowed with" in capsys.readouterr().err

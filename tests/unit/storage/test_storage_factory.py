"""open_store: settings pick the adapter; the local mode never imports boto3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stillframe.settings import Settings
from stillframe.storage import open_store
from stillframe.storage.local import LocalDirectoryStore

LAMBDA_SRC = Path(__file__).resolve().parents[3] / "lambda_src"


def test_local_settings_open_a_directory_store(tmp_path: Path) -> None:
    # Given settings for the embedded mode
    settings = Settings(store="local", data_dir=str(tmp_path / "data"))
    # When the store is opened and used
    store = open_store(settings)
    store.put("k", b"v")
    # Then it is a directory store rooted at data_dir
    assert isinstance(store, LocalDirectoryStore)
    assert (tmp_path / "data" / "objects" / "k").read_bytes() == b"v"


def test_s3_settings_open_a_bucket_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given settings for S3 with a prefix (no request is made by opening)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = Settings(store="s3", bucket="media-bucket", prefix="tenant-a/")
    # When the store is opened
    store = open_store(settings)
    # Then it targets that bucket and prefix
    from stillframe.storage.s3 import S3Store

    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == ("media-bucket", "tenant-a/")


def test_unknown_store_is_refused() -> None:
    # Given settings naming no known adapter (bypassing Settings.validate)
    settings = Settings(store="ftp")
    # When the store is opened
    # Then a ValueError says which stores exist
    with pytest.raises(ValueError, match="'local' or 's3'"):
        open_store(settings)


def test_the_local_mode_does_not_import_boto3(tmp_path: Path) -> None:
    # Given a fresh interpreter
    code = (
        "import sys\n"
        "from stillframe.settings import Settings\n"
        "from stillframe.storage import open_store\n"
        f"open_store(Settings(store='local', data_dir={str(tmp_path)!r})).put('k', b'v')\n"
        "print('boto3' in sys.modules, 'botocore' in sys.modules)\n"
    )
    # When it opens and uses the local store
    out = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(LAMBDA_SRC)}, capture_output=True, text=True, check=True
    )
    # Then neither boto3 nor botocore was imported (cold starts and the CLI stay light)
    assert out.stdout.split() == ["False", "False"]

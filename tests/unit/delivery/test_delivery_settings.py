"""Where deliveries run: a thread of this process outside Lambda, markers only inside it."""

from __future__ import annotations

import pytest

from stillframe.settings import Settings, SettingsError


def test_delivery_runs_in_process_outside_lambda_and_only_queues_inside():
    assert Settings.from_env({}).delivery == "thread"
    assert Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "stillframe-media"}).delivery == "none"
    assert Settings.from_env({"STILLFRAME_DELIVERY_RETRY_MS": "250"}).delivery_retry_ms == 250


def test_unknown_delivery_mode_is_refused():
    with pytest.raises(SettingsError, match="STILLFRAME_DELIVERY"):
        Settings.from_env({"STILLFRAME_DELIVERY": "sqs"})

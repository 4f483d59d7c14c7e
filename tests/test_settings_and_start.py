"""A bad setting or data file stops the start with a message that names it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import SettingsError, load_settings
from tests.conftest import random_aes_key


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "validate"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


CREDENTIALS = {
    "WECHAT_TOKEN": "tok",
    "WECHAT_APPID": "wx1234567890abcdef",
    "WECHAT_SECRET": "s",
    "REGISTRY_SECRET": "k" * 32,
}


@pytest.mark.parametrize(
    "env,named",
    [
        ({**CREDENTIALS, "WECHAT_ENCODING_AES_KEY": "short"}, "WECHAT_ENCODING_AES_KEY"),
        ({**CREDENTIALS, "WECHAT_ENCODING_AES_KEY": "!" * 43}, "WECHAT_ENCODING_AES_KEY"),
        ({"WECHAT_API_BASE_URL": "not a url"}, "WECHAT_API_BASE_URL"),
        ({"REDIS_URL": "http://localhost:6379"}, "REDIS_URL"),
        ({"WECHAT_TOKEN": "only-the-token"}, "WECHAT_APPID"),
        ({**CREDENTIALS, "WECHAT_APPID": "not-an-appid"}, "WECHAT_APPID"),
        ({**CREDENTIALS, "REGISTRY_SECRET": ""}, "REGISTRY_SECRET"),
        ({**CREDENTIALS, "REGISTRY_SECRET": "short"}, "REGISTRY_SECRET"),
        ({"PUSH_BACKOFF_SECONDS": "10,soon"}, "PUSH_BACKOFF_SECONDS"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(env: dict[str, str], named: str):
    done = start(env)
    assert done.returncode == 2
    assert named in done.stderr
    assert "Traceback" not in done.stderr


def test_good_settings_start():
    done = start({**CREDENTIALS, "WECHAT_ENCODING_AES_KEY": random_aes_key()})
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout


def test_previous_key_needs_a_current_key(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WECHAT_ENCODING_AES_KEY_PREVIOUS", random_aes_key())
    with pytest.raises(SettingsError, match="WECHAT_ENCODING_AES_KEY"):
        load_settings(_env_file=None)


def test_no_credentials_is_local_mode(monkeypatch: pytest.MonkeyPatch):
    for name in ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert load_settings(_env_file=None).local_mode


def test_blank_credentials_mean_unset_not_an_empty_secret(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WECHAT_TOKEN", "")
    for name in ("WECHAT_APPID", "WECHAT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert load_settings(_env_file=None).local_mode

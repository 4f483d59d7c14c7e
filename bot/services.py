"""The long-lived parts a process needs, wired once from settings (web, worker and chat alike)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import string
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import redis
from rq import Queue

from bot.content.review import push_template
from bot.envelope import Envelope
from bot.push import Pusher, TokenBucket
from bot.redis_server import connect
from bot.registry.binding import Bindings
from bot.registry.changes import PushPolicy, PushQueue
from bot.registry.identity import Identity
from bot.registry.service import Registry
from bot.settings import Settings
from bot.store import Store
from bot.store.registry import RegistryStore
from bot.wechat_api import SharedTokenClient, WeChatApi

LOCAL_FILE = "local-wechat.json"
LOCAL_REGISTRY_SECRET = "registry-secret"


@dataclass(frozen=True)
class LocalCredentials:
    """Development credentials for local mode, made once per data directory (never a constant)."""

    token: str
    appid: str
    secret: str
    aes_key: str

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> LocalCredentials:
        path = data_dir / LOCAL_FILE
        if not path.exists():
            alphabet = string.ascii_letters + string.digits
            made = cls(
                token=secrets.token_hex(16),
                appid="wxlocal" + secrets.token_hex(5),
                secret=secrets.token_hex(16),
                aes_key="".join(secrets.choice(alphabet) for _ in range(43)),
            )
            _create_once(path, json.dumps(made.__dict__))
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def local_registry_secret(data_dir: Path) -> str:
    """Local mode's key for the registry's hashes, made once per data directory."""
    path = data_dir / LOCAL_REGISTRY_SECRET
    if not path.exists():
        _create_once(path, secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip()


def _create_once(path: Path, content: str) -> None:
    """Writes a private file unless it exists; several processes may race to make it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.parent / f".{path.name}.{os.getpid()}"
    draft.write_text(content, encoding="utf-8")
    draft.chmod(0o600)
    # Several workers may start at once: link() is atomic, so exactly one file wins.
    with contextlib.suppress(FileExistsError):
        os.link(draft, path)
    draft.unlink()


class Services:
    """Settings, Redis, the store, the job queue and the WeChat API client of one process."""

    def __init__(self, settings: Settings, client: redis.Redis | None = None) -> None:
        self.settings = settings
        self.redis = client if client is not None else connect(settings)
        self.store = Store(
            self.redis, profile_days=settings.profile_days, gap_days=settings.gap_days
        )
        self.queue = Queue("yikao", connection=self.redis)
        self.credentials = self._credentials()

    def _credentials(self) -> LocalCredentials:
        s = self.settings
        if s.local_mode:
            return LocalCredentials.for_data_dir(s.data_dir)
        assert s.wechat_token and s.wechat_appid and s.wechat_secret  # checked by Settings
        keys = s.aes_keys()
        return LocalCredentials(
            token=s.wechat_token.get_secret_value(),
            appid=s.wechat_appid,
            secret=s.wechat_secret.get_secret_value(),
            aes_key=keys[0] if keys else "",
        )

    @cached_property
    def envelope(self) -> Envelope:
        keys = self.settings.aes_keys() or (
            (self.credentials.aes_key,) if self.settings.local_mode else ()
        )
        return Envelope(
            token=self.credentials.token,
            appid=self.credentials.appid,
            aes_keys=keys,
            tolerance_seconds=self.settings.timestamp_tolerance_seconds,
        )

    @cached_property
    def wechat(self) -> WeChatApi:
        c = self.credentials
        base = str(self.settings.wechat_api_base_url)
        return WeChatApi(SharedTokenClient(c.appid, c.secret, base, self.store))

    @cached_property
    def registry(self) -> Registry:
        """The offices' side of the registry."""
        return Registry(self._registry_store, self._pushes, self._identity)

    @cached_property
    def bindings(self) -> Bindings:
        """The candidates' side of the registry."""
        return Bindings(
            self._registry_store,
            self._pushes,
            self._identity,
            failures_per_hour=self.settings.bind_failures_per_hour,
        )

    @cached_property
    def _registry_store(self) -> RegistryStore:
        return RegistryStore(self.redis)

    @cached_property
    def _pushes(self) -> PushQueue:
        s = self.settings
        policy = PushPolicy(
            backoff_seconds=s.push_backoff_seconds,
            reminder_lead_seconds=s.reminder_hours_before * 3600,
        )
        return PushQueue(self.queue, policy)

    @cached_property
    def _identity(self) -> Identity:
        s = self.settings
        secret = (
            s.registry_secret.get_secret_value()
            if s.registry_secret is not None
            else local_registry_secret(s.data_dir)
        )
        return Identity(secret)

    @cached_property
    def pusher(self) -> Pusher:
        return Pusher(
            store=self._registry_store,
            bindings=self.bindings,
            api=self.wechat,
            bucket=TokenBucket(self.redis, self.settings.push_per_second),
            template_id=self.settings.review_template_id or push_template().template_id,
            conversations=self.store,
            pause_seconds=self.settings.push_backoff_seconds[0]
            if self.settings.push_backoff_seconds
            else 0,
        )

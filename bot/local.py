"""The bot on one machine with nothing installed: embedded Redis, the fake WeChat API, the web app
on a real HTTP port and a worker thread. Used by local chat when no server runs, and by tests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, make_server

from bot.app import create_app
from bot.fake_wechat import FakeWeChat
from bot.redis_server import embedded_running, stop_embedded
from bot.services import LocalCredentials, Services
from bot.settings import Settings
from bot.worker import make_thread_worker

ENDPOINTS_FILE = "local-endpoints.json"


@dataclass(frozen=True)
class Endpoints:
    """Where a running local bot listens, and the credentials to talk to it as WeChat does."""

    webhook_url: str
    fake_api_url: str
    credentials: LocalCredentials

    def save(self, data_dir: Path) -> None:
        data = {"webhook_url": self.webhook_url, "fake_api_url": self.fake_api_url}
        (data_dir / ENDPOINTS_FILE).write_text(json.dumps(data), encoding="utf-8")

    @classmethod
    def load(cls, data_dir: Path) -> Endpoints | None:
        path = data_dir / ENDPOINTS_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(credentials=LocalCredentials.for_data_dir(data_dir), **data)


class LocalStack:
    """Starts everything in this process; use as a context manager."""

    def __init__(self, settings: Settings) -> None:
        # Stop on exit only an embedded Redis this stack started itself.
        self._owns_redis = settings.redis_url is None and not embedded_running(settings.data_dir)
        self.fake = FakeWeChat().start()
        self.settings = settings.model_copy(update={"wechat_api_base_url": self.fake.url})
        self.services = Services(self.settings)
        self._web: BaseWSGIServer = make_server(
            "127.0.0.1", 0, create_app(self.settings, self.services), threaded=True
        )
        self.endpoints = Endpoints(
            webhook_url=f"http://127.0.0.1:{self._web.server_port}/wechat",
            fake_api_url=self.fake.url,
            credentials=self.services.credentials,
        )
        self._worker = make_thread_worker(self.services)
        self._threads = [
            threading.Thread(target=self._web.serve_forever, daemon=True),
            threading.Thread(
                target=self._worker.work, kwargs={"with_scheduler": False}, daemon=True
            ),
        ]

    def __enter__(self) -> LocalStack:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._worker.stop()
        self._web.shutdown()
        for thread in self._threads:
            thread.join(timeout=5)
        self.fake.stop()
        if self._owns_redis:
            stop_embedded(self.settings.data_dir)

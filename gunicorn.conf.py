"""gunicorn settings for the Procfile's web process (read automatically from the working directory)."""

import os

# Threads, not just processes: a WeChat retry may wait briefly for its first attempt's reply,
# and a waiting thread must not hold up other users.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
# WeChat gives up after 5 seconds; a request still running long after that helps nobody.
timeout = 30
graceful_timeout = 10
accesslog = "-" if os.environ.get("ACCESS_LOG") else None

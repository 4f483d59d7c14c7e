"""The RQ worker (the Procfile's `worker:`), sharing the web's Redis, embedded or not."""

from __future__ import annotations

from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty
from rq.worker import BaseWorker

from bot import jobs
from bot.content.knowledge import notices
from bot.content.photos import photo_rules
from bot.content.provinces import provinces
from bot.content.review import review_texts
from bot.content.texts import texts
from bot.services import Services


class ThreadWorker(SimpleWorker):
    """Runs jobs in-process from a background thread (local chat, tests).

    Signal handlers can only be installed from the main thread, so this worker installs none;
    its owner calls stop(), which the work loop notices within `dequeue_timeout`.
    """

    dequeue_timeout = 1
    # A job's timeout by timer, not SIGALRM: signals only reach the main thread.
    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass

    def stop(self) -> None:
        self._stop_requested = True


def make_worker(services: Services) -> BaseWorker:
    """The worker process's worker on the bot's queue, its jobs using `services`.

    A SimpleWorker runs jobs in its own process instead of forking a work horse for each: our
    jobs are short (a push is one HTTP call) and catch their own errors, and the fork per job
    cut push throughput to a third (bench/push_bench.py). If the process dies mid-job, RQ's
    maintenance in any worker retries that job; the delivery's lease and client_msg_id keep
    the retry from pushing twice.
    """
    jobs.use(services)
    _warm_up(services)
    # Maintenance (which retries the jobs of a worker that died) every minute, not every ten:
    # a push stuck with a killed worker should go out soon after another worker is up.
    return SimpleWorker([services.queue], connection=services.redis, maintenance_interval=60)


def make_thread_worker(services: Services) -> ThreadWorker:
    """A worker to run from a thread of this process, its jobs using `services`."""
    jobs.use(services)
    return ThreadWorker([services.queue], connection=services.redis)


def _warm_up(services: Services) -> None:
    """Loads the data and builds the clients once, before RQ forks a work horse per job.

    Otherwise every horse starts cold: it would re-read every YAML file and rebuild the WeChat
    client for each job, which made a push cost a quarter of a second.
    """
    # What the jobs read, not all of load_all(): the FAQ matcher (jieba's dictionary) would add
    # some 100 MB to every worker for nothing a job uses.
    texts()
    notices()
    provinces()
    review_texts()
    photo_rules()
    services.pusher  # noqa: B018 - a cached property: building it is the point

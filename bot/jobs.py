"""Background jobs run by the RQ worker: answers that cannot be given within WeChat's 5 seconds."""

from __future__ import annotations

import logging

from rq import get_current_job

from bot import photo_replies, photos
from bot.content.photos import photo_rules
from bot.content.texts import texts
from bot.pagination import paginate
from bot.services import Services
from bot.settings import load_settings

log = logging.getLogger(__name__)

_services: Services | None = None


def use(services: Services) -> None:
    """Sets the services jobs in this process use (the worker sets them once at start)."""
    global _services
    _services = services


def services() -> Services:
    global _services
    if _services is None:
        _services = Services(load_settings())
    return _services


def send_text(openid: str, content: str) -> None:
    """Delivers a late answer as customer-service messages, one per page."""
    api = services().wechat
    for page in paginate(content):
        api.send_text(openid, page)


def check_photo(openid: str, media_id: str, registration_photo: bool) -> None:
    """Checks the user's photo; whatever goes wrong, the user hears back rather than nothing."""
    try:
        _check_photo(openid, media_id, registration_photo)
    except Exception:
        log.exception("photo check failed")
        services().wechat.send_text(openid, texts().internal_error)


def _check_photo(openid: str, media_id: str, registration_photo: bool) -> None:
    """Fetches the user's photo, tells them whether it will be accepted, sends a fixed copy."""
    api = services().wechat
    data = api.download_media(media_id)
    rules = photo_rules()
    verdict = photos.check(data, rules, registration_photo=registration_photo)
    if verdict.ok:
        api.send_text(openid, photo_replies.accepted(verdict, rules, registration_photo))
        return
    if not verdict.fixable:
        api.send_text(openid, photo_replies.unfixable(verdict, rules))
        return
    fixed = photos.fix(data, rules, registration_photo=registration_photo)
    after = photos.check(fixed, rules, registration_photo=registration_photo)
    api.send_text(openid, photo_replies.fixed(verdict, after, rules, registration_photo))
    api.send_image(openid, api.upload_image("fixed.jpg", fixed))


def push_review(registration: str, key: str) -> None:
    """Pushes one review-state delivery; TryLater makes RQ retry it after its backoff."""
    job = get_current_job()
    last_attempt = job is None or not job.retries_left
    services().pusher.deliver(registration, key, last_attempt=last_attempt)


def remind(registration: str, version: int) -> None:
    """Before a correction deadline: a reminder, if the state has not changed since."""
    services().registry.queue_reminder(registration, version)

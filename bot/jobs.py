"""Background jobs run by the RQ worker: answers that cannot be given within WeChat's 5 seconds."""

from __future__ import annotations

from bot.pagination import paginate
from bot.services import Services
from bot.settings import load_settings

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

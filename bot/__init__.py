"""医考助手: a WeChat Official Account assistant for 医师资格考试 registration review."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(*args: Any, **kwargs: Any) -> Flask:
    """The app factory for ``gunicorn 'bot:create_app()'``.

    Imported lazily so that the conversation core can be used without Flask.
    """
    from bot.app import create_app as factory

    return factory(*args, **kwargs)

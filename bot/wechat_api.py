"""The outbound WeChat API: wechatpy's client with one access token shared by every process.

WeChat invalidates the previous token whenever a new one is issued, so a token cached per
process makes workers knock each other's tokens out. Here the token lives in Redis; one
refresher at a time takes a lock and re-checks before asking WeChat; a call refused with
40001/40014/42001 drops that token (only if nobody replaced it already) and is retried once.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.store import Store

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
TOKEN_MARGIN_SECONDS = 300  # refresh before WeChat's own expiry, never on the edge of it

# Deletes the token only if it is still the one the failed call used.
_DROP_IF_SAME = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


class SharedTokenClient(WeChatClient):
    """wechatpy's client, pointed at a configurable base URL, with its token kept in Redis."""

    def __init__(self, appid: str, secret: str, base_url: str, store: Store) -> None:
        super().__init__(appid, secret, timeout=3, auto_retry=False)
        self.API_BASE_URL = base_url.rstrip("/") + "/cgi-bin/"
        self._store = store
        self._redis: redis.Redis = store.redis

    @property
    def access_token(self) -> str:
        return self._cached_token() or self._refresh()

    def fetch_access_token(self) -> dict[str, Any]:
        """Asks WeChat for a token and shares it (callers hold the refresh lock)."""
        res = self._http.get(
            self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            timeout=self.timeout,
        )
        res.raise_for_status()
        result: dict[str, Any] = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self)
        ttl = max(60, int(result.get("expires_in", 7200)) - TOKEN_MARGIN_SECONDS)
        self._redis.set(self._store.token_key(self.appid), result["access_token"], ex=ttl)
        return result

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        token = self.access_token
        params = {**kwargs.pop("params", {}), "access_token": token}
        try:
            return super()._request(method, url_or_endpoint, params=params, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("WeChat refused the access token (%s); refreshing once", exc.errcode)
            self._redis.eval(_DROP_IF_SAME, 1, self._store.token_key(self.appid), token)
            params["access_token"] = self.access_token
            return super()._request(method, url_or_endpoint, params=params, **kwargs)

    def _cached_token(self) -> str | None:
        raw = self._redis.get(self._store.token_key(self.appid))
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def _refresh(self) -> str:
        lock = self._redis.lock(
            self._store.token_lock_key(self.appid), timeout=10, blocking_timeout=10
        )
        with lock:
            # Another process may have refreshed while we waited for the lock.
            token = self._cached_token()
            if token is None:
                self.fetch_access_token()
                token = self._cached_token()
        if token is None:
            raise WeChatClientException(None, "no access token", client=self)
        return token


class WeChatApi:
    """The calls the bot makes to WeChat, in the domain's words."""

    def __init__(self, client: SharedTokenClient) -> None:
        self.client = client

    def send_text(self, openid: str, content: str) -> None:
        """A customer-service text message (only within 48 hours of the user's last message)."""
        self.client.message.send_text(openid, content)

    def send_template(
        self,
        openid: str,
        template_id: str,
        data: dict[str, dict[str, str]],
        *,
        url: str | None,
        client_msg_id: str,
    ) -> str:
        """A template message; returns WeChat's msgid (its TEMPLATESENDJOBFINISH names it).

        `client_msg_id` makes a resend within 10 minutes a no-op on WeChat's side, so a push
        retried after a crash mid-call is not delivered twice. (wechatpy's send_template has no
        parameter for it, hence the plain post.)
        """
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": data,
            "client_msg_id": client_msg_id,
        }
        if url:
            body["url"] = url
        result = self.client.post("message/template/send", data=body)
        return str(result.get("msgid", ""))

    def send_image(self, openid: str, media_id: str) -> None:
        self.client.message.send_image(openid, media_id)

    def upload_image(self, filename: str, data: bytes) -> str:
        """Uploads temporary media (kept three days by WeChat) and returns its media id."""
        result = self.client.media.upload("image", (filename, data, "image/jpeg"))
        return str(result["media_id"])

    def download_media(self, media_id: str) -> bytes:
        response = self.client.media.download(media_id)
        content: bytes = response.content
        return content

    def create_menu(self, menu: dict[str, Any]) -> None:
        self.client.menu.create(menu)

"""Every Redis key the bot uses: format and lifetime. Nothing else builds a key.

All of one user's keys carry the hash tag ``{u:<openid>}``, so they live in one Redis Cluster
slot and one Lua script or transaction can touch them together.

key                              holds                                 lifetime
yk:{u:<openid>}:profile          Profile JSON (province, flow, …)      PROFILE_DAYS
yk:{u:<openid>}:pages            JSON list of pages left for 「更多」   1 hour
yk:{u:<openid>}:msg:<msg key>    pending:<token>, then the reply       lease, then reply cache
yk:{u:<openid>}:rate:<minute>    messages counted that minute          2 minutes
yk:{u:<openid>}:lock             the token of the message in hand      lease
yk:wechat:{<appid>}:token        the shared access token               expires_in − 5 minutes
yk:wechat:{<appid>}:token-lock   one refresher at a time               10 seconds
yk:gaps:<province|none>          unanswered question → times asked     kept (offices read it)
yk:gaps:<province|none>:last     unanswered question → last asked at   kept
yk:offices:tokens                sha256(token) → OfficeToken JSON      until revoked
"""

from __future__ import annotations

PREFIX = "yk"
PAGES_SECONDS = 3600
RATE_SECONDS = 120


def user(openid: str, part: str) -> str:
    return f"{PREFIX}:{{u:{openid}}}:{part}"


def message(openid: str, message_key: str) -> str:
    return user(openid, f"msg:{message_key}")


def rate(openid: str, minute: int) -> str:
    return user(openid, f"rate:{minute}")


def wechat_token(appid: str) -> str:
    return f"{PREFIX}:wechat:{{{appid}}}:token"


def wechat_token_lock(appid: str) -> str:
    return f"{PREFIX}:wechat:{{{appid}}}:token-lock"


def gaps(province: str | None) -> str:
    return f"{PREFIX}:gaps:{province or 'none'}"


def office_tokens() -> str:
    return f"{PREFIX}:offices:tokens"

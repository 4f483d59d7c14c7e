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
yk:gaps:{<province|none>}        unanswered question → times asked     GAP_DAYS since last asked
yk:gaps:{<province|none>}:seen   unanswered question → last asked at   GAP_DAYS since last asked
yk:offices:tokens                sha256(token) → OfficeToken JSON      until revoked
yk:{u:<openid>}:registration     the 报名号 this user bound             until unbound
yk:{u:<openid>}:bind-failures    failed binding attempts this hour     1 hour
yk:{c:<报名号>}:candidate         Candidate JSON (state, binding, …)    kept (the office's data)
yk:{c:<报名号>}:history           JSON list of every change, oldest first kept
yk:{c:<报名号>}:deliveries        delivery key → Delivery JSON          kept
yk:{c:<报名号>}:bind-failures     failed binding attempts this hour     1 hour
yk:{c:<报名号>}:binding-code      the digest of its one-time code        BINDING_CODE_DAYS
yk:binding-code:<hmac(code)>     报名号 an office's one-time code binds  BINDING_CODE_DAYS
yk:push:msgid:<msgid>            报名号 and delivery key of a template  MSGID_DAYS
yk:push:bucket                   the shared push token bucket          a few seconds idle
yk:push:paused                   set when WeChat says the quota is hit  the pause

A province's two gap keys share the hash tag {<province>}, so one script counts and sweeps
them together.

A candidate's keys share the hash tag {c:<报名号>}, so one transaction covers a state change,
its history entry and its delivery record. (The transaction also enqueues the RQ job, whose
keys do not: like RQ itself, the registry needs one Redis server, not a cluster.)
"""

from __future__ import annotations

PREFIX = "yk"
PAGES_SECONDS = 3600
RATE_SECONDS = 120
BIND_FAILURE_SECONDS = 3600
BINDING_CODE_DAYS = 14
MSGID_DAYS = 7


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
    return f"{PREFIX}:gaps:{{{province or 'none'}}}"


def gaps_seen(province: str | None) -> str:
    return f"{gaps(province)}:seen"


def old_gaps(province: str | None) -> tuple[str, str]:
    """The counts and last-asked hash of versions before GAP_DAYS (adopted at start)."""
    old = f"{PREFIX}:gaps:{province or 'none'}"
    return old, f"{old}:last"


def office_tokens() -> str:
    return f"{PREFIX}:offices:tokens"


def user_registration(openid: str) -> str:
    return user(openid, "registration")


def user_bind_failures(openid: str) -> str:
    return user(openid, "bind-failures")


def candidate(registration: str, part: str = "candidate") -> str:
    return f"{PREFIX}:{{c:{registration}}}:{part}"


def history(registration: str) -> str:
    return candidate(registration, "history")


def deliveries(registration: str) -> str:
    return candidate(registration, "deliveries")


def candidate_bind_failures(registration: str) -> str:
    return candidate(registration, "bind-failures")


def binding_code(code_hash: str) -> str:
    return f"{PREFIX}:binding-code:{code_hash}"


def push_msgid(msgid: str) -> str:
    return f"{PREFIX}:push:msgid:{msgid}"


def push_bucket() -> str:
    return f"{PREFIX}:push:bucket"


def push_pause() -> str:
    return f"{PREFIX}:push:paused"

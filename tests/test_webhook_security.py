"""The webhook refuses what is not WeChat's and survives what is malformed, and keeps serving."""

from __future__ import annotations

import time

from flask.testing import FlaskClient
from pydantic import SecretStr

from bot.app import create_app
from bot.services import Services
from bot.settings import Settings
from tests.conftest import sim_for
from tests.wechat_sim import WeChatSim, sha1_signature


def still_serving(wechat: WeChatSim) -> None:
    assert "医考助手可以" in wechat.user("o_after").says("帮助")


def test_url_verification_returns_echostr_only_when_signed(
    client: FlaskClient, settings: Settings
):
    assert settings.wechat_token
    token, ts, nonce = settings.wechat_token.get_secret_value(), str(int(time.time())), "n1"
    good = {
        "signature": sha1_signature(token, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": "4567890123",
    }
    assert client.get("/wechat", query_string=good).data == b"4567890123"
    forged = {**good, "signature": sha1_signature("not-the-token", ts, nonce)}
    response = client.get("/wechat", query_string=forged)
    assert response.status_code == 403
    assert b"4567890123" not in response.data


def test_forged_signature_is_refused(wechat: WeChatSim):
    posted = wechat.post(wechat.user("o_x").text_message("帮助"), tamper="signature")
    assert posted.status == 403
    still_serving(wechat)


def test_hour_old_timestamp_is_refused_as_replay(wechat: WeChatSim):
    old = int(time.time()) - 3600
    posted = wechat.post(wechat.user("o_x").text_message("帮助"), timestamp=old)
    assert posted.status == 403
    still_serving(wechat)


def test_entity_expansion_bomb_is_refused(
    client: FlaskClient, settings: Settings, wechat: WeChatSim
):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
        "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol3;</Content></xml>"
    )
    response = client.post("/wechat", query_string=_signed_query(settings), data=bomb.encode())
    assert response.status_code == 400
    assert b"Traceback" not in response.data
    still_serving(wechat)


def test_any_dtd_is_refused(client: FlaskClient, settings: Settings):
    body = (
        b'<!DOCTYPE xml SYSTEM "http://example.invalid/x.dtd"><xml><MsgType>text</MsgType></xml>'
    )
    assert (
        client.post("/wechat", query_string=_signed_query(settings), data=body).status_code == 400
    )


def test_malformed_xml_and_missing_fields_are_400(
    client: FlaskClient, settings: Settings, wechat: WeChatSim
):
    for body in (b"<xml><unclosed>", b"not xml at all", b"<notxml/>"):
        response = client.post("/wechat", query_string=_signed_query(settings), data=body)
        assert response.status_code == 400, body
    assert wechat.post({"MsgType": "text"}).status == 400  # signed and encrypted, but no sender


def test_five_megabyte_body_is_413(client: FlaskClient, settings: Settings, wechat: WeChatSim):
    body = b"<xml><Content>" + b"a" * (5 * 1024 * 1024) + b"</Content></xml>"
    response = client.post("/wechat", query_string=_signed_query(settings), data=body)
    assert response.status_code == 413
    still_serving(wechat)


def test_ciphertext_for_another_key_is_refused(client: FlaskClient, settings: Settings):
    from tests.conftest import random_aes_key

    stranger = sim_for(client, settings)
    stranger.aes_key = random_aes_key()
    posted = stranger.post(stranger.user("o_x").text_message("帮助"))
    assert posted.status == 400


def test_plaintext_mode(settings: Settings, redis_client):
    plain_settings = settings.model_copy(update={"wechat_encoding_aes_key": None})
    app = create_app(plain_settings, Services(plain_settings, client=redis_client))
    plain = sim_for(app.test_client(), plain_settings, mode="plain")
    posted = plain.post(plain.user("o_plain").text_message("帮助"))
    assert posted.status == 200
    assert "Encrypt" not in posted.reply
    assert "医考助手可以" in posted.text


def test_a_plaintext_body_is_refused_when_safe_mode_is_configured(
    client: FlaskClient, settings: Settings
):
    """The query's signature does not cover the body: in safe mode it vouches for nothing."""
    plain = sim_for(client, settings, mode="plain")
    unsubscribe = plain.message("o_victim", MsgType="event", Event="unsubscribe")
    assert plain.post(unsubscribe).status == 403


def test_compatible_mode_replies_encrypted(client: FlaskClient, settings: Settings):
    compat = sim_for(client, settings, mode="compat")
    posted = compat.post(compat.user("o_compat").text_message("帮助"))
    assert b"<Encrypt>" in posted.body
    assert "医考助手可以" in posted.text


def _signed_query(settings: Settings) -> dict[str, str]:
    assert settings.wechat_token
    ts, nonce = str(int(time.time())), "nonce"
    return {
        "signature": sha1_signature(settings.wechat_token.get_secret_value(), ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
    }


def test_key_rotation_opens_with_either_key_and_replies_with_the_one_that_worked(
    settings: Settings, redis_client
):
    from tests.conftest import random_aes_key

    old_key = random_aes_key()
    rotated = settings.model_copy(update={"wechat_encoding_aes_key_previous": SecretStr(old_key)})
    app = create_app(rotated, Services(rotated, client=redis_client))
    current = sim_for(app.test_client(), rotated)  # encrypts with the new key
    assert "医考助手可以" in current.user("o_rot").says("帮助")
    late = sim_for(app.test_client(), rotated)
    late.aes_key = old_key  # WeChat still on the old key: the reply must open with it too
    assert "医考助手可以" in late.user("o_rot2").says("帮助")

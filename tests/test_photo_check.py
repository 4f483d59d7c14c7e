"""A candidate sends a photo: the verdict and a fixed copy arrive through the WeChat API."""

from __future__ import annotations

import io
import time
from types import SimpleNamespace

import requests
from PIL import Image

from bot.fake_wechat import FakeWeChat
from bot.handlers import photos
from tests.test_photos import encode, paper, registration_photo, with_orientation
from tests.wechat_sim import WeChatSim


def sent(fake: FakeWeChat, openid: str) -> list[dict]:
    calls = requests.get(f"{fake.url}/_fake/calls", params={"touser": openid}, timeout=5).json()
    return [c["body"] for c in calls["calls"] if c["api"] == "custom_send" and c["errcode"] == 0]


def send_photo(
    wechat: WeChatSim, fake: FakeWeChat, openid: str, data: bytes, msg_id: str
) -> bytes:
    media_id = requests.post(f"{fake.url}/_fake/media", data=data, timeout=5).json()["media_id"]
    posted = wechat.user(openid).send(
        MsgType="image", MediaId=media_id, MsgId=msg_id, PicUrl="http://x.invalid/p.jpg"
    )
    return posted.body


def phone_photo() -> bytes:
    shown = paper((3000, 4000), sigma=1, grain=4)
    return with_orientation(shown, 6, quality=95)


def test_a_phone_photo_is_turned_and_shrunk_and_sent_back(wechat, fake_wechat, run_jobs):
    assert send_photo(wechat, fake_wechat, "o_photo", phone_photo(), "7001") == b"success"
    run_jobs()
    text, image = sent(fake_wechat, "o_photo")
    verdict = text["text"]["content"]
    assert "不符合上传要求" in verdict and "超过 200k" in verdict and "正向" in verdict
    copy = fake_wechat.state.media[image["image"]["media_id"]][0]
    assert len(copy) <= 200 * 1024
    fixed = Image.open(io.BytesIO(copy))
    assert fixed.format == "JPEG" and fixed.width < fixed.height  # upright: portrait, as shown
    assert not fixed.getexif()  # no metadata left
    assert max(fixed.size) >= 1200  # still readable


def test_a_good_photo_is_accepted_as_it_is(wechat, fake_wechat, run_jobs):
    good = encode(paper((900, 1200), sigma=1, grain=4), quality=80)
    send_photo(wechat, fake_wechat, "o_good", good, "7002")
    run_jobs()
    (text,) = sent(fake_wechat, "o_good")
    assert "符合上传要求" in text["text"]["content"]


def test_heic_is_refused_with_how_to_convert(wechat, fake_wechat, run_jobs):
    heic = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200
    send_photo(wechat, fake_wechat, "o_heic", heic, "7003")
    run_jobs()
    (text,) = sent(fake_wechat, "o_heic")
    assert "jpg/jpeg/png" in text["text"]["content"]


def test_the_registration_photo_goes_under_30k(wechat, fake_wechat, run_jobs):
    assert "报名照片" in wechat.user("o_reg").says("报名照片")
    send_photo(wechat, fake_wechat, "o_reg", registration_photo(), "7004")
    run_jobs()
    text, image = sent(fake_wechat, "o_reg")
    assert "检测工具" in text["text"]["content"]
    assert len(fake_wechat.state.media[image["image"]["media_id"]][0]) < 30 * 1024


def test_the_registration_mode_lapses_after_half_an_hour(
    wechat, fake_wechat, run_jobs, monkeypatch
):
    wechat.user("o_later").says("报名照片")
    later = time.time() + photos.REGISTRATION_MODE_SECONDS + 1
    monkeypatch.setattr(photos, "time", SimpleNamespace(time=lambda: later))
    send_photo(wechat, fake_wechat, "o_later", registration_photo(), "7005")
    run_jobs()
    (text, *_) = sent(fake_wechat, "o_later")
    assert "检测工具" not in text["text"]["content"]  # checked as a document

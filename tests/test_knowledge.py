"""The knowledge base: every notice file loads, references resolve, and facts match the notices."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.content.knowledge import (
    MAX_TEXT_BYTES,
    NOTICES_DIR,
    Notice,
    check_references,
    load_notices,
    notices,
    sources,
)
from bot.content.loader import ContentError
from bot.content.photos import Limit, photo_rules
from bot.content.provinces import ProvinceTable, provinces
from bot.content.review import Quote

EXPECTED_IDS = {
    "jiangxi-2022",
    "liaoning-2025",
    "hebei-shijiazhuang-2022",
    "sichuan-2024",
    "upload-guide",
}


def _strings(node: object) -> list[str]:
    """Every string value inside a model (what the bot may quote)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, BaseModel):
        return [s for name in type(node).model_fields for s in _strings(getattr(node, name))]
    if isinstance(node, tuple | list):
        return [s for item in node for s in _strings(item)]
    if isinstance(node, dict):
        return [s for item in node.values() for s in _strings(item)]
    return []


# --- loading and cross-references -------------------------------------------------------


def test_every_notice_file_loads_with_the_expected_ids() -> None:
    assert set(notices()) == EXPECTED_IDS
    assert {p.stem for p in NOTICES_DIR.glob("*.yaml")} == EXPECTED_IDS


def test_cross_references_resolve() -> None:
    check_references(load_notices(), provinces())  # raises ContentError on any dangling id


def test_every_province_points_at_a_notice_for_that_province() -> None:
    for province in provinces().provinces:
        assert notices()[province.notice].province == province.id


def test_each_province_notice_cites_itself() -> None:
    # A province file's facts come from that notice; borrowing another's would be a bug.
    for nid, notice in notices().items():
        assert {s.notice for s in sources(notice)} == {nid}, nid


def test_every_quotable_text_fits_a_wechat_message() -> None:
    for nid, notice in notices().items():
        for text in _strings(notice):
            assert len(text.encode("utf-8")) <= MAX_TEXT_BYTES < 600, (nid, text)


def test_unknown_notice_in_a_source_is_reported() -> None:
    found = dict(notices())
    broken = found["sichuan-2024"].model_dump()
    broken["facts"][0]["source"]["notice"] = "sichuan-2099"
    found["sichuan-2024"] = Notice.model_validate(broken)
    with pytest.raises(ContentError, match=r"sichuan-2024\.yaml.*unknown notice 'sichuan-2099'"):
        check_references(found, provinces())


def test_province_without_notice_file_is_reported() -> None:
    found = {k: v for k, v in notices().items() if k != "liaoning-2025"}
    with pytest.raises(ContentError, match=r"liaoning's notice 'liaoning-2025' has no file"):
        check_references(found, provinces())


def test_province_unknown_to_provinces_yaml_is_reported() -> None:
    table = ProvinceTable.model_validate(
        {"provinces": [p.model_dump() for p in provinces().provinces if p.id != "hebei"]}
    )
    with pytest.raises(ContentError, match=r"province 'hebei' is not in provinces\.yaml"):
        check_references(notices(), table)


def test_broken_yaml_names_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "broken-2022.yaml").write_text(
        "title: 测试通知\nexam_year: 2022\nprovince: null\n"
        "facts:\n  - id: no-source\n    text: 缺少出处的事实。\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as err:
        load_notices(tmp_path)
    message = str(err.value)
    assert "broken-2022.yaml" in message
    assert "entry 'no-source'" in message
    assert "facts.0.source" in message


def test_overlong_text_and_bad_dates_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "long.yaml").write_text(
        "title: 测试\nexam_year: 2022\nprovince: null\n"
        f"facts:\n  - id: long\n    text: {'长' * 200}\n"
        "    source: {notice: long, section: 一}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match=r"facts\.0\.text"):
        load_notices(tmp_path)
    (tmp_path / "long.yaml").write_text(
        "title: 测试\nexam_year: 2022\nprovince: null\ntimeline:\n"
        "  - {id: x, what: 审核, start: 2022-02-27, end: 2022-02-14, text: 倒序,"
        " source: {notice: long, section: 一}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match="before start"):
        load_notices(tmp_path)


# --- spot checks written by hand from the notices ---------------------------------------


def _registered_by(notice: Notice, education: str) -> dt.date:
    """The registration deadline a notice sets for this education level (must exist)."""
    limit = notice.limit(education)
    assert limit is not None, education
    return limit.registered_by


def test_liaoning_2025_registration_limits() -> None:
    n = notices()["liaoning-2025"]
    assert _registered_by(n, "专科") == dt.date(2023, 8, 22)
    assert _registered_by(n, "中专") == dt.date(2020, 8, 22)
    # It writes "前" without "（含）", so inclusiveness stays unstated.
    assert all(x.inclusive is None and x.exam_year == 2025 for x in n.registration_limits)
    assert all(x.source.section == "一(一)" for x in n.registration_limits)


def test_hebei_2022_registration_limits_are_inclusive() -> None:
    n = notices()["hebei-shijiazhuang-2022"]
    assert _registered_by(n, "专科") == dt.date(2020, 8, 18)
    assert _registered_by(n, "中专") == dt.date(2017, 8, 18)
    assert all(x.inclusive is True and "（含）" in x.text for x in n.registration_limits)


def test_sichuan_2024_registration_limits() -> None:
    n = notices()["sichuan-2024"]
    assert _registered_by(n, "专科") == dt.date(2022, 8, 31)
    assert _registered_by(n, "中专") == dt.date(2019, 8, 31)
    assert all(x.source.section == "二(一)" for x in n.registration_limits)


def test_jiangxi_sets_no_registration_limit_or_fee() -> None:
    n = notices()["jiangxi-2022"]
    assert n.registration_limits == () and n.payment is None


def test_hebei_fee_payment_and_refund() -> None:
    pay = notices()["hebei-shijiazhuang-2022"].payment
    assert pay is not None
    assert [f.amount_yuan for f in pay.fees] == [289]
    assert pay.fees[0].source.section == "四(一)"
    assert pay.platform is not None and "易宝支付" in pay.platform.text
    assert pay.refund is not None and "不予退费" in pay.refund.text
    assert len(pay.methods) == 3
    # Only Hebei's notice states a fee.
    assert [k for k, n in notices().items() if n.payment] == ["hebei-shijiazhuang-2022"]


def test_hebei_contact_phone_and_hours() -> None:
    office = notices()["hebei-shijiazhuang-2022"].contacts[0]
    assert office.phone == "0311-67502380"
    assert office.hours == "工作日 上午：9:00-11:30 下午：13:00-17:00"
    assert office.source.section == "五、8."


def test_timelines() -> None:
    jx = {e.id: e for e in notices()["jiangxi-2022"].timeline}
    assert (jx["material-upload"].start, jx["material-upload"].end) == (
        dt.date(2022, 1, 25),
        dt.date(2022, 2, 14),
    )
    assert jx["military-on-site-review"].end == dt.date(2022, 2, 27)
    sc = {e.id: e for e in notices()["sichuan-2024"].timeline}
    assert sc["material-upload"].text == "2024年1月22日至2月4日24时"
    assert (sc["military-on-site-review"].start, sc["military-on-site-review"].end) == (
        dt.date(2024, 2, 21),
        dt.date(2024, 3, 5),
    )
    hb = {e.id: e for e in notices()["hebei-shijiazhuang-2022"].timeline}
    assert hb["online-registration"].end == dt.date(2022, 1, 25)
    assert hb["online-review"].start == dt.date(2022, 2, 14)
    assert notices()["liaoning-2025"].timeline == ()  # its text gives no dates


def test_submit_step_differs_by_province() -> None:
    modes = {k: n.submit_step.mode for k, n in notices().items() if n.submit_step}
    assert modes == {
        "jiangxi-2022": "auto_save",
        "upload-guide": "auto_save",
        "liaoning-2025": "button",
        "hebei-shijiazhuang-2022": "button",
        "sichuan-2024": "button",
    }
    jiangxi = notices()["jiangxi-2022"].submit_step
    assert jiangxi is not None and "没有提交按钮" in jiangxi.text
    assert jiangxi.source.section == "附件1 二(四)"


def test_sichuan_guide_version_and_sms_window() -> None:
    n = notices()["sichuan-2024"]
    assert "V.2301" in n.attachments["附件"]
    sms = n.fact("sms-24-hours")
    assert sms is not None and "24小时之内登陆报名网站" in sms.text
    assert sms.source.section == "附件 六"


def test_upload_guide_limits() -> None:
    n = notices()["upload-guide"]
    assert n.province is None
    assert notices()["jiangxi-2022"].shared_guide == "upload-guide"
    size = n.fact("image-format-size")
    assert size is not None and "200k" in size.text and "jpg/jpeg/png" in size.text
    phone = n.fact("faq-phone-upload")
    assert phone is not None and "1500kb" in phone.text
    assert phone.source.section == "附件3 问题4"
    photo = n.fact("faq-photo-30k")
    assert photo is not None and "30K" in photo.text
    status = n.fact("faq-status")
    assert status is not None
    assert all(word in status.text for word in ("填报", "考点通过", "审核通过", "审核拒绝"))
    success = n.fact("faq-watermark-success")
    assert success is not None and "水印" in success.text


def test_province_specific_rules_are_not_borrowed() -> None:
    jx, ln = notices()["jiangxi-2022"], notices()["liaoning-2025"]
    hb, sc = notices()["hebei-shijiazhuang-2022"], notices()["sichuan-2024"]
    # 专升本 after 2015-09-01: Liaoning, Hebei, Sichuan say it; Jiangxi asks every 专升本.
    for n in (ln, hb, sc):
        fact = n.fact("zhuanshengben-2015")
        assert fact is not None and "2015年9月1日" in fact.text
    assert jx.fact("zhuanshengben-2015") is None
    assert jx.fact("zhuanshengben") is not None
    # 江西省职业教育信息网 is Jiangxi's; 学信网 备案表 is stated only by Jiangxi.
    zz = jx.fact("zhongzhuan-vocational-site")
    assert zz is not None and "江西省职业教育信息网" in zz.text
    assert not any("江西" in s for n in (ln, hb, sc) for s in _strings(n))
    # 带教老师 certificates: Hebei lists them on every materials path.
    assert all(any("带教老师" in i for i in m.items) for m in hb.materials)
    # Graduate candidates limited to in-province schools: not stated by Sichuan.
    assert sc.fact("graduate-in-province") is None
    assert hb.fact("short-line-no-fresh-graduates") is not None


def test_a_photo_limit_the_notice_does_not_state_is_refused():
    fact = Quote(notice="upload-guide", fact="image-format-size")  # …不超过200k
    Limit(max_kb=200, basis=fact).check()
    with pytest.raises(ContentError, match="150k is not what fact 'image-format-size'"):
        Limit(max_kb=150, basis=fact).check()
    assert photo_rules().max_bytes == 200 * 1024
    assert photo_rules().registration_max_bytes == 30 * 1024

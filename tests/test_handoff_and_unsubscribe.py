"""人工 hands the conversation to staff until 取消; unfollowing deletes the user's data."""

from __future__ import annotations

from tests.wechat_sim import WeChatSim


def test_handoff_forwards_messages_to_staff_until_cancelled(wechat: WeChatSim):
    user = wechat.user("o_human")
    assert "正在为您转接" in user.says("人工")
    forwarded = user.send(MsgType="text", Content="我的毕业证丢了怎么办", MsgId="555001")
    assert forwarded.reply["MsgType"] == "transfer_customer_service"
    assert "已结束人工服务" in user.says("取消")
    assert "医考助手可以" in user.says("帮助")


def test_cancel_with_nothing_in_progress(wechat: WeChatSim):
    assert "当前没有进行中的操作" in wechat.user("o_idle").says("取消")


def test_unsubscribe_deletes_the_conversation_data(wechat: WeChatSim):
    user = wechat.user("o_leaving")
    user.says("河北")
    assert user.event("unsubscribe").body == b"success"
    assert "您当前的考区：未设置" in user.says("帮助")


def test_one_users_keys_share_one_cluster_slot(wechat: WeChatSim, redis_client):
    from redis.cluster import key_slot

    user = wechat.user("o_slot")
    user.says("河北")
    user.says("人工")
    keys = [k for k in redis_client.keys("*") if b"o_slot" in k]
    assert len(keys) >= 3  # profile, message claims, rate counter, …
    assert len({key_slot(k) for k in keys}) == 1

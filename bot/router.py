"""The route table: which handler answers which message. The first matching route wins."""

from __future__ import annotations

from bot.content.menu import menu
from bot.content.provinces import provinces
from bot.conversation import Context, Predicate, Route
from bot.handlers import (
    binding,
    cancel,
    checklist,
    events,
    faq,
    handoff,
    help,
    paging,
    photos,
    province,
    review,
)
from bot.messages import Inbound

_EDGES = "\u3000，。！？、,.!?~～ \t\r\n"


def words_of(msg: Inbound) -> str:
    """What the user said: text, a voice message's recognition, or what a menu click stands for."""
    if msg.is_event and (msg.event or "").upper() == "CLICK":
        return menu().says(msg.event_key)
    # str.strip, not a regex: linear however many spaces are typed. A message that is nothing
    # but punctuation ("?") is kept as typed.
    return msg.text.strip(_EDGES) or msg.text


# -- predicates ---------------------------------------------------------------------------------
def event(*names: str) -> Predicate:
    wanted = {n.upper() for n in names}
    return lambda ctx: ctx.msg.is_event and (ctx.msg.event or "").upper() in wanted


def says(*commands: str) -> Predicate:
    wanted = {c.lower() for c in commands}
    return lambda ctx: ctx.text.lower() in wanted


def kind(*msg_types: str) -> Predicate:
    return lambda ctx: ctx.msg.msg_type in msg_types


def names_province(ctx: Context) -> bool:
    return provinces().declared_in(ctx.text)


def unheard_voice(ctx: Context) -> bool:
    return ctx.msg.msg_type == "voice" and not ctx.text


def has_text(ctx: Context) -> bool:
    return bool(ctx.text)


def always(ctx: Context) -> bool:
    return True


# -- the table ----------------------------------------------------------------------------------
# Note: order matters. Events come first; then commands that work in every state (取消 ends a
# handoff or a flow); then the handoff, which forwards everything else to the staff; help, 更多
# and 人工; binding (its walk-through takes the next message as a 报名号) and 我的审核; the
# checklist walk-through in progress (it takes province names and numbers as its
# answers); then provinces, replies to a numbered FAQ question, the checklist's commands,
# photos, and last free text: the FAQ.
ROUTES: tuple[Route, ...] = (
    Route(event("subscribe"), events.welcome),
    Route(event("unsubscribe"), events.forget),
    Route(event("TEMPLATESENDJOBFINISH"), events.template_finished),
    Route(event("SCAN", "VIEW", "LOCATION", "MASSSENDJOBFINISH"), events.acknowledge),
    Route(says("取消", "退出", "结束", "结束人工"), cancel.cancel),
    Route(handoff.is_active, handoff.forward),
    Route(says("帮助", "help", "菜单", "?", "？", "你好", "您好", "hi", "hello"), help.show_help),
    Route(says("更多", "下一页"), paging.next_page),
    Route(says("人工", "人工客服", "转人工", "客服", "联系人工"), handoff.start),
    Route(says(*binding.COMMANDS), binding.start),
    Route(binding.in_one_line, binding.one_line),
    Route(says("解绑", "解除绑定"), binding.unbind),
    Route(says("我的审核", "审核状态", "审核进度", "我的审核状态"), review.show),
    Route(binding.in_flow, binding.resume),
    Route(checklist.in_flow, checklist.resume),
    Route(says("选择考区", "切换考区", "设置考区", "考区", "选择省份"), province.choose),
    Route(faq.awaits_choice, faq.resolve_choice),
    Route(names_province, province.set_province),
    Route(says("重新开始"), checklist.start),
    Route(checklist.asks_for_list, checklist.show),
    Route(says("还差什么", "还缺什么", "还差哪些", "进度", "我的进度"), checklist.remaining),
    Route(checklist.ticks, checklist.tick),
    Route(checklist.describes_path, checklist.start),
    Route(says("报名照片", "检查报名照片", "证件照检查"), photos.registration_mode),
    Route(kind("image"), photos.check),
    Route(unheard_voice, help.voice_unrecognized),
    Route(kind("event"), events.acknowledge),
    Route(has_text, faq.answer),
    Route(always, help.unsupported),
)

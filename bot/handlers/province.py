"""Choosing the province (考区) whose notice the answers follow."""

from __future__ import annotations

from bot.content.knowledge import notices
from bot.content.provinces import provinces
from bot.content.texts import texts
from bot.conversation import Context
from bot.handlers import checklist


def choose(ctx: Context) -> str:
    """Asks which province the user belongs to."""
    return texts().province_choose.format(served=provinces().served)


def set_province(ctx: Context) -> str:
    """Remembers the province the user named and cites the notice answers will follow."""
    table = provinces()
    province = table.exact(ctx.text) or table.mentioned_in(ctx.text)
    if province is None:
        return unserved(ctx)
    ctx.profile.province = province.id
    notice = notices()[province.notice]
    cited = f"《{notice.title}》" + (f"（{notice.issuer}）" if notice.issuer else "")
    said = texts().province_set.format(province=province.name, notice=cited)
    # 「我是河北考生，大专毕业已经拿到助理证」 also says the path: go straight on to the list.
    if checklist.describes_path(ctx):
        return said + "\n\n" + checklist.start(ctx)
    return said


def unserved(ctx: Context) -> str:
    """A province we hold no notice for: say so, and list the ones we serve."""
    name = provinces().unserved_in(ctx.text) or ctx.text
    return texts().province_unserved.format(name=name, served=provinces().served)

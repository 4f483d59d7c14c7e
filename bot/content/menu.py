"""The custom menu (knowledge/menu.yaml): its buttons, and what a click stands for."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.content.loader import ROOT, load_model


class Button(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=8)
    key: str | None = Field(default=None, pattern=r"^[A-Z_]{1,64}$")
    says: str | None = None
    sub_buttons: tuple[Button, ...] = Field(default=(), max_length=5)

    @model_validator(mode="after")
    def _leaf_or_group(self) -> Button:
        if self.sub_buttons and (self.key or self.says):
            raise ValueError("a button has either sub_buttons or a key and says, not both")
        if not self.sub_buttons and not (self.key and self.says):
            raise ValueError("a button without sub_buttons needs key and says")
        return self

    def to_wechat(self) -> dict[str, Any]:
        if self.sub_buttons:
            return {"name": self.name, "sub_button": [b.to_wechat() for b in self.sub_buttons]}
        return {"type": "click", "name": self.name, "key": self.key}


class Menu(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    buttons: tuple[Button, ...] = Field(min_length=1, max_length=3)

    def to_wechat(self) -> dict[str, Any]:
        """The body of WeChat's menu/create call."""
        return {"button": [b.to_wechat() for b in self.buttons]}

    def says(self, key: str | None) -> str:
        """The words a click on `key` stands for ('' for a key not in the menu)."""
        leaves = [leaf for b in self.buttons for leaf in (b.sub_buttons or (b,))]
        return next((leaf.says or "" for leaf in leaves if leaf.key == key), "")


@cache
def menu() -> Menu:
    return load_model(ROOT / "knowledge" / "menu.yaml", Menu)

"""WeChat's message XML: inbound messages parsed into one typed model, replies rendered safely."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class MalformedMessage(Exception):
    """The body is not a WeChat message we can read (bad XML, a DTD, missing fields)."""


class Inbound(BaseModel):
    """One message or event as WeChat sends it; field names follow WeChat's XML tags."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    to_user: str = Field(alias="ToUserName", min_length=1)
    from_user: str = Field(alias="FromUserName", min_length=1, max_length=128)
    create_time: int = Field(alias="CreateTime")
    msg_type: str = Field(alias="MsgType", min_length=1)
    msg_id: str | None = Field(default=None, alias="MsgId")
    content: str | None = Field(default=None, alias="Content")
    media_id: str | None = Field(default=None, alias="MediaId")
    pic_url: str | None = Field(default=None, alias="PicUrl")
    recognition: str | None = Field(default=None, alias="Recognition")
    event: str | None = Field(default=None, alias="Event")
    event_key: str | None = Field(default=None, alias="EventKey")
    label: str | None = Field(default=None, alias="Label")
    title: str | None = Field(default=None, alias="Title")
    url: str | None = Field(default=None, alias="Url")
    status: str | None = Field(default=None, alias="Status")
    # TEMPLATESENDJOBFINISH spells it MsgID: the id of the template message it reports on.
    template_msg_id: str | None = Field(default=None, alias="MsgID")

    @property
    def openid(self) -> str:
        return self.from_user

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def dedupe_key(self) -> str:
        """MsgId for messages; CreateTime + Event (+ EventKey) for events, which have no MsgId.

        The key is stored under the user's own prefix, so FromUserName is part of it too.
        EventKey tells apart two menu clicks within one second (MsgID two template reports); a
        retry repeats it.
        """
        if self.msg_id:
            return self.msg_id
        # Two send-job reports can come in one second; their MsgID tells them apart.
        detail = self.event_key or self.template_msg_id or ""
        return f"{self.create_time}:{self.event or self.msg_type}:{detail}"

    @property
    def text(self) -> str:
        """What the user said: typed text, or a voice message's recognised words."""
        if self.msg_type == "text":
            return (self.content or "").strip()
        if self.msg_type == "voice":
            return (self.recognition or "").strip().rstrip("。！？.!?")
        return ""


def parse_xml(body: bytes) -> dict[str, str]:
    """Reads a flat WeChat XML document into tag → text; refuses DTDs, entities and bad XML."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedMessage(type(exc).__name__) from exc
    if root.tag != "xml":
        raise MalformedMessage("root element is not <xml>")
    return {child.tag: (child.text or "") for child in root}


def parse_inbound(fields: dict[str, str]) -> Inbound:
    try:
        return Inbound.model_validate(fields)
    except ValidationError as exc:
        raise MalformedMessage(f"{exc.error_count()} field error(s)") from exc


# -- replies ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    content: str


@dataclass(frozen=True)
class Image:
    media_id: str


@dataclass(frozen=True)
class TransferToSupport:
    """Hands the message to the Official Account's human customer-service staff."""


@dataclass(frozen=True)
class Silence:
    """Nothing to say now (WeChat expects the literal 'success'); any answer comes later."""


Reply = Text | Image | TransferToSupport | Silence


def cdata(value: str) -> str:
    """A CDATA section holding any text: ']]>' is split across two sections."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render(reply: Reply, inbound: Inbound, now: int | None = None) -> str:
    """The reply XML for WeChat, or '' for Silence (the webhook then answers 'success')."""
    if isinstance(reply, Silence):
        return ""
    head = (
        f"<ToUserName>{cdata(inbound.from_user)}</ToUserName>"
        f"<FromUserName>{cdata(inbound.to_user)}</FromUserName>"
        f"<CreateTime>{int(now if now is not None else time.time())}</CreateTime>"
    )
    if isinstance(reply, Text):
        body = f"<MsgType>{cdata('text')}</MsgType><Content>{cdata(reply.content)}</Content>"
    elif isinstance(reply, Image):
        media = f"<MediaId>{cdata(reply.media_id)}</MediaId>"
        body = f"<MsgType>{cdata('image')}</MsgType><Image>{media}</Image>"
    else:
        body = f"<MsgType>{cdata('transfer_customer_service')}</MsgType>"
    return f"<xml>{head}{body}</xml>"


def dump_reply(reply: Reply) -> str:
    """A compact form of a reply for the retry cache: a kind letter, then the payload."""
    if isinstance(reply, Text):
        return "T" + reply.content
    if isinstance(reply, Image):
        return "I" + reply.media_id
    return "X" if isinstance(reply, TransferToSupport) else "S"


def load_reply(raw: str) -> Reply:
    kind, value = raw[:1], raw[1:]
    if kind == "T":
        return Text(value)
    if kind == "I":
        return Image(value)
    return TransferToSupport() if kind == "X" else Silence()

"""The bot's own words (knowledge/replies.yaml): welcome, help, and the replies of the core."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from bot.content.loader import ROOT, load_model

Said = str  # a non-empty user-facing text; placeholders in {braces}


class BotTexts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    welcome: Said = Field(min_length=1)
    help: Said = Field(min_length=1)
    unsupported: Said = Field(min_length=1)
    voice_unrecognized: Said = Field(min_length=1)
    province_set: Said = Field(min_length=1)
    province_unserved: Said = Field(min_length=1)
    more_none: Said = Field(min_length=1)
    handoff_started: Said = Field(min_length=1)
    handoff_ended: Said = Field(min_length=1)
    cancelled: Said = Field(min_length=1)
    nothing_to_cancel: Said = Field(min_length=1)
    no_answer: Said = Field(min_length=1)
    faq_answer: Said = Field(min_length=1)
    faq_did_you_mean: Said = Field(min_length=1)
    faq_ask_province: Said = Field(min_length=1)
    faq_silent: Said = Field(min_length=1)
    contact_phone: Said = Field(min_length=1)
    contact_phone_no_hours: Said = Field(min_length=1)
    contact_note: Said = Field(min_length=1)
    rate_limited: Said = Field(min_length=1)
    busy: Said = Field(min_length=1)
    internal_error: Said = Field(min_length=1)
    unknown_province: Said = Field(min_length=1)
    province_choose: Said = Field(min_length=1)
    checklist_question: Said = Field(min_length=1)
    checklist_date_question: Said = Field(min_length=1)
    checklist_not_understood: Said = Field(min_length=1)
    checklist_needs_province: Said = Field(min_length=1)
    checklist_no_path: Said = Field(min_length=1)
    checklist_not_eligible: Said = Field(min_length=1)
    checklist_limit_unclear: Said = Field(min_length=1)
    checklist: Said = Field(min_length=1)
    checklist_ticked: Said = Field(min_length=1)
    checklist_missing: Said = Field(min_length=1)
    checklist_all_done: Said = Field(min_length=1)
    checklist_none_yet: Said = Field(min_length=1)
    checklist_bad_number: Said = Field(min_length=1)
    photo_received: Said = Field(min_length=1)
    photo_registration_mode: Said = Field(min_length=1)
    photo_ok: Said = Field(min_length=1)
    photo_ok_registration: Said = Field(min_length=1)
    photo_fixed: Said = Field(min_length=1)
    photo_fixed_registration: Said = Field(min_length=1)
    photo_unfixable: Said = Field(min_length=1)
    photo_problem_too_large: Said = Field(min_length=1)
    photo_problem_wrong_format: Said = Field(min_length=1)
    photo_problem_rotated: Said = Field(min_length=1)
    photo_problem_too_small: Said = Field(min_length=1)
    photo_problem_unreadable: Said = Field(min_length=1)
    photo_problem_too_many_pixels: Said = Field(min_length=1)
    bind_ask_registration: Said = Field(min_length=1)
    bind_ask_identity: Said = Field(min_length=1)
    bind_bad_registration: Said = Field(min_length=1)
    bind_bad_identity: Said = Field(min_length=1)
    bind_done: Said = Field(min_length=1)
    bind_mismatch: Said = Field(min_length=1)
    bind_code_mismatch: Said = Field(min_length=1)
    bind_cooldown: Said = Field(min_length=1)
    bind_taken: Said = Field(min_length=1)
    bind_has_other: Said = Field(min_length=1)
    bind_already: Said = Field(min_length=1)
    unbind_done: Said = Field(min_length=1)
    unbind_none: Said = Field(min_length=1)
    review_not_bound: Said = Field(min_length=1)
    review_heading: Said = Field(min_length=1)
    review_reminder: Said = Field(min_length=1)
    review_reminder_short: Said = Field(min_length=1)
    review_no_feedback: Said = Field(min_length=1)
    review_registration: Said = Field(min_length=1)
    review_status: Said = Field(min_length=1)
    review_lock: Said = Field(min_length=1)
    review_payment: Said = Field(min_length=1)
    review_feedback: Said = Field(min_length=1)
    review_next: Said = Field(min_length=1)
    review_changed: Said = Field(min_length=1)
    basis: Said = Field(min_length=1)


@cache
def texts() -> BotTexts:
    return load_model(ROOT / "knowledge" / "replies.yaml", BotTexts)

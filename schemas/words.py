"""The service's codes in words, at the edge, in the reader's language (``service/codes.py``).

Each code has a template per language; a parameter that is itself a code (the ``cause`` of a move)
is put into words first. English is the only language yet; Bahasa Indonesia is a second table
here, and changes no stored row. A code nobody wrote words for is shown as its name, and text
stored before codes existed (or written by people) is shown as it is.
"""
from __future__ import annotations

from typing import Any

TASK_TYPES = {"verification_visit": "Verification visit", "hygiene_inspection": "Hygiene inspection",
              "nutrition_check": "Nutrition check", "school_visit": "School visit", "follow_up": "Follow-up",
              "complaint": "Complaint", "other": "Task"}

WORDS: dict[str, dict[str, str]] = {"en": {
    # why a recipient is at a stall, or at none
    "enrolled_placed": "enrolled: nearest eligible stall with room ({km:.1f} km)",
    "enrolled_unplaced": "enrolled: no eligible stall with room within {reach_km:g} km",
    "moved": "moved: stall {from_vendor_id} {cause} ({km:.1f} km)",
    "uncovered": "uncovered: stall {from_vendor_id} {cause}; no eligible stall with room within {reach_km:g} km",
    "placed": "placed: stall {vendor_id} {cause} ({km:.1f} km)",
    "rebalance_placed": "rebalance: placed at stall {vendor_id} ({km:.1f} km)",
    "rebalance_moved": "rebalance: moved from stall {from_vendor_id} ({km:.1f} km)",
    "rebalance_unplaced": "rebalance: no eligible stall with room within {reach_km:g} km",
    # what happened at a stall
    "stall_status": "is {status}",
    "certificate_expired": "hygiene certificate expired on {on}",
    "inspection_failed": "failed its hygiene inspection of {on}",
    "inspection_passed": "passed its hygiene inspection of {on}",
    "no_certificate": "has no hygiene certificate",
    "stall_changed": "changed: {changes}",
    "beyond_reach": "is beyond the program's reach of {reach_km:g} km",
    # why a meal was cancelled or missed
    "recipient_exited": "recipient exited",
    "recipient_paused": "recipient paused",
    "no_stall": "no stall may cook for the recipient",
    "claim_ended": "the volunteer who brought it no longer does",
    "not_confirmed": "not confirmed by the cut-off",
    # a flag, and the work the service opens and closes
    "unfed": "no meal delivered from {from} to {to} (failed or missed)",
    "task_title": "{type}: {subject}",
    "referral": "Referral from {agency}: {reason}",
    "unfed_follow_up": "Unfed three days: {subject}",
    "certificate_valid_until": "certificate valid until {on}",
    "no_valid_certificate": "no valid certificate: the stall may not cook until it passes",
    "no_longer_needed": "no longer needed: the recipient left or the stall closed",
    "flag_cleared": "flag cleared",
    "claim_follow_up": "Volunteer's help ended ({reason}): {subject}",
    "claim_ended_note": "The volunteer who helped this person no longer does ({reason}); they are uncovered again.",
    "volunteer_concern": "Volunteer's concern: {subject}",
    "complaint_task": "Complaint {tracking}: {category}",
    # where a complaint is, on its task (complaint_place, put together by _place)
    "complaint_place": "Where: {where}.",
    "place_village": "village {village}",
    "place_stall": "stall {stall_id} ({stall})",
    "place_on_complaint": "On complaint {complaint_id}: {sent}",
    "village_by_point": "the village whose centre is nearest the point",
    "village_by_elderly": "the reported person's",
    "village_by_stall": "the stall's",
    "stall_by_recipient": "none named: the stall that feeds the recipient named",
    "stall_by_point": "none named: the nearest to the point, {stall_m} m",
    "sent_point": "the point",
    "sent_address": "the address",
    "sent_media": "a link to a picture",
    "nowhere_found": "nothing found",
    "text": "{text}",
}}
# Additions to a template by a parameter that may be absent.
_WHY = {"cannot_keep": "cannot keep them", "may_not_cook": "may not cook"}


def words(value: Any, lang: str = "en") -> str | None:
    """``value`` (a code, text, or None) in words."""
    if value is None or isinstance(value, str):
        return value
    name = value.get("code")
    template = WORDS[lang].get(name)
    if template is None:
        return name
    params = {k: _param(k, v, lang) for k, v in value.items() if k != "code"}
    if name == "complaint_place":
        return _place(params, WORDS[lang])
    if name == "task_title":
        return f"{TASK_TYPES.get(params.get('type'), 'Task')}: {params['subject']}" if params.get("subject") \
            else TASK_TYPES.get(params.get("type"), "Task")
    try:
        said = template.format(**params)
    except (KeyError, ValueError, IndexError):
        return name
    if name == "rebalance_unplaced" and "from_vendor_id" in params and "why" in params:
        said += f"; stall {params['from_vendor_id']} {_WHY.get(params['why'], params['why'])}"
    if name == "referral":
        said = said[:200]
    return said


def _place(params: dict[str, Any], said: dict[str, str]) -> str:
    """Where a complaint is, from the parts its code holds: the village and the stall, each saying
    how it was found when the reporter did not name it, and what else is on the complaint."""
    parts = []
    if params.get("village"):
        how = said.get(f"village_by_{params.get('village_source')}")
        parts.append(said["place_village"].format(village=params["village"]) + (f" ({how})" if how else ""))
    if params.get("stall_id"):
        how = said.get(f"stall_by_{params.get('stall_source')}")
        stall = said["place_stall"].format(stall_id=params["stall_id"], stall=params.get("stall") or "")
        parts.append(stall + (f" ({how.format(stall_m=params.get('stall_m'))})" if how else ""))
    text = said["complaint_place"].format(where="; ".join(parts) or said["nowhere_found"])
    sent = [said[f"sent_{key}"] for key in ("point", "address", "media") if params.get(key)]
    if sent and params.get("complaint_id"):
        text += " " + said["place_on_complaint"].format(complaint_id=params["complaint_id"], sent=", ".join(sent)) + "."
    return text


def _param(key: str, value: Any, lang: str) -> Any:
    if isinstance(value, dict) and "code" in value:
        return words(value, lang)
    if key == "changes" and isinstance(value, dict):
        return ", ".join(f"{field} {old} -> {new}" for field, (old, new) in value.items())
    return value

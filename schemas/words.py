"""The service's codes in words, at the edge, in the reader's language (``service/codes.py``).

Each code has a template per language; a parameter that is itself a code (the ``cause`` of a move)
is put into words first. The table is the request's language's (``service.i18n.language()``:
Bahasa Indonesia, ``id``, unless the reader chose English); a new code needs its words in
both tables (tests/test_i18n.py checks they hold the same codes). A code nobody wrote words for
is shown as its name, and text stored before codes existed (or written by people) is shown as it
is.
"""
from __future__ import annotations

from typing import Any

from service.i18n import LANGUAGES, language

TASK_TYPES = {"en": {"verification_visit": "Verification visit", "hygiene_inspection": "Hygiene inspection",
                     "nutrition_check": "Nutrition check", "school_visit": "School visit", "follow_up": "Follow-up",
                     "complaint": "Complaint", "other": "Task"},
              "id": {"verification_visit": "Kunjungan verifikasi", "hygiene_inspection": "Pemeriksaan higiene",
                     "nutrition_check": "Pemeriksaan gizi", "school_visit": "Kunjungan sekolah",
                     "follow_up": "Tindak lanjut", "complaint": "Pengaduan", "other": "Tugas"}}

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
}, "id": {
    # mengapa penerima manfaat dilayani warung ini, atau tidak oleh warung mana pun
    "enrolled_placed": "terdaftar: warung layak terdekat yang masih ada tempat ({km:.1f} km)",
    "enrolled_unplaced": "terdaftar: tidak ada warung layak yang masih ada tempat dalam {reach_km:g} km",
    "moved": "dipindahkan: warung {from_vendor_id} {cause} ({km:.1f} km)",
    "uncovered": "tidak terlayani: warung {from_vendor_id} {cause}; tidak ada warung layak yang masih ada tempat "
                 "dalam {reach_km:g} km",
    "placed": "ditempatkan: warung {vendor_id} {cause} ({km:.1f} km)",
    "rebalance_placed": "penyeimbangan: ditempatkan di warung {vendor_id} ({km:.1f} km)",
    "rebalance_moved": "penyeimbangan: dipindahkan dari warung {from_vendor_id} ({km:.1f} km)",
    "rebalance_unplaced": "penyeimbangan: tidak ada warung layak yang masih ada tempat dalam {reach_km:g} km",
    # apa yang terjadi pada warung
    "stall_status": "berstatus {status}",
    "certificate_expired": "sertifikat laik higienenya habis berlaku pada {on}",
    "inspection_failed": "tidak lulus pemeriksaan higiene tanggal {on}",
    "inspection_passed": "lulus pemeriksaan higiene tanggal {on}",
    "no_certificate": "tidak memiliki sertifikat laik higiene",
    "stall_changed": "berubah: {changes}",
    "beyond_reach": "berada di luar jangkauan program ({reach_km:g} km)",
    # mengapa makanan dibatalkan atau terlewat
    "recipient_exited": "penerima manfaat keluar dari program",
    "recipient_paused": "penerima manfaat sedang jeda",
    "no_stall": "tidak ada warung yang boleh memasak untuk penerima manfaat",
    "claim_ended": "relawan yang mengantarnya tidak lagi mengantar",
    "not_confirmed": "tidak dikonfirmasi sebelum batas waktu",
    # tanda, dan pekerjaan yang dibuka dan ditutup layanan
    "unfed": "tidak ada makanan yang diantar dari {from} sampai {to} (gagal atau terlewat)",
    "task_title": "{type}: {subject}",
    "referral": "Rujukan dari {agency}: {reason}",
    "unfed_follow_up": "Tiga hari tidak makan: {subject}",
    "certificate_valid_until": "sertifikat berlaku sampai {on}",
    "no_valid_certificate": "tidak ada sertifikat yang berlaku: warung tidak boleh memasak sampai lulus pemeriksaan",
    "no_longer_needed": "tidak diperlukan lagi: penerima manfaat keluar atau warung tutup",
    "flag_cleared": "tanda dicabut",
    "claim_follow_up": "Bantuan relawan berakhir ({reason}): {subject}",
    "claim_ended_note": "Relawan yang membantu orang ini tidak lagi membantu ({reason}); ia kembali tidak terlayani.",
    "volunteer_concern": "Kekhawatiran relawan: {subject}",
    "complaint_task": "Pengaduan {tracking}: {category}",
    # letak pengaduan, pada tugasnya
    "complaint_place": "Lokasi: {where}.",
    "place_village": "desa {village}",
    "place_stall": "warung {stall_id} ({stall})",
    "place_on_complaint": "Pada pengaduan {complaint_id}: {sent}",
    "village_by_point": "desa yang pusatnya paling dekat dengan titik",
    "village_by_elderly": "desa lansia yang dilaporkan",
    "village_by_stall": "desa warung",
    "stall_by_recipient": "tidak disebutkan: warung yang melayani penerima manfaat yang disebutkan",
    "stall_by_point": "tidak disebutkan: yang terdekat dengan titik, {stall_m} m",
    "sent_point": "titik lokasi",
    "sent_address": "alamat",
    "sent_media": "tautan ke gambar",
    "nowhere_found": "tidak ditemukan",
    "text": "{text}",
}}
# Additions to a template by a parameter that may be absent.
_WHY = {"en": {"cannot_keep": "cannot keep them", "may_not_cook": "may not cook"},
        "id": {"cannot_keep": "tidak dapat melayani mereka lagi", "may_not_cook": "tidak boleh memasak"}}
_STALL = {"en": "stall", "id": "warung"}


def words(value: Any, lang: str | None = None) -> str | None:
    """``value`` (a code, text, or None) in words, in ``lang`` (by default the request's)."""
    if value is None or isinstance(value, str):
        return value
    if lang not in LANGUAGES:
        lang = language()
    name = value.get("code")
    template = WORDS[lang].get(name)
    if template is None:
        return name
    params = {k: _param(k, v, lang) for k, v in value.items() if k != "code"}
    if name == "complaint_place":
        return _place(params, WORDS[lang])
    if name == "task_title":
        types = TASK_TYPES[lang]
        return f"{types.get(params.get('type'), types['other'])}: {params['subject']}" if params.get("subject") \
            else types.get(params.get("type"), types["other"])
    try:
        said = template.format(**params)
    except (KeyError, ValueError, IndexError):
        return name
    if name == "rebalance_unplaced" and "from_vendor_id" in params and "why" in params:
        said += f"; {_STALL[lang]} {params['from_vendor_id']} {_WHY[lang].get(params['why'], params['why'])}"
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

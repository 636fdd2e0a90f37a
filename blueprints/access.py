"""Who may call what: the one permission table of the service.

Every route's endpoint is listed here with the principals that may call it: ``coordinator``,
``agency:<kind>`` for agency staff (the agency's kind decides), ``vendor``, ``volunteer``, or
``PUBLIC`` for anyone without a token. A route missing from the table is refused to everyone,
and a test walks ``app.url_map`` so that no route ships without an entry. Rules about *which*
object a caller may touch (a stall's own deliveries) live in the handlers and the service.
"""
from __future__ import annotations

from service.accounts.models import REGISTRY_KINDS

COORDINATOR = "coordinator"
SOCIAL = "agency:social"
DATA = "agency:data"
HEALTH = "agency:health"
EDUCATION = "agency:education"
OTHER = "agency:other"
VENDOR = "vendor"
VOLUNTEER = "volunteer"

AGENCIES = frozenset({SOCIAL, DATA, HEALTH, EDUCATION, OTHER})
ANY_USER = frozenset({COORDINATOR, VENDOR, VOLUNTEER} | AGENCIES)
PUBLIC = "public"

# Everyone who works on the program; a stall sees only itself (the handlers see to that).
STAFF_AND_STALLS = frozenset({COORDINATOR, VENDOR} | AGENCIES)

# Registry staff: those who keep the recipient list and may see personal data (NIK, address).
REGISTRY_READERS = frozenset({COORDINATOR} | {f"agency:{kind}" for kind in REGISTRY_KINDS})

PERMISSIONS: dict[str, frozenset[str] | str] = {
    # documentation
    "api-docs.openapi_json": PUBLIC,
    "docs.page": PUBLIC,
    "docs.asset": PUBLIC,
    # pages (blueprints/pages): what every page shares
    "pages.asset": PUBLIC,
    "pages.service_worker": PUBLIC,
    "pages.index": PUBLIC,
    "pages.sign_in": PUBLIC,
    "pages.sign_out": PUBLIC,  # signed in or not: it ends whatever session there is
    "pages.choose_language": PUBLIC,
    # pages: the day's meals (a stall's own, a volunteer's own: the service sees to that)
    "meals.stall_day": frozenset({VENDOR}),
    "meals.volunteer_day": frozenset({VOLUNTEER}),
    "meals.confirm": frozenset({VENDOR, VOLUNTEER}),
    "meals.photo": frozenset({VENDOR, VOLUNTEER}),
    # the public's pages (blueprints/pages/public.py): as the complaints' and statistics' public routes
    "public.complaint_form": PUBLIC,
    "public.filed": PUBLIC,
    "public.track": PUBLIC,
    "public.complaint": PUBLIC,
    "public.reopen": PUBLIC,
    "public.statistics": PUBLIC,
    # the volunteers' pages (blueprints/pages/relawan.py): the public signs up; a volunteer in any
    # status reads their home (what their status means); the rest wants them approved (the service)
    "relawan.sign_up": PUBLIC,
    "relawan.signed_up": PUBLIC,
    "relawan.home": frozenset({VOLUNTEER}),
    "relawan.take": frozenset({VOLUNTEER}),
    "relawan.claim": frozenset({VOLUNTEER}),
    "relawan.release": frozenset({VOLUNTEER}),
    "relawan.log_visit": frozenset({VOLUNTEER}),
    # the dashboard (blueprints/pages/dasbor.py): the program office and the agencies; each part of a
    # page is shown only to those its API route lets in (dasbor.may), and an agency's view is its own
    "dasbor.overview": frozenset({COORDINATOR} | AGENCIES),
    "dasbor.village": frozenset({COORDINATOR} | AGENCIES),
    "dasbor.stall": frozenset({COORDINATOR} | AGENCIES),
    "dasbor.meals": frozenset({COORDINATOR} | AGENCIES),
    "dasbor.agency": frozenset({COORDINATOR} | AGENCIES),
    "dasbor.report": frozenset({COORDINATOR} | AGENCIES),
    # auth
    "auth.issue_token": PUBLIC,
    "auth.revoke_token": ANY_USER,
    "auth.me": ANY_USER,
    "auth.update_me": ANY_USER,
    "auth.change_password": ANY_USER,
    # program and areas
    "program.get_program": STAFF_AND_STALLS,
    "program.update_program": frozenset({COORDINATOR}),
    "program.list_regions": PUBLIC,  # the public chooses a region's door; staff see what they reach
    "program.update_region": frozenset({COORDINATOR}),  # of the region, or coordinating it
    "program.list_areas": PUBLIC,  # volunteers choose their village before they have an account
    "program.get_area": PUBLIC,
    "program.create_area": frozenset({COORDINATOR}),
    "program.list_leave_days": frozenset({COORDINATOR} | AGENCIES),
    "program.add_leave_day": frozenset({COORDINATOR}),
    "program.remove_leave_day": frozenset({COORDINATOR}),
    # agencies and users
    "agencies.list_agencies": STAFF_AND_STALLS,
    "agencies.create_agency": frozenset({COORDINATOR}),
    "agencies.list_users": frozenset({COORDINATOR}),
    "agencies.create_user": frozenset({COORDINATOR}),
    "agencies.update_user": frozenset({COORDINATOR}),
    "agencies.revoke_user_tokens": frozenset({COORDINATOR}),
    # recipients
    "recipients.create_recipient": frozenset({COORDINATOR, SOCIAL, DATA}),
    "recipients.import_recipients": frozenset({COORDINATOR, SOCIAL, DATA}),
    "recipients.list_recipients": REGISTRY_READERS,
    "recipients.get_recipient": REGISTRY_READERS,
    "recipients.update_recipient": frozenset({COORDINATOR, SOCIAL, DATA}),
    "recipients.verify_recipient": frozenset({COORDINATOR, SOCIAL}),
    "recipients.enrol_recipient": frozenset({COORDINATOR, SOCIAL}),
    "recipients.pause_recipient": frozenset({COORDINATOR, SOCIAL}),
    "recipients.change_pause": frozenset({COORDINATOR, SOCIAL}),
    "recipients.cancel_pause": frozenset({COORDINATOR, SOCIAL}),
    "recipients.exit_recipient": frozenset({COORDINATOR, SOCIAL}),
    "recipients.list_uncovered": REGISTRY_READERS,
    "recipients.clear_flag": frozenset({COORDINATOR, SOCIAL}),
    # food stalls, inspections, assignment
    "vendors.create_vendor": frozenset({COORDINATOR}),
    "vendors.list_vendors": STAFF_AND_STALLS,
    "vendors.get_vendor": STAFF_AND_STALLS,
    "vendors.update_vendor": frozenset({COORDINATOR, VENDOR}),
    "vendors.record_inspection": frozenset({COORDINATOR, HEALTH}),
    "vendors.list_inspections": STAFF_AND_STALLS,
    "vendors.rebalance": frozenset({COORDINATOR}),
    # the daily loop
    "deliveries.schedule_deliveries": frozenset({COORDINATOR}),
    "deliveries.close_day": frozenset({COORDINATOR}),
    "deliveries.list_deliveries": STAFF_AND_STALLS,
    "deliveries.get_delivery": STAFF_AND_STALLS,
    "deliveries.confirm_delivery": frozenset({VENDOR, VOLUNTEER}),  # each its own meals
    "deliveries.upload_photo": frozenset({COORDINATOR, VENDOR, VOLUNTEER}),  # the coordinator after the cut-off
    "deliveries.get_photo": frozenset({COORDINATOR, VENDOR, VOLUNTEER}),
    "deliveries.manifest": frozenset({VENDOR}),
    "deliveries.statement": frozenset({COORDINATOR, VENDOR}),
    # coverage: counts only, no personal data
    "deliveries.get_coverage": frozenset({COORDINATOR} | AGENCIES),
    "deliveries.coverage_trend": frozenset({COORDINATOR} | AGENCIES),
    "deliveries.export_coverage": frozenset({COORDINATOR} | AGENCIES),
    # agency tasks, referrals, targets (an agency reaches its own tasks only: the handlers see to that)
    "tasks.create_task": frozenset({COORDINATOR} | AGENCIES),
    "tasks.list_tasks": frozenset({COORDINATOR} | AGENCIES),
    "tasks.get_task": frozenset({COORDINATOR} | AGENCIES),
    "tasks.update_task": frozenset({COORDINATOR} | AGENCIES),
    "tasks.complete_task": frozenset({COORDINATOR} | AGENCIES),
    "tasks.cancel_task": frozenset({COORDINATOR} | AGENCIES),
    "tasks.task_chain": frozenset({COORDINATOR} | AGENCIES),
    "tasks.push_logs": frozenset({COORDINATOR} | AGENCIES),
    "tasks.open_recurring": frozenset({COORDINATOR}),
    "tasks.create_target": frozenset({COORDINATOR}),
    "tasks.list_targets": frozenset({COORDINATOR} | AGENCIES),
    "tasks.get_target": frozenset({COORDINATOR} | AGENCIES),
    "tasks.update_target": frozenset({COORDINATOR}),
    "tasks.sign_target": AGENCIES,
    "tasks.agency_performance": frozenset({COORDINATOR} | AGENCIES),
    # volunteers: the public signs up; the coordinator and the social agency vet and end claims; a
    # volunteer, in any status, reads and edits their own record; once approved, finds people near
    # them, takes them on, brings their meals (confirmed as a stall's are) and logs visits
    "volunteers.sign_up": PUBLIC,
    "volunteers.list_volunteers": frozenset({COORDINATOR, SOCIAL}),
    "volunteers.get_volunteer": frozenset({COORDINATOR, SOCIAL}),
    "volunteers.approve_volunteer": frozenset({COORDINATOR, SOCIAL}),
    "volunteers.reject_volunteer": frozenset({COORDINATOR, SOCIAL}),
    "volunteers.suspend_volunteer": frozenset({COORDINATOR, SOCIAL}),
    "volunteers.reinstate_volunteer": frozenset({COORDINATOR, SOCIAL}),
    "volunteers.confirm_contact": frozenset({COORDINATOR, SOCIAL}),
    "volunteers.reject_contact": frozenset({COORDINATOR, SOCIAL}),
    "volunteers.get_own_record": frozenset({VOLUNTEER}),
    "volunteers.update_own_record": frozenset({VOLUNTEER}),
    "volunteers.close_own_account": frozenset({VOLUNTEER}),
    "volunteers.list_opportunities": frozenset({VOLUNTEER}),
    "volunteers.create_claim": frozenset({VOLUNTEER}),
    "volunteers.list_own_claims": frozenset({VOLUNTEER}),
    "volunteers.get_own_claim": frozenset({VOLUNTEER}),
    "volunteers.release_claim": frozenset({VOLUNTEER}),
    "volunteers.volunteer_manifest": frozenset({VOLUNTEER}),
    "volunteers.log_visit": frozenset({VOLUNTEER}),
    "volunteers.list_own_visits": frozenset({VOLUNTEER}),
    "volunteers.list_claims": frozenset({COORDINATOR, SOCIAL}),
    "volunteers.end_claim": frozenset({COORDINATOR, SOCIAL}),
    # complaints: the public files, follows (by code) and reopens; the coordinator triages and routes;
    # an agency reaches the complaints it answers for (the service sees to that); statistics for all
    "complaints.file_complaint": PUBLIC,
    "complaints.read_complaint": PUBLIC,
    "complaints.reopen_complaint": PUBLIC,
    "complaints.list_complaints": frozenset({COORDINATOR} | AGENCIES),
    "complaints.get_complaint": frozenset({COORDINATOR} | AGENCIES),
    "complaints.forward_complaint": frozenset({COORDINATOR} | AGENCIES),
    "complaints.start_complaint": frozenset({COORDINATOR} | AGENCIES),
    "complaints.answer_complaint": frozenset({COORDINATOR} | AGENCIES),
    "complaints.close_complaint": frozenset({COORDINATOR} | AGENCIES),
    "complaints.reject_complaint": frozenset({COORDINATOR} | AGENCIES),
    "complaints.list_routes": frozenset({COORDINATOR}),
    "complaints.set_route": frozenset({COORDINATOR}),
    "complaints.public_stats": PUBLIC,
    # Open311 GeoReport v2: civic reporting apps, without accounts
    "open311.list_services": PUBLIC,
    "open311.create_request": PUBLIC,
    "open311.get_request": PUBLIC,
    "open311.list_requests": PUBLIC,
    # audit
    "audit.list_audit_events": frozenset({COORDINATOR}),
}


def allowed(endpoint: str) -> frozenset[str] | str | None:
    """The principals allowed on ``endpoint``, ``PUBLIC``, or None when it is not declared."""
    return PERMISSIONS.get(endpoint)


def describe(endpoint: str) -> str:
    rule = allowed(endpoint)
    if rule is None:
        return "Nobody (undeclared)."
    if rule == PUBLIC:
        return "Public: no token needed."
    if rule == ANY_USER:
        return "Any signed-in user."
    return "Allowed: " + ", ".join(sorted(rule)) + "."

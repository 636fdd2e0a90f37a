"""Every model, imported in one place so the metadata (and Alembic) sees the whole schema."""
from service.accounts.models import Agency, ApiToken, User
from service.assignments.models import Assignment
from service.audit.models import AuditEvent
from service.complaints.models import Complaint, ComplaintEvent, ComplaintRoute
from service.deliveries.models import CoverageDay, Delivery, DeliveryDay, DeliveryPhoto
from service.idempotency.models import IdempotencyRecord
from service.program.models import Area, LeaveDay, MealPrice, Program
from service.recipients.models import Pause, Recipient
from service.targets.models import Signatory, Target
from service.tasks.models import Task
from service.vendors.models import Inspection, Vendor
from service.volunteers.models import Volunteer

__all__ = ["Agency", "ApiToken", "Area", "Assignment", "AuditEvent", "Complaint", "ComplaintEvent", "ComplaintRoute",
           "CoverageDay", "Delivery", "DeliveryDay", "DeliveryPhoto", "IdempotencyRecord", "Inspection", "LeaveDay",
           "MealPrice", "Pause", "Program", "Recipient", "Signatory", "Target", "Task", "User", "Vendor", "Volunteer"]

"""Every table of the store, by area. Importing this package registers them all (the
migrations do exactly that), and each is importable from here or from its area module.

Every table has a natural key with a unique constraint, so that writing the same thing twice
writes it once. Datetimes are aware: SQLModel stores them in UTC (timestamptz on PostgreSQL) and
returns them in UTC; ``timetables.clock.local`` shows them in Europe/London.
"""

from store.models.canvass import (
    CanvassAttachment,
    CanvassImport,
    CanvassProperty,
    CanvassReport,
)
from store.models.core import (
    DateOverride,
    Election,
    Poll,
    Reminder,
    TimetableEvent,
    WorkDependency,
    WorkItem,
    WorkStatus,
    utcnow,
)
from store.models.documents import (
    Candidate,
    Document,
    DocumentDetails,
    DocumentStep,
    DocumentVersion,
)
from store.models.identity import (
    AccessToken,
    Account,
    Council,
    Role,
    SignInLink,
    WebSession,
)
from store.models.people import (
    DEFAULT_ROLES,
    ROLES,
    SIGNOFF_ROLES,
    Person,
    PersonRole,
)
from store.models.records import (
    AuditEntry,
    Notification,
    NotificationStatus,
)
from store.models.staff import (
    PollingDistrict,
    PollingPlace,
    PollingStation,
    StaffingPlan,
    StaffMember,
    StaffOffer,
    StaffPost,
    StaffRecruitment,
    TrainingBooking,
    TrainingSession,
)

__all__ = [
    "WorkStatus",
    "utcnow",
    "Poll",
    "Election",
    "DateOverride",
    "TimetableEvent",
    "WorkItem",
    "WorkDependency",
    "Reminder",
    "Role",
    "Account",
    "WebSession",
    "AccessToken",
    "SignInLink",
    "Council",
    "DEFAULT_ROLES",
    "ROLES",
    "SIGNOFF_ROLES",
    "Person",
    "PersonRole",
    "NotificationStatus",
    "Notification",
    "AuditEntry",
    "PollingPlace",
    "PollingStation",
    "PollingDistrict",
    "StaffMember",
    "StaffingPlan",
    "StaffRecruitment",
    "StaffPost",
    "StaffOffer",
    "TrainingSession",
    "TrainingBooking",
    "CanvassImport",
    "CanvassProperty",
    "CanvassReport",
    "CanvassAttachment",
    "Candidate",
    "DocumentDetails",
    "Document",
    "DocumentVersion",
    "DocumentStep",
]

"""Import every model so that the metadata is complete (Alembic, tests)."""
from assembly.accounts.models import LoginSession, PasswordResetToken, User
from assembly.assemblies.models import AgendaItem, Assembly, Ballot, BallotPaper, BallotResult, Participation
from assembly.assisted.models import AssistedEntry
from assembly.audit.models import AuditEvent
from assembly.consultations.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationDocument,
    ConsultedNeighbourhood,
)
from assembly.cases.models import ApiToken, Case, CaseConfirmation, CaseEvent, CaseSequence, IdempotentRequest
from assembly.db import Base
from assembly.meetings.models import Meeting, MeetingBody, MeetingNeighbourhood, MeetingQuestion, QuestionSupport
from assembly.neighbourhoods.models import (
    Body,
    BodyStaff,
    Category,
    InviteCode,
    Membership,
    Municipality,
    Neighbourhood,
)
from assembly.notifications.models import Notification, OutboxEmail
from assembly.promises.models import (
    Commitment,
    CommitmentBody,
    CommitmentEvent,
    FollowUpReport,
    Promise,
    PromiseBody,
    PromiseFollow,
    PromiseNeighbourhood,
    PromiseProposal,
    PromiseSurvey,
    ReportComment,
)
from assembly.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyNeighbourhood,
    SurveyParticipation,
    SurveyQuestion,
    SurveyText,
)
from assembly.photos.models import Photo
from assembly.proposals.models import (
    Comment,
    Follow,
    ModerationAction,
    Proposal,
    ProposalEvent,
    ProposalVersion,
    Report,
    Support,
)
from assembly.submissions import FormSubmission
from assembly.sms.models import OutboxSms, PhoneCode

__all__ = [
    "Consultation", "ConsultationAnswer", "ConsultationDocument", "ConsultedNeighbourhood",
    "ApiToken", "Case", "CaseConfirmation", "CaseEvent", "Photo", "CaseSequence", "IdempotentRequest",
    "AgendaItem", "Assembly", "Ballot", "BallotPaper", "BallotResult", "Participation",
    "Comment", "Follow", "ModerationAction", "Proposal", "ProposalEvent", "ProposalVersion", "Report", "Support",
    "Meeting", "MeetingBody", "MeetingNeighbourhood", "MeetingQuestion", "QuestionSupport",
    "AssistedEntry", "OutboxSms", "PhoneCode",
    "AuditEvent", "Base", "Body", "BodyStaff", "Category", "InviteCode", "LoginSession",
    "Membership", "Municipality", "Neighbourhood", "Notification", "OutboxEmail",
    "PasswordResetToken", "User", "FormSubmission",
    "Commitment", "CommitmentBody", "CommitmentEvent", "FollowUpReport", "Promise", "PromiseBody", "PromiseFollow",
    "PromiseNeighbourhood", "PromiseProposal", "PromiseSurvey", "ReportComment",
    "Survey", "SurveyAnswer", "SurveyNeighbourhood", "SurveyParticipation", "SurveyQuestion", "SurveyText",
]

"""The data model, one module per aggregate. Importing this package registers every table."""

from models.audit import AuditLog
from models.contacts import Contact, ContactImport
from models.documents import Document, DocumentAccess, DocumentVersion
from models.identities import WechatIdentity
from models.meetings import (
    Admission,
    Invitee,
    InviteeRole,
    Meeting,
    MeetingCode,
    MeetingSession,
    MeetingState,
    MeetingUnit,
    Organizer,
    OrganizerRight,
)
from models.reminders import Reminder, ReminderDelivery
from models.signins import SignIn, SignInDenial, SignInMethod
from models.surveys import Survey, SurveyParticipation, SurveyQuestion, SurveyResponse
from models.units import Unit, UnitAccount
from models.votes import Ballot, BallotChoice, Vote, VoteOption, VoteParticipation

__all__ = [
    "Admission", "AuditLog", "Ballot", "BallotChoice", "Contact", "ContactImport", "Document",
    "DocumentAccess", "DocumentVersion", "Invitee", "InviteeRole", "Meeting", "MeetingCode",
    "MeetingSession", "MeetingState", "MeetingUnit", "Organizer", "OrganizerRight", "Reminder",
    "ReminderDelivery", "SignIn", "SignInDenial", "SignInMethod", "Survey", "SurveyParticipation",
    "SurveyQuestion", "SurveyResponse", "Unit", "UnitAccount", "Vote", "VoteOption",
    "VoteParticipation", "WechatIdentity",
]

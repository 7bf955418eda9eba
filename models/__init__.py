"""The data model, one module per aggregate. Importing this package registers every table."""

from models.audit import AuditLog
from models.buses import BusAssignment, BusCar, BusRoute
from models.confidentiality import ConfidentialityConfirmation, ConfidentialityTerms
from models.console import SystemAdmin, UnitOrganizer
from models.contacts import Contact, ContactImport
from models.desks import CodeRevocation, Desk, DeskScan
from models.documents import Document, DocumentAccess, DocumentVersion
from models.identities import WechatIdentity
from models.jobs import Job
from models.lodging import Hotel, LodgingState, Room, RoomAssignment, RoomType
from models.meals import MealAssignment, MealSitting, MealTable
from models.meetings import (
    Admission,
    Invitee,
    InviteeRole,
    Leave,
    Meeting,
    MeetingCode,
    MeetingSession,
    MeetingState,
    MeetingUnit,
    Organizer,
    OrganizerRight,
    Presence,
)
from models.notices import Notice, NoticeDelivery, NoticeRecipient
from models.registrations import FormAccess, Registration, RegistrationForm, RegistrationStatus
from models.reminders import Reminder, ReminderDelivery
from models.seating import SeatAssignment, SeatNumbering, SeatPlan
from models.service_cards import CardScope, ServiceCard
from models.signins import SignIn, SignInDenial, SignInMethod
from models.surveys import Survey, SurveyParticipation, SurveyQuestion, SurveyResponse
from models.units import Unit, UnitAccount
from models.votes import Ballot, BallotChoice, Vote, VoteOption, VoteParticipation

__all__ = [
    "Admission", "AuditLog", "CodeRevocation", "Desk", "DeskScan", "Ballot", "BallotChoice", "ConfidentialityConfirmation", "ConfidentialityTerms",
    "Contact", "ContactImport", "Document",
    "DocumentAccess", "DocumentVersion", "Invitee", "InviteeRole", "Job", "Leave", "Meeting", "MeetingCode",
    "MeetingSession", "MeetingState", "MeetingUnit", "Notice", "NoticeDelivery", "NoticeRecipient", "Organizer", "OrganizerRight", "Presence", "Reminder",
    "ReminderDelivery", "SignIn", "SignInDenial", "SignInMethod", "Survey", "SurveyParticipation",
    "SurveyQuestion", "SurveyResponse", "SystemAdmin", "Unit", "UnitAccount", "UnitOrganizer", "Vote", "VoteOption",
    "VoteParticipation", "WechatIdentity",
    "CardScope", "ServiceCard",
    "FormAccess", "Registration", "RegistrationForm", "RegistrationStatus",
    "Hotel", "LodgingState", "Room", "RoomAssignment", "RoomType",
    "SeatAssignment", "SeatNumbering", "SeatPlan",
    "BusAssignment", "BusCar", "BusRoute", "MealAssignment", "MealSitting", "MealTable",
]

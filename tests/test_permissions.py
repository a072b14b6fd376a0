"""The policy module, as one table: role × action × object in the role's own or another neighbourhood."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from assembly import permissions
from assembly.accounts.services import identity_for_login_token, start_login_session
from assembly.db import db, utcnow
from assembly.errors import NotAllowed
from assembly.neighbourhoods import directory, residents, structure
from assembly.neighbourhoods.models import BodyStaff
from assembly.proposals.models import Comment, Proposal
from tests import factories
from tests.support import counting_statements

ROLES = ("visitor", "member", "pending", "resident", "muhtar", "staff", "admin")

# One row per (action, kind of object). Each cell is two letters for one role, in the order of ROLES:
# the answer for an object of the role's own neighbourhood (or own body), then for another one.
# "member" is logged in but belongs nowhere; "pending" has asked to join the own neighbourhood.
TABLE: dict[tuple[str, str], str] = {
    #                                              visitor member pending resident muhtar staff admin
    ("view_neighbourhood", "neighbourhood"):       "YY YY YY YY YY YY YY",
    ("view_proposal", "proposal"):                 "YY YY YY YY YY YY YY",
    ("view_proposal", "someone's draft"):          "NN NN NN NN NN NN NN",
    ("view_proposal", "own draft"):                "NN YY YY YY YY YY YY",
    ("manage_own_account", "nothing"):             "NN YY YY YY YY YY YY",
    ("read_notifications", "nothing"):             "NN YY YY YY YY YY YY",
    ("request_membership", "neighbourhood"):       "NN YY NN NN YY YY YY",
    ("redeem_invite", "nothing"):                  "NN YY NN NN YY YY YY",
    ("report", "proposal"):                        "NN NN NN YN NN NN NN",
    ("report", "comment"):                         "NN NN NN YN NN NN NN",
    ("follow", "proposal"):                        "NN YY YY YY YY YY YY",
    ("act_as_resident", "neighbourhood"):          "NN NN NN YN NN NN NN",
    ("create_proposal", "neighbourhood"):          "NN NN NN YN NN NN NN",
    ("support_proposal", "proposal"):              "NN NN NN YN NN NN NN",
    ("support_proposal", "own proposal"):          "NN NN NN NN NN NN NN",
    ("vote", "item of the neighbourhood"):         "NN NN NN YN NN NN NN",
    ("comment", "proposal"):                       "NN NN NN YN YN NN NN",
    ("comment", "comment"):                        "NN NN NN YN YN NN NN",
    ("edit_proposal", "own proposal"):             "NN NN NN YN NN NN NN",
    ("edit_proposal", "proposal"):                 "NN NN NN NN NN NN NN",
    ("edit_comment", "own comment"):               "NN YY YY YY YY YY YY",
    ("edit_comment", "comment"):                   "NN NN NN NN NN NN NN",
    ("review_memberships", "neighbourhood"):       "NN NN NN NN YN NN NN",
    ("revoke_membership", "neighbourhood"):        "NN NN NN NN YN NN NN",
    ("issue_invite_codes", "neighbourhood"):       "NN NN NN NN YN NN NN",
    ("moderate", "proposal"):                      "NN NN NN NN YN NN NN",
    ("moderate", "comment"):                       "NN NN NN NN YN NN NN",
    ("hide_photo", "photo"):                       "NN NN NN NN YN NN NN",
    ("hide_photo", "photo on a question"):         "NN NN NN NN YN YN NN",
    ("hide_photo", "photo on a progress step"):    "NN NN NN NN YN NN NN",
    ("hide_proposal_photo", "proposal"):           "NN NN NN NN YN NN NN",
    ("attach_proposal_photo", "own proposal"):     "NN NN NN YN NN NN NN",
    ("attach_proposal_photo", "own draft"):        "NN NN NN YN NN NN NN",
    ("attach_proposal_photo", "own accepted proposal"): "NN NN NN NN NN NN NN",
    ("attach_proposal_photo", "proposal"):         "NN NN NN NN NN NN NN",
    ("view_proposal_photos", "proposal"):          "YY YY YY YY YY YY YY",
    ("view_proposal_photos", "hidden proposal"):   "NN NN NN NN YN NN NN",
    ("view_proposal_photos", "someone's draft"):   "NN NN NN NN NN NN NN",
    ("confirm_fix", "done case of own proposal"):  "NN YY YY YY YY YY YY",
    ("confirm_fix", "open case of own proposal"):  "NN NN NN NN NN NN NN",
    ("confirm_fix", "done case"):                  "NN NN NN NN NN NN NN",
    ("manage_assemblies", "neighbourhood"):        "NN NN NN NN YN NN NN",
    ("manage_assemblies", "item of the neighbourhood"): "NN NN NN NN YN NN NN",
    ("open_voting", "item of the neighbourhood"):  "NN NN NN NN YN NN NN",
    ("forward", "item of the neighbourhood"):      "NN NN NN NN YN NN NN",
    ("answer_consultation", "neighbourhood"):      "NN NN NN NN YN NN NN",
    ("view_muhtar_desk", "nothing"):               "NN NN NN NN YY NN NN",
    ("assist_residents", "neighbourhood"):         "NN NN NN NN YN NN NN",
    ("act_on_behalf", "resident's membership"):    "NN NN NN NN YN NN NN",
    ("act_on_behalf", "pending membership"):       "NN NN NN NN NN NN NN",
    ("act_on_behalf", "own membership"):           "NN NN NN NN NN NN NN",
    ("add_resident_contact", "assisted resident's membership"): "NN NN NN NN YN NN NN",
    ("add_resident_contact", "resident's membership"): "NN NN NN NN NN NN NN",
    ("add_resident_contact", "pending assisted membership"): "NN NN NN NN NN NN NN",
    ("act_for_body", "body"):                      "NN NN NN NN NN YN NN",
    ("act_for_body", "item sent to the body"):     "NN NN NN NN NN YN NN",
    ("manage_consultations", "body"):              "NN NN NN NN NN YN NN",
    ("manage_consultations", "item sent to the body"): "NN NN NN NN NN YN NN",
    ("view_staff_desk", "nothing"):                "NN NN NN NN NN YY NN",
    ("view_meeting", "meeting of the muhtars"):    "YY YY YY YY YY YY YY",
    ("view_meeting", "draft meeting of the muhtars"): "NN NN NN NN YN NN NN",
    ("create_meeting", "nothing"):                 "NN NN NN NN YY YY NN",
    ("organise_meeting", "meeting of the muhtars"): "NN NN NN NN YN NN NN",
    ("organise_meeting", "meeting of the body"):   "NN NN NN NN NN YN NN",
    ("ask_meeting_question", "meeting of the muhtars"): "NN NN NN YN NN NN NN",
    ("ask_meeting_question", "meeting of the body"): "NN NN NN YN NN NN NN",
    ("support_meeting_question", "question to the body"): "NN NN NN YN NN NN NN",
    ("answer_meeting_question", "question to the body"): "NN NN NN NN YN YN NN",
    ("commit_at_meeting", "question to the body"): "NN NN NN NN YN YN NN",
    ("attach_question_photo", "own question"):     "NN NN NN YN NN NN NN",
    ("attach_question_photo", "own question at a held meeting"): "NN NN NN NN NN NN NN",
    ("attach_question_photo", "question to the body"): "NN NN NN NN NN NN NN",
    ("view_question_photos", "question to the body"): "YY YY YY YY YY YY YY",
    ("view_question_photos", "question at a draft meeting"): "NN NN NN NN YN NN NN",
    ("hide_question_photo", "question to the body"): "NN NN NN NN YN NN NN",
    ("hide_question_photo", "question at the body's meeting"): "NN NN NN NN YN YN NN",
    ("create_survey", "neighbourhood"):            "NN NN NN NN YN YN NN",
    ("manage_survey", "survey of the neighbourhood"): "NN NN NN NN YN NN NN",
    ("manage_survey", "survey with the body"):     "NN NN NN NN YN YN NN",
    ("publish_survey", "survey with the body"):    "NN NN NN NN YN NN NN",
    ("enter_paper_survey", "survey of the neighbourhood"): "NN NN NN NN YN NN NN",
    ("moderate_survey", "survey of the neighbourhood"): "NN NN NN NN YN NN NN",
    ("view_promise", "published promise"):         "YY YY YY YY YY YY YY",
    ("view_promise", "draft promise"):             "NN NN NN NN YN YN NN",
    ("create_promise", "nothing"):                 "NN NN NN NN NN YY NN",
    ("manage_promise", "draft promise"):           "NN NN NN NN NN YN NN",
    ("manage_promise", "published promise"):       "NN NN NN NN NN YN NN",
    ("record_progress", "commitment of the body"): "NN NN NN NN NN YN NN",
    ("attach_progress_photo", "progress step of the body"): "NN NN NN NN NN YN NN",
    ("view_progress_photos", "progress step of the body"): "YY YY YY YY YY YY YY",
    ("view_progress_photos", "progress step of a draft promise"): "NN NN NN NN YN YN NN",
    ("hide_progress_photo", "progress step of the body"): "NN NN NN NN YN NN NN",
    ("cosign_promise", "draft promise"):           "NN NN NN NN YN NN NN",
    ("comment_promise", "published promise"):      "NN NN NN NN YN NN NN",
    ("administer", "nothing"):                     "NN NN NN NN NN NN YY",
    ("read_audit_log", "nothing"):                 "NN NN NN NN NN NN YY",
    ("appoint_muhtar", "neighbourhood"):           "NN NN NN NN NN NN YY",
    ("appoint_staff", "body"):                     "NN NN NN NN NN NN YY",
}


def expected(row: str, role: str) -> tuple[bool, bool]:
    cell = row.split()[ROLES.index(role)]
    return cell[0] == "Y", cell[1] == "Y"


def test_every_action_of_the_policy_is_in_the_table():
    """A new action in permissions.RULES must be added to TABLE (and an old one removed from it)."""
    in_table = {action for action, _ in TABLE}
    assert set(permissions.RULES) - in_table == set(), "actions missing from the permission table"
    assert in_table - set(permissions.RULES) == set(), "the table lists actions the policy no longer has"
    assert all(len(row.split()) == len(ROLES) and set(row) <= {"Y", "N", " "} for row in TABLE.values())


def _world():
    """Neighbourhoods and bodies: `own` (A, with body X) and `other` (B, with body Y)."""
    own, other = factories.neighbourhood(), factories.neighbourhood()
    bodies = {"own": factories.body(own.municipality), "other": factories.body(other.municipality)}
    for hood in (own, other):
        factories.muhtar(hood)  # each neighbourhood has its own muhtar besides the one under test
    stranger = factories.resident(own)
    return {"own": own, "other": other}, bodies, stranger


def _user_in_role(role: str, hoods_by_scope, bodies):
    if role == "visitor":
        return AnonymousUserMixin()
    if role == "member":
        return factories.user()
    if role == "pending":
        return factories.pending(hoods_by_scope["own"]).user
    if role == "resident":
        return factories.resident(hoods_by_scope["own"])
    if role == "muhtar":
        return factories.muhtar(hoods_by_scope["own"])
    if role == "staff":
        return factories.staff(bodies["own"])
    if role == "admin":
        return factories.admin()
    raise AssertionError(role)


def _object(kind: str, hood, body, actor_id, stranger_id):
    def proposal(author_id=stranger_id, status="open"):
        return Proposal(neighbourhood_id=hood.id, author_id=author_id, status=status, title="T", body="B")

    def meeting(status="open", organising_body_id=None):
        return SimpleNamespace(status=status, organising_body_id=organising_body_id, neighbourhood_ids={hood.id})

    def membership(user_id, status="verified", assisted=False):
        return SimpleNamespace(role="resident", status=status, neighbourhood_id=hood.id, user_id=user_id,
                               user=SimpleNamespace(id=user_id, assisted=assisted))

    def question(author_id=stranger_id, **meeting_values):
        return SimpleNamespace(meeting=meeting(**meeting_values), body_id=body.id, neighbourhood_id=hood.id,
                               author_id=author_id)

    def promise(public=True):
        return SimpleNamespace(public=public, body_ids={body.id}, neighbourhood_ids={hood.id})

    def progress_step(public=True):  # a CommitmentEvent recorded by the body
        return SimpleNamespace(body_id=body.id, commitment=SimpleNamespace(promise=promise(public)))

    makers = {
        "nothing": lambda: None,
        "neighbourhood": lambda: hood,
        "proposal": proposal,
        "someone's draft": lambda: proposal(status="draft"),
        "own draft": lambda: proposal(actor_id, "draft"),
        "own proposal": lambda: proposal(actor_id),
        "own accepted proposal": lambda: proposal(actor_id, "accepted"),
        "hidden proposal": lambda: Proposal(neighbourhood_id=hood.id, author_id=stranger_id, status="open",
                                            title="T", body="B", hidden_at=utcnow(), hidden_reason="R"),
        # Photos: `owner` is what Photo.owner loads by the kind.
        "photo": lambda: SimpleNamespace(owner_kind="proposal", owner=proposal(), neighbourhood_id=hood.id),
        "photo on a question": lambda: SimpleNamespace(owner_kind="question", neighbourhood_id=hood.id,
                                                       owner=question(organising_body_id=body.id)),
        "photo on a progress step": lambda: SimpleNamespace(owner_kind="progress", neighbourhood_id=hood.id,
                                                            owner=progress_step()),
        # A case (followers are in tests/test_fixed.py, which needs rows in the database).
        "done case of own proposal": lambda: SimpleNamespace(status="done", proposal=proposal(actor_id)),
        "open case of own proposal": lambda: SimpleNamespace(status="in_progress", proposal=proposal(actor_id)),
        "done case": lambda: SimpleNamespace(status="done", proposal=proposal()),
        "comment": lambda: Comment(proposal=proposal(), author_id=stranger_id, body="C"),
        "own comment": lambda: Comment(proposal=proposal(), author_id=actor_id, body="C"),
        "item of the neighbourhood": lambda: SimpleNamespace(neighbourhood_id=hood.id),
        "body": lambda: body,
        "item sent to the body": lambda: SimpleNamespace(body_id=body.id),
        "meeting of the muhtars": lambda: meeting(),
        "draft meeting of the muhtars": lambda: meeting(status="draft"),
        "meeting of the body": lambda: meeting(organising_body_id=body.id),
        "question to the body": lambda: SimpleNamespace(meeting=meeting(), body_id=body.id),
        "own question": lambda: question(actor_id),
        "own question at a held meeting": lambda: question(actor_id, status="held"),
        "question at a draft meeting": lambda: question(status="draft"),
        "question at the body's meeting": lambda: question(organising_body_id=body.id),
        "progress step of the body": progress_step,
        "progress step of a draft promise": lambda: progress_step(public=False),
        "resident's membership": lambda: membership(stranger_id),
        "pending membership": lambda: membership(stranger_id, "pending"),
        "own membership": lambda: membership(actor_id),
        "assisted resident's membership": lambda: membership(stranger_id, assisted=True),
        "pending assisted membership": lambda: membership(stranger_id, "pending", assisted=True),
        # a promise for the neighbourhood signed by the body; a commitment the body answers for
        "published promise": lambda: SimpleNamespace(public=True, body_ids={body.id}, neighbourhood_ids={hood.id}),
        "draft promise": lambda: SimpleNamespace(public=False, body_ids={body.id}, neighbourhood_ids={hood.id}),
        "commitment of the body": lambda: SimpleNamespace(body_ids={body.id}),
        "survey of the neighbourhood": lambda: SimpleNamespace(neighbourhood_ids={hood.id}, body_id=None),
        "survey with the body": lambda: SimpleNamespace(neighbourhood_ids={hood.id}, body_id=body.id),
    }
    return makers[kind]()


@pytest.mark.parametrize("role", ROLES)
def test_permission_table(ctx, role):
    hoods_by_scope, bodies, stranger = _world()
    actor = _user_in_role(role, hoods_by_scope, bodies)
    actor_id = getattr(actor, "id", None)
    wrong = []
    for (action, kind), row in TABLE.items():
        for scope, allowed in zip(("own", "other"), expected(row, role)):
            obj = _object(kind, hoods_by_scope[scope], bodies[scope], actor_id, stranger.id)
            if permissions.can(actor, action, obj) is not allowed:
                wrong.append(f"{role} {action} on {scope} {kind}: expected {'allowed' if allowed else 'refused'}")
    assert wrong == []


def test_unknown_actions_are_an_error(ctx):
    with pytest.raises(ValueError, match="unknown action"):
        permissions.can(factories.admin(), "launch_rockets")


def test_require_raises_not_allowed(ctx):
    hood = factories.neighbourhood()
    with pytest.raises(NotAllowed):
        permissions.require(factories.user(), "review_memberships", hood)
    permissions.require(factories.muhtar(hood), "review_memberships", hood)


def test_roles_follow_membership_decisions_within_one_context(ctx):
    """Services that change someone's roles drop the cached roles, so later checks see the change."""
    hood = factories.neighbourhood()
    boss = factories.muhtar(hood)
    person = factories.user()
    now = utcnow()
    membership = residents.request_membership(person, now, hood, "Street 1")
    assert not permissions.can(person, "act_as_resident", hood)
    assert not permissions.can(person, "request_membership", hood)
    residents.approve_membership(boss, now, hood, membership.id)
    assert permissions.can(person, "act_as_resident", hood)
    residents.revoke_membership(boss, now, hood, membership.id, "moved away")
    assert not permissions.can(person, "act_as_resident", hood)
    assert permissions.can(person, "request_membership", hood)

    other = factories.user()
    second = residents.request_membership(other, now, hood, "Street 2")
    assert not permissions.can(other, "request_membership", hood)
    residents.reject_membership(boss, now, hood, second.id, "unknown address")
    assert permissions.can(other, "request_membership", hood)


def test_roles_follow_appointments_within_one_context(ctx):
    hood = factories.neighbourhood()
    body = factories.body(hood.municipality)
    person = factories.user()
    assert not permissions.can(person, "review_memberships", hood)
    factories.muhtar(hood, person)
    factories.staff(body, person)
    assert permissions.can(person, "review_memberships", hood)
    assert permissions.can(person, "act_for_body", body)
    admin = factories.admin()
    structure.dismiss_muhtar(admin, utcnow(), directory.muhtars_of(hood)[0], "term ended")
    staff = db.session.scalar(select(BodyStaff).where(BodyStaff.user_id == person.id))
    structure.remove_staff(admin, utcnow(), staff)
    assert not permissions.can(person, "review_memberships", hood)
    assert not permissions.can(person, "act_for_body", body)



def test_the_identity_of_a_hot_path_brings_the_same_roles_in_its_one_statement(app, ctx):
    """`accounts.services.identity_for_login_token` reads who is logged in and their roles in one
    statement and keeps the roles for the request: the policy then answers as it does for the
    account loaded in full (resident since, pending, muhtar, staff), with no statement more."""
    home, ruled = factories.neighbourhood(), factories.neighbourhood()
    body = factories.body(home.municipality)
    person = factories.resident(home)
    factories.muhtar(ruled, person)
    factories.staff(body, person)
    applicant = factories.pending(home).user
    for who, allowed in ((person, (True, True, True)), (applicant, (False, False, False))):
        token = start_login_session(who, utcnow())
        full = permissions.Roles(who)
        permissions.forget_roles()
        with counting_statements(app, transaction_control=False) as statements:
            identity = identity_for_login_token(token, utcnow())
            roles = permissions.roles_of(identity)
            asked = (permissions.can(identity, "act_as_resident", home), permissions.can(identity, "act_for_body", body),
                     permissions.can(identity, "review_memberships", ruled))
        assert len(statements) == 1, statements
        assert asked == allowed
        assert (roles.residence, roles.pending, roles.muhtar_of, roles.staff_of) == \
            (full.residence, full.pending, full.muhtar_of, full.staff_of)
    assert roles.pending is not None
    assert permissions.roles_of(person).residence.verified_at.tzinfo is not None
    assert identity_for_login_token("not-a-token", utcnow()) is None

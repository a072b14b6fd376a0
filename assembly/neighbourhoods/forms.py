from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from assembly.neighbourhoods.invitations import MAX_INVITES_PER_BATCH


class JoinForm(FlaskForm):
    address = StringField(_l("Your address in the neighbourhood"), validators=[
        DataRequired(_l("Please give your address in the neighbourhood.")), Length(max=200)],
        description=_l("Only the muhtar sees it, to check that you live here."))


class InviteCodeForm(FlaskForm):
    code = StringField(_l("Invitation code"), validators=[
        DataRequired(_l("Please enter the code from your letter.")), Length(max=20)],
        description=_l("The code is printed on the letter from your muhtar, for example ABCD-EFGH."))


class IssueInvitesForm(FlaskForm):
    count = IntegerField(_l("Number of codes"), default=20, validators=[
        InputRequired(_l("Please enter a number.")),
        NumberRange(1, MAX_INVITES_PER_BATCH, _l("Enter a number between %(min)s and %(max)s."))])
    valid_days = IntegerField(_l("Valid for (days)"), default=60, validators=[
        InputRequired(_l("Please enter a number.")),
        NumberRange(1, 365, _l("Enter a number between %(min)s and %(max)s."))])

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from assembly.accounts.services import PASSWORD_MAX, PASSWORD_MIN
from assembly.forms import language_field

_email = [DataRequired(_l("Please enter your e-mail address.")),
          Email(_l("Please enter a valid e-mail address."), check_deliverability=False), Length(max=254)]


def _new_password(label):
    return PasswordField(label, validators=[
        DataRequired(_l("Please choose a password.")),
        Length(min=PASSWORD_MIN, max=PASSWORD_MAX,
               message=_l("The password must be between %(min)d and %(max)d characters long.")),
    ])


def _phone_field():
    return TelField(_l("Mobile phone number"), validators=[
        DataRequired(_l("Please enter your phone number.")), Length(max=32)])


class _NewAccountForm(FlaskForm):
    """What every new account gives, whether it signs in with an e-mail address or a phone number."""

    display_name = StringField(_l("Display name"), validators=[
        DataRequired(_l("Please enter a display name.")), Length(max=80)])
    password = _new_password(_l("Password"))
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(_l("Please repeat the password.")),
        EqualTo("password", _l("The two passwords do not match."))])
    locale = language_field(_l("Preferred language"))


class RegisterForm(_NewAccountForm):
    email = EmailField(_l("E-mail address"), validators=_email)


# A login or a lost password: an e-mail address or a phone number (the service tells which).
_login = [DataRequired(_l("Please enter your e-mail address or phone number.")), Length(max=254)]


class PhoneRegisterForm(_NewAccountForm):
    phone = _phone_field()


_code = [DataRequired(_l("Please enter the code from the SMS.")), Length(max=12)]


class ConfirmPhoneForm(FlaskForm):
    phone = _phone_field()
    code = StringField(_l("Code from the SMS"), validators=_code)


class LoginCodeRequestForm(FlaskForm):
    phone = _phone_field()


class LoginCodeForm(FlaskForm):
    code = StringField(_l("Code from the SMS"), validators=_code)


class PhoneResetForm(FlaskForm):
    code = StringField(_l("Code from the SMS"), validators=_code)
    password = _new_password(_l("New password"))
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(_l("Please repeat the password.")),
        EqualTo("password", _l("The two passwords do not match."))])


class LoginForm(FlaskForm):
    email = StringField(_l("E-mail address or phone number"), validators=_login)
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please enter your password.")),
                                                        Length(max=PASSWORD_MAX)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Please enter your password.")), Length(max=PASSWORD_MAX)])
    new_password = _new_password(_l("New password"))
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(_l("Please repeat the password.")),
        EqualTo("new_password", _l("The two passwords do not match."))])


class ForgotPasswordForm(FlaskForm):
    email = StringField(_l("E-mail address or phone number"), validators=_login)


class ResetPasswordForm(FlaskForm):
    password = _new_password(_l("New password"))
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(_l("Please repeat the password.")),
        EqualTo("password", _l("The two passwords do not match."))])


def _email_mode_choices():
    return [("immediate", _l("Right away")), ("daily", _l("One summary a day")),
            ("none", _l("Never (only on the site)"))]


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[
        DataRequired(_l("Please enter a display name.")), Length(max=80)])
    locale = language_field(_l("Preferred language"))
    email_mode = SelectField(_l("E-mail about notifications"), choices=_email_mode_choices,
                             validators=[DataRequired()])

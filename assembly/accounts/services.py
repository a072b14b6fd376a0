"""Accounts: registration, login sessions, passwords. No request, no commit."""
from __future__ import annotations

import datetime as dt
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import bindparam, delete, func, null, select, type_coerce, union_all, update
from sqlalchemy.exc import IntegrityError

from assembly import permissions
from assembly.accounts.models import LoginSession, PasswordResetToken, User
from assembly.config import LOCALES
from assembly.db import db
from assembly.errors import DomainError, ValidationFailed
from assembly.i18n import ngettext
from assembly.neighbourhoods.models import Membership
from assembly.notifications.services import queue_email
from assembly.sms.codes import CodeCheck, check_code, issue_code
from assembly.sms.services import looks_like_phone, normalise_phone, queue_sms
from assembly.text import clean_plain
from assembly.tokens import hash_token
from assembly.urls import external_url

PASSWORD_MIN = 10
PASSWORD_MAX = 200



def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str, email: str = "", field: str = "password") -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(ngettext("The password must be at least %(num)s character long.",
                                        "The password must be at least %(num)s characters long.", PASSWORD_MIN), field)
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed(ngettext("The password must be at most %(num)s character long.",
                                        "The password must be at most %(num)s characters long.", PASSWORD_MAX), field)
    if email and password.strip().lower() == normalise_email(email):
        raise ValidationFailed(_("The password must not be your e-mail address."), field)


DISPLAY_NAME_MAX = 80
EMAIL_MAX = 254


def check_email(email: str) -> str:
    # The command line registers administrators without a form, so the service checks the shape too.
    try:
        if len(email) > EMAIL_MAX:
            raise EmailNotValidError(email)
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationFailed(_("Please enter a valid e-mail address."), "email") from None
    return email


def _check_display_name(display_name: str) -> str:
    display_name = clean_plain(display_name)
    if not display_name:
        raise ValidationFailed(_("Please enter a display name."), "display_name")
    if len(display_name) > DISPLAY_NAME_MAX:
        raise ValidationFailed(ngettext("The display name may be at most %(num)s character long.",
                                        "The display name may be at most %(num)s characters long.", DISPLAY_NAME_MAX),
                               "display_name")
    return display_name


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


class UnconfirmedPhone(DomainError):
    """The password is right, but the phone number of the account was never confirmed."""


class AddressTaken(ValidationFailed):
    """The e-mail address already belongs to an account."""


def register(email: str, display_name: str, password: str, locale: str, now: dt.datetime) -> User:
    """Create an account (command line, tests); the public form goes through `sign_up`."""
    email = check_email(normalise_email(email))
    if locale not in LOCALES:
        raise ValidationFailed(_("Choose one of the offered languages."), "locale")
    display_name = _check_display_name(display_name)
    check_password_rules(password, email)
    user = User(email=email, display_name=display_name, password_hash=hash_password(password),
                locale=locale, created_at=now, password_changed_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        raise AddressTaken(_("An account with this e-mail address already exists."), "email") from None
    return user


def sign_up(email: str, display_name: str, password: str, locale: str, now: dt.datetime) -> str:
    """Registration from the public form. It answers the same whether or not the address already
    has an account, so that nobody can use it to find out who has one: a new account's owner gets
    a welcome e-mail, an existing account's owner a warning that someone tried (and nothing else
    changes). Returns the address written to."""
    try:
        user = register(email, display_name, password, locale, now)  # hashes the password either way
    except AddressTaken:
        owner = find_user_by_email(email)
        if owner is not None:
            _mail(owner, "mail/registration_attempt.txt", _l("Someone tried to register with your address"), now)
        return normalise_email(email)
    _mail(user, "mail/welcome.txt", _l("Your Assembly account"), now)
    return user.email


def _mail(user: User, template: str, subject: LazyString, now: dt.datetime) -> None:
    """Queue an account e-mail in the user's language, with the links to log in and to reset the password."""
    with force_locale(user.locale):
        body = render_template(template, user=user, login_link=external_url("accounts.login"),
                               forgot_link=external_url("accounts.forgot_password"))
        queue_email(user.email, str(subject), body, now)


_DUMMY_HASH: dict[str, str] = {}


def _dummy_hash() -> str:
    key = f"{current_app.config['ARGON2_TIME_COST']}:{current_app.config['ARGON2_MEMORY_COST']}"
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hash_password(secrets.token_hex(16))
    return _DUMMY_HASH[key]


def find_user_by_login(identifier: str) -> User | None:
    """The account an e-mail address or a phone number (in any usual spelling) belongs to."""
    if looks_like_phone(identifier):
        try:
            return find_user_by_phone(normalise_phone(identifier))
        except ValidationFailed:
            return None
    return find_user_by_email(identifier)


def authenticate(identifier: str, password: str) -> User:
    """Return the user whose password matches, or raise one message that does not say whether
    the e-mail address or phone number exists (the same work is done either way)."""
    user = find_user_by_login(identifier)
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        raise DomainError(_("Wrong e-mail address, phone number or password.")) from None
    if user is None:  # pragma: no cover - a random dummy hash cannot verify
        raise DomainError(_("Wrong e-mail address, phone number or password."))
    if user.email is None and user.phone_confirmed_at is None:
        raise UnconfirmedPhone(_("Please confirm your phone number first with the code we sent to it."))
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_login_session(user: User, now: dt.datetime) -> str:
    """Create a server-side login session; the returned token goes into the cookie."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["LOGIN_SESSION_DAYS"]
    db.session.add(LoginSession(user_id=user.id, token_hash=hash_token(token), created_at=now,
                                expires_at=now + dt.timedelta(days=days)))
    db.session.flush()
    user.login_token = token
    return token


# Asked on every logged-in request that needs the user: built once (docs/benchmarks.md).
_LOGGED_IN = (select(User).join(LoginSession, LoginSession.user_id == User.id)
              .where(LoginSession.token_hash == bindparam("token_hash"), LoginSession.expires_at > bindparam("now")))


def user_for_login_token(token: str, now: dt.datetime) -> User | None:
    user = db.session.scalars(_LOGGED_IN, {"token_hash": hash_token(token), "now": now}).first()
    if user is None:
        return None
    user.login_token = token
    return user


class Identity:
    """Who is logged in, as a hot path needs it (the vote and the page it lands on): the user's
    id, whether an administrator, their language and name (for the menu), read as one row with
    the login session — no ORM entity.

    It answers Flask-Login's protocol like `User`. Reading anything else of it (a page shown
    after all) loads the account once and answers from it; changing the account goes through
    `account_of`.
    """

    __slots__ = ("id", "is_admin", "locale", "display_name", "login_token", "_account")
    api_body_id = None  # a person, not a body's API token (see permissions.Roles)
    is_active = True
    is_anonymous = False
    is_authenticated = True

    def __init__(self, row, login_token: str) -> None:
        self.id, self.is_admin, self.locale, self.display_name = row.id, bool(row.is_admin), row.locale, row.display_name
        self.login_token = login_token
        self._account: User | None = None

    def get_id(self) -> str:
        return self.login_token

    def account(self) -> User:
        if self._account is None:
            self._account = db.session.get_one(User, self.id)
            self._account.login_token = self.login_token
        return self._account

    def __getattr__(self, name: str):  # only for what is not one of the slots above
        return getattr(self.account(), name)

    def __repr__(self) -> str:
        return f"<Identity {self.id}>"


_U, _L, _M = User.__table__.c, LoginSession.__table__.c, Membership.__table__.c
_LOGIN_VALID = (_L.token_hash == bindparam("token_hash"), _L.expires_at > bindparam("now"))
# Who is logged in and their roles (permissions.roles_selects), one statement: the identity's row
# (its role columns empty), then a row per role (its identity columns empty).
_IDENTITY = union_all(
    select(_U.id, _U.is_admin, _U.locale, _U.display_name,
           *(type_coerce(null(), column.type) for column in (_M.role, _M.status, _M.neighbourhood_id, _M.verified_at)))
    .join(LoginSession.__table__, _L.user_id == _U.id).where(*_LOGIN_VALID),
    *(roles.where(*_LOGIN_VALID) for roles in permissions.roles_selects(_L.user_id, null(), null(), null(), null())),
)


def identity_for_login_token(token: str, now: dt.datetime) -> Identity | None:
    """`user_for_login_token` as a Core row: the same login session check, without the entity;
    the user's roles are read in the same statement and kept for the request's policy checks."""
    rows = db.session.connection().execute(_IDENTITY, {"token_hash": hash_token(token), "now": now}).all()
    found = next((row for row in rows if row.id is not None), None)
    if found is None:
        return None
    identity = Identity(found, token)
    permissions.remember_roles(identity, [row[4:] for row in rows if row.id is None])
    return identity


def account_of(user: User | Identity) -> User:
    """The account entity of a logged-in user, to change it."""
    return user.account() if isinstance(user, Identity) else user


def end_login_session(token: str | None) -> None:
    if token:
        db.session.execute(delete(LoginSession).where(LoginSession.token_hash == hash_token(token)))


def end_all_login_sessions(user: User) -> None:
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def change_password(user: User, current_password: str, new_password: str, now: dt.datetime) -> str:
    """Change the password, log out every browser, and return a fresh token for this one."""
    try:
        _hasher().verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError):
        raise ValidationFailed(_("The current password is not correct."), "current_password") from None
    check_password_rules(new_password, user.email, "new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    end_all_login_sessions(user)
    _void_reset_links(user, now)
    return start_login_session(user, now)


def _void_reset_links(user: User, now: dt.datetime) -> None:
    """A reset link must not outlive a new password (it may sit in a mailbox someone else reads)."""
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )


def request_password_reset(email: str, now: dt.datetime) -> None:
    """E-mail a one-time link if the address has an account; say nothing either way."""
    user = find_user_by_email(email)
    if user is None or user.email is None:
        return
    token = secrets.token_urlsafe(32)
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=hash_token(token), created_at=now,
                                      expires_at=now + dt.timedelta(hours=hours)))
    link = external_url("accounts.reset_password", token=token)
    with force_locale(user.locale):
        body = render_template("mail/password_reset.txt", user=user, link=link, hours=hours)
        queue_email(user.email, _("Reset your Assembly password"), body, now)


def reset_password(token: str, new_password: str, now: dt.datetime) -> User:
    reset = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise DomainError(_("This password reset link is invalid, used or expired. Please ask for a new one."))
    user = reset.user
    check_password_rules(new_password, user.email, "password")
    # Mark used with a conditional update, so two simultaneous uses cannot both succeed.
    claimed = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == reset.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise DomainError(_("This password reset link is invalid, used or expired. Please ask for a new one."))
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    end_all_login_sessions(user)
    _void_reset_links(user, now)
    return user


def reset_token_is_usable(token: str, now: dt.datetime) -> bool:
    return bool(db.session.scalar(
        select(func.count()).select_from(PasswordResetToken).where(
            PasswordResetToken.token_hash == hash_token(token),
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
    ))


def set_user_locale(user: User | Identity, locale: str) -> None:
    if locale not in LOCALES:
        raise ValidationFailed(_("Choose one of the offered languages."), "locale")
    account_of(user).locale = locale


EMAIL_MODES = ("immediate", "daily", "none")


def update_profile(user: User, display_name: str, locale: str, email_mode: str | None = None) -> User:
    display_name = _check_display_name(display_name)
    if email_mode is not None:
        if email_mode not in EMAIL_MODES:
            raise ValidationFailed(_("Choose one of the offered options."), "email_mode")
        user.email_mode = email_mode
    set_user_locale(user, locale)
    user.display_name = display_name
    return user


def make_admin(email: str, display_name: str, password: str, now: dt.datetime) -> User:
    """Create an administrator, or promote an existing account (CLI)."""
    user = find_user_by_email(email)
    if user is None:
        user = register(email, display_name, password, "en", now)
    user.is_admin = True
    return user


# --- accounts with a phone number instead of an e-mail address --------------------------------

def find_user_by_phone(phone: str) -> User | None:
    return db.session.scalar(select(User).where(User.phone == phone))


def sign_up_by_phone(phone: str, display_name: str, password: str, locale: str, now: dt.datetime) -> str:
    """Registration with a phone number: the account works once the number is confirmed with the
    code sent to it. Like `sign_up`, it answers the same whether or not the number is taken: the
    owner of a confirmed account gets a warning by SMS instead. An account whose number was
    never confirmed is nobody's yet: it is given to whoever registers the number again, and only
    the holder of the phone can confirm it. Returns the number in E.164."""
    phone = normalise_phone(phone)
    if locale not in LOCALES:
        raise ValidationFailed(_("Choose one of the offered languages."), "locale")
    display_name = _check_display_name(display_name)
    check_password_rules(password)
    password_hash = hash_password(password)
    owner = find_user_by_phone(phone)
    if owner is not None and (owner.phone_confirmed_at is not None or owner.email is not None):
        with force_locale(owner.locale):
            queue_sms(phone, _("Assembly: someone tried to register a new account with your phone number. If it "
                               "was you, log in with your password or ask for a new one."), "code", now, owner.id)
        return phone
    if owner is None:
        owner = User(phone=phone, email=None, display_name=display_name, password_hash=password_hash, locale=locale,
                     created_at=now, password_changed_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(owner)
        except IntegrityError:  # registered at the same moment by someone else
            return phone
    else:
        owner.display_name, owner.password_hash, owner.locale = display_name, password_hash, locale
        owner.password_changed_at = now
    issue_code(owner, "confirm", now)
    return phone


def resend_confirmation(phone: str, now: dt.datetime) -> None:
    """A new confirmation code, if the number has an account still waiting for one."""
    user = find_user_by_phone(normalise_phone(phone))
    if user is not None and user.phone_confirmed_at is None:
        issue_code(user, "confirm", now)


def confirm_phone(phone: str, code: str, now: dt.datetime) -> tuple[User | None, CodeCheck | None]:
    """Confirm the number with its code. Returns the user when confirmed; a wrong guess is
    counted (commit it), and a number without a waiting account answers like an expired code."""
    user = find_user_by_phone(phone)
    if user is None or user.phone_confirmed_at is not None:
        return None, None
    result = check_code(user, "confirm", code, now)
    if result.ok:
        user.phone_confirmed_at = now
        return user, result
    return None, result


def _send_quietly(phone: str, purpose: str, now: dt.datetime) -> str:
    """Send a code if the number belongs to a confirmed account; say nothing either way."""
    phone = normalise_phone(phone)
    user = find_user_by_phone(phone)
    if user is not None and user.phone_confirmed_at is not None:
        try:
            with db.session.begin_nested():
                issue_code(user, purpose, now)
        except DomainError:
            pass  # too many codes lately: the answer must not say so (the limiter slows the asker)
    return phone


def request_password_reset_by_phone(phone: str, now: dt.datetime) -> str:
    """Send a code for a new password if the number belongs to a confirmed account; say
    nothing either way. Returns the number in E.164."""
    return _send_quietly(phone, "reset", now)


def request_login_code(phone: str, now: dt.datetime) -> str:
    """Send a login code (instead of the password) if the number belongs to a confirmed account;
    say nothing either way. Returns the number in E.164."""
    return _send_quietly(phone, "login", now)


def log_in_with_code(phone: str, code: str, now: dt.datetime) -> tuple[User | None, CodeCheck | None]:
    """The user whose login code this is; like `confirm_phone` for wrong guesses."""
    user = find_user_by_phone(phone)
    if user is None or user.phone_confirmed_at is None:
        return None, None
    result = check_code(user, "login", code, now)
    return (user if result.ok else None), result


def reset_password_by_code(phone: str, code: str, new_password: str, now: dt.datetime
                           ) -> tuple[User | None, CodeCheck | None]:
    """Set a new password with a code sent by SMS; like `confirm_phone` for wrong guesses."""
    check_password_rules(new_password, field="password")
    user = find_user_by_phone(phone)
    if user is None or user.phone_confirmed_at is None:
        return None, None
    result = check_code(user, "reset", code, now)
    if not result.ok:
        return None, result
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    end_all_login_sessions(user)
    _void_reset_links(user, now)
    return user, result

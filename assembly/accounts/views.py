"""Register, log in and out, account settings, password reset."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from assembly import permissions
from assembly.accounts import services
from assembly.accounts.forms import (
    ChangePasswordForm,
    ConfirmPhoneForm,
    ForgotPasswordForm,
    LoginCodeForm,
    LoginCodeRequestForm,
    LoginForm,
    PhoneRegisterForm,
    PhoneResetForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from assembly.extensions import limiter, login_manager
from assembly.forms import ButtonForm
from assembly.i18n import current_locale, ngettext, valid_locale
from assembly.neighbourhoods import directory
from assembly.rate_limits import failed_form, login_account_key, submitted_email_key, submitted_phone_key
from assembly.sms.codes import Outcome
from assembly.sms.services import display_phone, looks_like_phone, normalise_phone
from assembly.web import call_service, form_status, now

bp = Blueprint("accounts", __name__, url_prefix="/account")
bp.add_app_template_filter(display_phone, "phone")


@login_manager.user_loader
def load_user(token: str):
    """The user of a login session (server-side: the cookie holds only its token). A view
    marked `web.identity_only` (the vote) gets the light `services.Identity` instead."""
    if getattr(current_app.view_functions.get(request.endpoint), "identity_only", False):
        return services.identity_for_login_token(token, now())
    return services.user_for_login_token(token, now())


@bp.before_app_request
def remember_language_switch() -> None:
    """Keep a `?lang=` choice in the session and, when logged in, in the user's setting."""
    asked = valid_locale(request.args.get("lang"))
    if not asked:
        return
    session["lang"] = asked
    if current_user.is_authenticated and current_user.locale != asked:
        services.set_user_locale(current_user, asked)


def _limit(setting: str):
    return limiter.limit(lambda: current_app.config[setting], methods=["POST"])


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return _landing(current_user)


def _landing(user) -> str:
    """Where a person's work is: an administrator's admin area, a muhtar's desk, a body's staff
    inbox, a resident's (or applicant's) neighbourhood; everyone else the list of neighbourhoods."""
    if permissions.can(user, "administer"):
        return url_for("admin.dashboard")
    if permissions.can(user, "view_muhtar_desk"):
        return url_for("neighbourhoods.muhtar_desk")
    if permissions.can(user, "view_staff_desk"):
        return url_for("cases.staff_desk")
    home = directory.current_membership(user)
    if home is not None:
        return url_for("neighbourhoods.show", slug=home.neighbourhood.slug)
    return url_for("neighbourhoods.index")


def _log_in(user, remember: bool = False) -> None:
    services.start_login_session(user, now())
    session.permanent = True
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@_limit("RATELIMIT_REGISTER")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER_EMAIL"], methods=["POST"], key_func=submitted_email_key)
def register():
    if current_user.is_authenticated:
        return redirect(url_for("neighbourhoods.index"))
    form = RegisterForm()
    if request.method == "GET":
        form.locale.data = request.args.get("lang") or _current_locale()
    if form.validate_on_submit():
        # The same answer whether or not the address already has an account (see services.sign_up).
        address = call_service(form, services.sign_up, form.email.data, form.display_name.data,
                               form.password.data, form.locale.data, now())
        if address is not None:
            session["lang"] = form.locale.data
            flash(_("Thank you. We have sent an e-mail to %(email)s. If the address is new here, your account "
                    "is ready and you can log in now.", email=address), "success")
            return redirect(url_for(".login"))
    return render_template("accounts/register.html", form=form), form_status()


def _current_locale() -> str:
    return current_locale()


@bp.route("/login", methods=["GET", "POST"])
@_limit("RATELIMIT_LOGIN")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], methods=["POST"], key_func=login_account_key,
               deduct_when=failed_form)
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = call_service(form, services.authenticate, form.email.data, form.password.data)
        if user is not None:
            _log_in(user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), form_status()


@bp.route("/logout", methods=["POST"])
def logout():
    form = ButtonForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        services.end_login_session(current_user.login_token)
        logout_user()
        flash(_("You have been logged out."), "info")
    return redirect(url_for("neighbourhoods.index"))


@bp.route("/", methods=["GET", "POST"])
@login_required
def settings():
    profile = ProfileForm(prefix="profile", obj=current_user if request.method == "GET" else None)
    password = ChangePasswordForm(prefix="password")
    if "profile-submit" in request.form and profile.validate_on_submit():
        if call_service(profile, services.update_profile, current_user, profile.display_name.data,
                        profile.locale.data, profile.email_mode.data) is not None:
            session["lang"] = current_user.locale
            flash(_("Your settings have been saved."), "success")
            return redirect(url_for(".settings"))
    elif "password-submit" in request.form and password.validate_on_submit():
        token = call_service(password, services.change_password, current_user, password.current_password.data,
                             password.new_password.data, now())
        if token is not None:
            login_user(current_user._get_current_object())
            flash(_("Your password has been changed. Other devices have been logged out."), "success")
            return redirect(url_for(".settings"))
    return render_template("accounts/settings.html", profile=profile, password=password), form_status()


@bp.route("/forgot", methods=["GET", "POST"])
@_limit("RATELIMIT_RESET")
@limiter.limit(lambda: current_app.config["RATELIMIT_RESET_EMAIL"], methods=["POST"], key_func=submitted_email_key)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit() and looks_like_phone(form.email.data):
        phone = call_service(form, services.request_password_reset_by_phone, form.email.data, now())
        if phone is not None:
            session["phone_to_reset"] = phone
            flash(_("If an account uses this phone number, we have sent it a code by SMS. Enter it below with "
                    "your new password."), "info")
            return redirect(url_for(".reset_by_code"))
    elif form.validate_on_submit():
        services.request_password_reset(form.email.data, now())
        hours = current_app.config["PASSWORD_RESET_HOURS"]
        flash(ngettext("If an account uses this address, we have sent it a link to reset the password. "
                       "The link works once and expires in %(num)s hour.",
                       "If an account uses this address, we have sent it a link to reset the password. "
                       "The link works once and expires in %(num)s hours.", hours), "info")
        return redirect(url_for(".login"))
    return render_template("accounts/forgot.html", form=form), form_status()


@bp.route("/reset/<token>", methods=["GET", "POST"])
@_limit("RATELIMIT_RESET")
def reset_password(token: str):
    if not services.reset_token_is_usable(token, now()):
        return render_template("accounts/reset_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = call_service(form, services.reset_password, token, form.password.data, now())
        if user is not None:
            if current_user.is_authenticated:
                logout_user()
            flash(_("Your password has been changed. Please log in with the new password."), "success")
            return redirect(url_for(".login"))
    return render_template("accounts/reset.html", form=form, token=token), form_status()


# --- accounts with a phone number ------------------------------------------------------------

def _sms_limit(view):
    """Forms that send a code: per client address and per phone number."""
    view = limiter.limit(lambda: current_app.config["RATELIMIT_SMS_PHONE"], methods=["POST"],
                         key_func=submitted_phone_key)(view)
    return _limit("RATELIMIT_SMS")(view)


def _code_refused(result) -> None:
    """Say why a code did not work (the wrong guess is already counted)."""
    if result is not None and result.outcome is Outcome.WRONG:
        flash(ngettext("The code is not correct. You can try %(num)s more time.",
                       "The code is not correct. You can try %(num)s more times.", result.attempts_left), "error")
    else:
        flash(_("This code is no longer valid (used, expired, or too many wrong tries). Ask for a new one."),
              "error")


@bp.route("/register/phone", methods=["GET", "POST"])
@_sms_limit
def register_phone():
    if current_user.is_authenticated:
        return redirect(url_for("neighbourhoods.index"))
    form = PhoneRegisterForm()
    if request.method == "GET":
        form.locale.data = request.args.get("lang") or _current_locale()
    if form.validate_on_submit():
        phone = call_service(form, services.sign_up_by_phone, form.phone.data, form.display_name.data,
                             form.password.data, form.locale.data, now())
        if phone is not None:
            session["lang"] = form.locale.data
            session["phone_to_confirm"] = phone
            flash(_("We have sent a code by SMS to %(phone)s. Enter it here to finish creating your account.",
                    phone=display_phone(phone)), "success")
            return redirect(url_for(".confirm_phone"))
    return render_template("accounts/register_phone.html", form=form), form_status()


@bp.route("/confirm-phone", methods=["GET", "POST"])
@_limit("RATELIMIT_LOGIN")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], methods=["POST"],
               key_func=submitted_phone_key)
def confirm_phone():
    form = ConfirmPhoneForm()
    if request.method == "GET" and session.get("phone_to_confirm"):
        form.phone.data = display_phone(session["phone_to_confirm"])
    if form.validate_on_submit():
        phone = call_service(form, normalise_phone, form.phone.data)
        if phone is not None:
            user, result = services.confirm_phone(phone, form.code.data, now())
            if user is None:
                _code_refused(result)
                session["phone_to_confirm"] = phone
                # A redirect, so that the wrong guess is committed (an error status would roll it back).
                return redirect(url_for(".confirm_phone"))
            session.pop("phone_to_confirm", None)
            _log_in(user)
            flash(_("Your phone number is confirmed and your account is ready."), "success")
            return redirect(_landing(user))
    return render_template("accounts/confirm_phone.html", form=form, resend=ButtonForm()), form_status()


@bp.route("/confirm-phone/resend", methods=["POST"])
@_sms_limit
def resend_code():
    phone = session.get("phone_to_confirm")
    form = ButtonForm()
    if phone and form.validate_on_submit():
        if call_service(form, services.resend_confirmation, phone, now()) is None and g.get("page_errors"):
            for message in g.page_errors:
                flash(message, "error")
        else:
            flash(_("If this number is waiting for confirmation, we have sent it a new code."), "info")
    return redirect(url_for(".confirm_phone"))


@bp.route("/reset/code", methods=["GET", "POST"])
@_limit("RATELIMIT_RESET")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], methods=["POST"],
               key_func=submitted_phone_key)
def reset_by_code():
    phone = session.get("phone_to_reset")
    if not phone:
        return redirect(url_for(".forgot_password"))
    form = PhoneResetForm()
    if form.validate_on_submit():
        outcome = call_service(form, services.reset_password_by_code, phone, form.code.data, form.password.data,
                               now())
        if outcome is not None:
            user, result = outcome
            if user is None:
                _code_refused(result)
                return redirect(url_for(".reset_by_code"))
            session.pop("phone_to_reset", None)
            if current_user.is_authenticated:
                logout_user()
            flash(_("Your password has been changed. Please log in with the new password."), "success")
            return redirect(url_for(".login"))
    return render_template("accounts/reset_code.html", form=form, phone=display_phone(phone)), form_status()


@bp.route("/login/code", methods=["GET", "POST"])
@_sms_limit
def login_code():
    """Log in with a code sent by SMS instead of the password (phone-only accounts)."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginCodeRequestForm()
    if form.validate_on_submit():
        phone = call_service(form, services.request_login_code, form.phone.data, now())
        if phone is not None:
            session["phone_to_login"] = phone
            flash(_("If an account uses this phone number, we have sent it a login code by SMS."), "info")
            return redirect(url_for(".login_code_enter"))
    return render_template("accounts/login_code.html", form=form), form_status()


@bp.route("/login/code/enter", methods=["GET", "POST"])
@_limit("RATELIMIT_LOGIN")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], methods=["POST"],
               key_func=submitted_phone_key)
def login_code_enter():
    phone = session.get("phone_to_login")
    if not phone:
        return redirect(url_for(".login_code"))
    form = LoginCodeForm()
    if form.validate_on_submit():
        user, result = services.log_in_with_code(phone, form.code.data, now())
        if user is None:
            _code_refused(result)
            return redirect(url_for(".login_code_enter"))  # commits the counted guess
        session.pop("phone_to_login", None)
        _log_in(user)
        return redirect(_landing(user))
    return render_template("accounts/login_code_enter.html", form=form, phone=display_phone(phone)), form_status()

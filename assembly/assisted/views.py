"""The muhtar's assisted-participation desk: register a resident, act in their name."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from assembly.assisted import services
from assembly.assisted.forms import (
    CommentOnBehalfForm,
    ProposalOnBehalfForm,
    RegisterResidentForm,
    SupportOnBehalfForm,
)
from assembly.extensions import limiter
from assembly.i18n import current_locale, localized_name, utc_to_wall_clock, wall_clock_to_utc
from assembly.neighbourhoods import context, residents
from assembly.neighbourhoods.context import current_neighbourhood
from assembly.params import query_int
from assembly.proposals.services import ProposalInput, categories_of, proposal_link
from assembly.rate_limits import person_key
from assembly.web import call_service, form_status, now, require

bp = Blueprint("assisted", __name__)
bp.url_value_preprocessor(context.from_url)

_FORMS = {"proposal": ProposalOnBehalfForm, "support": SupportOnBehalfForm, "comment": CommentOnBehalfForm}


def _desk_limit(view):
    return limiter.limit(lambda: current_app.config["RATELIMIT_MUHTAR"], methods=["POST"], key_func=person_key)(view)


def _index_page(neighbourhood, form: RegisterResidentForm):
    after = query_int("after")
    verified = residents.verified_residents(current_user, neighbourhood, after_id=after)
    return render_template("assisted/index.html", neighbourhood=neighbourhood, form=form, residents=verified,
                           entries=services.recent_entries(current_user, neighbourhood),
                           consent_labels=services.consent_labels(), actions=services.ON_BEHALF_ACTIONS,
                           next_after=verified[-1].id if len(verified) == 100 else None)


@bp.route("/n/<slug>/assisted", methods=["GET", "POST"])
@login_required
@_desk_limit
def index(slug: str):
    neighbourhood = current_neighbourhood()
    require("assist_residents", neighbourhood)
    form = RegisterResidentForm()
    if request.method == "GET":
        form.locale.data = neighbourhood.default_locale or current_locale()
    if form.validate_on_submit():
        membership = call_service(form, services.register_resident, current_user, now(), neighbourhood,
                                  display_name=form.display_name.data, address=form.address.data,
                                  phone=form.phone.data, locale=form.locale.data)
        if membership is not None:
            flash(_("%(name)s is registered as a verified resident. You can now act in their name.",
                    name=membership.user.display_name), "success")
            return redirect(url_for(".act", slug=slug, membership_id=membership.id))
    return _index_page(neighbourhood, form), form_status()


def _forms(neighbourhood, action: str | None = None):
    """The three forms of the page; only the submitted one reads the request."""
    forms = {name: cls(prefix=name, formdata=None if name != action else request.form)
             for name, cls in _FORMS.items()}
    for name, form in forms.items():
        if name != action:  # consent is usually given just now: offer the present moment
            form.consent_at.data = utc_to_wall_clock(now(), neighbourhood.municipality.timezone)
    forms["proposal"].category_id.choices = [(c.id, localized_name(c.names, c.slug))
                                             for c in categories_of(neighbourhood)]
    proposal_choices = [(p.id, p.title) for p in services.open_proposals(neighbourhood)]
    forms["support"].proposal_id.choices = proposal_choices
    forms["comment"].proposal_id.choices = proposal_choices
    return forms


def _act_page(neighbourhood, membership, forms):
    return render_template("assisted/act.html", neighbourhood=neighbourhood, membership=membership, forms=forms,
                           actions=services.ON_BEHALF_ACTIONS)


@bp.route("/n/<slug>/assisted/<int:membership_id>")
@login_required
def act(slug: str, membership_id: int):
    neighbourhood = current_neighbourhood()
    require("assist_residents", neighbourhood)
    membership = services.resident_membership(neighbourhood, membership_id)
    require("act_on_behalf", membership)
    return _act_page(neighbourhood, membership, _forms(neighbourhood))


@login_required
@_desk_limit
def act_post(slug: str, membership_id: int, action: str):
    neighbourhood = current_neighbourhood()
    require("assist_residents", neighbourhood)
    membership = services.resident_membership(neighbourhood, membership_id)
    require("act_on_behalf", membership)
    forms = _forms(neighbourhood, action)
    form = forms[action]
    if form.validate_on_submit():
        timezone = neighbourhood.municipality.timezone
        consent = services.Consent(given=bool(form.consent.data), method=form.consent_method.data or None,
                                   given_at=wall_clock_to_utc(form.consent_at.data, timezone))
        if action == "proposal":
            target, data = neighbourhood, {"data": ProposalInput(title=form.title.data, body=form.body.data,
                                                                 category_id=form.category_id.data)}
        else:
            target = services.open_proposal(neighbourhood, form.proposal_id.data)
            data = {"body": form.body.data} if action == "comment" else {}
        result = call_service(form, services.on_behalf, current_user, now(), membership, action, consent, target,
                              **data) if target is not None else None
        if target is None:
            form.proposal_id.errors = [_("Choose one of the offered proposals.")]
        elif result is not None:
            flash(_("Entered in the name of %(name)s and marked as entered by the muhtar.",
                    name=membership.user.display_name), "success")
            proposal = result if action != "comment" else result.proposal
            return redirect(proposal_link(proposal))
    return _act_page(neighbourhood, membership, forms), 400



for _action in _FORMS:  # one address per action: …/assisted/<id>/proposal, …/support, …/comment
    bp.add_url_rule(f"/n/<slug>/assisted/<int:membership_id>/{_action}", endpoint=f"act_{_action}",
                    view_func=act_post, methods=["POST"], defaults={"action": _action})

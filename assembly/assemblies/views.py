"""Session pages: agenda, meeting, ballot set-up, voting, results, minutes, calendar."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from fractions import Fraction
from zoneinfo import ZoneInfo

import icalendar
from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from assembly import page_cache, permissions, tally
from assembly.assemblies import services, verification, voting
from assembly.assemblies.forms import (
    AgendaForm,
    AnnounceForm,
    AssemblyForm,
    BallotForm,
    MinutesForm,
    PaperCountForm,
    vote_from_form,
)
from assembly.assemblies.models import ASSEMBLY_LIFECYCLE, Secrecy
from assembly.assisted import services as assisted
from assembly.extensions import limiter
from assembly.forms import ButtonForm, LazyForm
from assembly.i18n import format_percent, utc_to_wall_clock, wall_clock_to_utc
from assembly.text import neutralise
from assembly.neighbourhoods import context
from assembly.neighbourhoods.context import current_neighbourhood
from assembly.rate_limits import hot_limit, person_key
from assembly.urls import external_url, site_host
from assembly.web import agenda_title, call_service, form_status, identity_only, now, reads_first, require

bp = Blueprint("assemblies", __name__, url_prefix="/n/<slug>/assemblies")
# Help pages for residents: how voting works, in plain words.
help_bp = Blueprint("help", __name__, url_prefix="/help")
bp.url_value_preprocessor(context.from_url)  # the neighbourhood of /n/<slug>/…


def _zone(neighbourhood) -> ZoneInfo:
    return ZoneInfo(neighbourhood.municipality.timezone)


def _to_utc(value: dt.datetime | None, neighbourhood) -> dt.datetime | None:
    return wall_clock_to_utc(value, neighbourhood.municipality.timezone)


def _to_local(value: dt.datetime | None, neighbourhood) -> dt.datetime | None:
    return utc_to_wall_clock(value, neighbourhood.municipality.timezone)


def _load(slug: str, assembly_id: int):
    neighbourhood = current_neighbourhood()
    assembly = services.get_assembly(current_user, neighbourhood, assembly_id)
    return neighbourhood, assembly


def _back(neighbourhood, assembly, anchor=None):
    return redirect(url_for(".show", slug=neighbourhood.slug, assembly_id=assembly.id, _anchor=anchor))


@bp.route("/")
def index(slug: str):
    neighbourhood = current_neighbourhood()
    assemblies = services.list_assemblies(current_user, neighbourhood)
    return render_template("assemblies/index.html", neighbourhood=neighbourhood, assemblies=assemblies,
                           status_label=ASSEMBLY_LIFECYCLE.label, shown_status=_shown_status)


def _shown_status(assembly) -> str:
    return services.shown_status(assembly, now())


@bp.route("/calendar.ics")
def calendar(slug: str):
    neighbourhood = current_neighbourhood()
    zone = _zone(neighbourhood)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Assembly//Neighbourhood assemblies//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", neighbourhood.name_in(neighbourhood.default_locale))
    cal.add("x-wr-timezone", str(zone))
    host = site_host()
    for assembly in services.upcoming_meetings(neighbourhood, now() - dt.timedelta(days=365)):
        event = icalendar.Event()
        event.add("uid", f"assembly-{assembly.id}@{host}")
        event.add("dtstamp", assembly.updated_at)
        event.add("dtstart", assembly.meeting_start.astimezone(zone))
        event.add("dtend", (assembly.meeting_end or assembly.meeting_start + dt.timedelta(hours=2)).astimezone(zone))
        event.add("summary", assembly.title)
        if assembly.place:
            event.add("location", assembly.place)
        event.add("url", external_url("assemblies.show", slug=slug, assembly_id=assembly.id))
        if assembly.online_link:
            event.add("description", assembly.online_link)
        cal.add_component(event)
    cal.add_missing_timezones()
    return Response(cal.to_ical(), mimetype="text/calendar",
                    headers={"Content-Disposition": f'inline; filename="{slug}-assemblies.ics"'})


def _editor(neighbourhood, form, assembly=None):
    return render_template("assemblies/edit.html", neighbourhood=neighbourhood, form=form,
                           assembly=assembly), form_status()


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    neighbourhood = current_neighbourhood()
    require("manage_assemblies", neighbourhood)
    form = AssemblyForm()
    if form.validate_on_submit():
        assembly = call_service(form, services.create_assembly, current_user, now(), neighbourhood,
                                title=form.title.data, meeting_start=_to_utc(form.meeting_start.data, neighbourhood),
                                meeting_end=_to_utc(form.meeting_end.data, neighbourhood), place=form.place.data,
                                online_link=form.online_link.data)
        if assembly is not None:
            flash(_("The session has been created as a draft. Add agenda items and set up the vote."), "success")
            return _back(neighbourhood, assembly)
    return _editor(neighbourhood, form)


@bp.route("/<int:assembly_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, assembly_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    require("manage_assemblies", assembly)
    form = AssemblyForm(obj=assembly if request.method == "GET" else None)
    if request.method == "GET":
        form.meeting_start.data = _to_local(assembly.meeting_start, neighbourhood)
        form.meeting_end.data = _to_local(assembly.meeting_end, neighbourhood)
    if form.validate_on_submit():
        if call_service(form, services.update_assembly, current_user, now(), assembly, title=form.title.data,
                        meeting_start=_to_utc(form.meeting_start.data, neighbourhood),
                        meeting_end=_to_utc(form.meeting_end.data, neighbourhood), place=form.place.data,
                        online_link=form.online_link.data) is not None:
            flash(_("The session has been saved."), "success")
            return _back(neighbourhood, assembly)
    return _editor(neighbourhood, form, assembly)


@bp.route("/<int:assembly_id>/ballot", methods=["GET", "POST"])
@login_required
def ballot(slug: str, assembly_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    require("manage_assemblies", assembly)
    form = BallotForm(obj=assembly.ballot if request.method == "GET" else None)
    if request.method == "GET":
        if assembly.ballot:
            form.opens_at.data = _to_local(assembly.ballot.opens_at, neighbourhood)
            form.closes_at.data = _to_local(assembly.ballot.closes_at, neighbourhood)
        else:
            form.quorum_percent.data = neighbourhood.quorum_percent
            form.majority.data = neighbourhood.majority
    if form.validate_on_submit():
        if call_service(form, services.set_ballot, current_user, now(), assembly, method=form.method.data,
                        secrecy=form.secrecy.data, opens_at=_to_utc(form.opens_at.data, neighbourhood),
                        closes_at=_to_utc(form.closes_at.data, neighbourhood),
                        quorum_percent=form.quorum_percent.data, majority=form.majority.data,
                        approval_k=form.approval_k.data) is not None:
            flash(_("The vote has been set up."), "success")
            _flash_warnings(assembly)
            return _back(neighbourhood, assembly)
    return render_template("assemblies/ballot_form.html", neighbourhood=neighbourhood, assembly=assembly,
                           form=form), form_status()


@bp.route("/<int:assembly_id>/agenda", methods=["POST"])
@login_required
def add_item(slug: str, assembly_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    require("manage_assemblies", assembly)
    form = AgendaForm()
    form.proposal_id.choices = [(p.id, p.title) for p in services.candidates(neighbourhood)]
    if form.validate_on_submit() and call_service(form, services.add_agenda_item, current_user, now(), assembly,
                                                  form.proposal_id.data) is not None:
        flash(_("The proposal is on the agenda."), "success")
        return _back(neighbourhood, assembly, "agenda")
    return _page(neighbourhood, assembly, agenda_form=form, status=400)


@bp.route("/<int:assembly_id>/agenda/<int:item_id>/remove", methods=["POST"])
@login_required
def remove_item(slug: str, assembly_id: int, item_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    require("manage_assemblies", assembly)
    if not ButtonForm().validate_on_submit():
        return _page(neighbourhood, assembly, status=400)
    if request.form.get("confirm") != "1":  # taken off only on purpose: the box says what it does
        return _page(neighbourhood, assembly, remove_item=item_id, status=400,
                     remove_errors=[_("Tick the box to confirm that the item should come off the agenda.")])
    if call_service(None, services.remove_agenda_item, current_user, now(), assembly, item_id) is not None:
        flash(_("The item has been taken off the agenda."), "info")
        return _back(neighbourhood, assembly, "agenda")
    return _page(neighbourhood, assembly, remove_item=item_id, remove_errors=g.pop("page_errors", []), status=400)


@bp.route("/<int:assembly_id>/announce", methods=["POST"])
@login_required
def announce(slug: str, assembly_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    require("manage_assemblies", assembly)
    form = AnnounceForm()
    if form.validate_on_submit() and call_service(
            form, services.announce, current_user, now(), assembly,
            opens_at=_to_utc(form.opens_at.data, neighbourhood),
            closes_at=_to_utc(form.closes_at.data, neighbourhood)) is not None:
        flash(_("The session has been announced and the residents notified."), "success")
        _flash_warnings(assembly)
        return _back(neighbourhood, assembly)
    # Refused: the session page again, the times as typed and the reason beside them.
    return _page(neighbourhood, assembly, announce_form=form, announce_errors=g.pop("page_errors", []), status=400)


@bp.route("/<int:assembly_id>/open-voting", methods=["POST"])
@login_required
def open_voting(slug: str, assembly_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    require("open_voting", assembly)
    if ButtonForm().validate_on_submit() and call_service(
            None, services.open_voting_now, current_user, now(), assembly) is not None:
        flash(_("Voting is open now. The residents have been notified."), "success")
        return _back(neighbourhood, assembly, "vote")
    return _page(neighbourhood, assembly, status=400)


def _flash_warnings(assembly) -> None:
    for warning in services.window_warnings(assembly):
        flash(warning, "warning")


def _announce_form(neighbourhood, assembly) -> AnnounceForm:
    form = AnnounceForm(formdata=None)
    if assembly.ballot is not None:
        form.opens_at.data = _to_local(assembly.ballot.opens_at, neighbourhood)
        form.closes_at.data = _to_local(assembly.ballot.closes_at, neighbourhood)
    return form


# --- the session page and voting ------------------------------------------------------------------

def _page(neighbourhood, assembly, *, agenda_form=None, vote_error=False, status=200, receipt=None,
          receipt_check=None, paper_form=None, paper_item=None, remove_item=None, remove_errors=(),
          announce_form=None, announce_errors=()):
    ballot = assembly.ballot
    result = voting.result_of(assembly, with_document=False)
    shown = services.shown_status(assembly, now())
    page_cache.valid_until(services.status_changes_at(assembly, now()))
    manage = permissions.can(current_user, "manage_assemblies", assembly)
    if announce_form is None and manage and assembly.status == "draft":
        announce_form = _announce_form(neighbourhood, assembly)
    if agenda_form is None and assembly.status in services.EDITABLE \
            and permissions.can(current_user, "manage_assemblies", assembly):
        agenda_form = AgendaForm(formdata=None)
        agenda_form.proposal_id.choices = [(p.id, p.title) for p in services.candidates(neighbourhood)]
    return render_template(
        "assemblies/show.html", neighbourhood=neighbourhood, assembly=assembly, ballot=ballot, result=result,
        items_by_id={str(item.id): item for item in assembly.items}, agenda_form=agenda_form,
        button=LazyForm(ButtonForm), status=shown, status_label=ASSEMBLY_LIFECYCLE.label,
        method_label=services.method_label,
        method_explanation=services.method_explanation,
        can_vote=ballot is not None and shown == "voting" and voting.eligible(current_user, assembly),
        has_voted=ballot is not None and voting.has_voted(current_user, ballot),
        own_vote=voting.own_open_vote(current_user, ballot) if ballot else None, vote_error=vote_error,
        receipt=receipt, receipt_check=receipt_check,
        paper_form=paper_form or LazyForm(lambda: PaperCountForm(formdata=None)),
        paper_item=paper_item, remove_item=remove_item, remove_errors=remove_errors, percent=_share_percent,
        announce_form=announce_form, announce_errors=announce_errors,
        window_warnings=services.window_warnings(assembly) if manage else [],
        # Open ballots only: a secret one is never cast by the muhtar (assisted participation).
        entered_by_muhtar=assisted.entered_count("vote", "assembly", assembly.id)
        if ballot is not None and ballot.secrecy == Secrecy.OPEN.value and shown in ("voting", "closed", "minuted") else 0,
    ), status


def _share_percent(share: str) -> str:
    return format_percent(tally.rounded_percent(Fraction(share), 1))


@bp.route("/<int:assembly_id>")
@page_cache.for_visitors
def show(slug: str, assembly_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    return _page(neighbourhood, assembly)


@bp.route("/<int:assembly_id>/receipt-check", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], key_func=person_key)  # per person, never per receipt
def check_receipt(slug: str, assembly_id: int):
    """A POST, so that no receipt lands in a URL, a log line or a browser history."""
    neighbourhood, assembly = _load(slug, assembly_id)
    result = voting.result_of(assembly)
    code = voting.normalise_receipt(request.form.get("receipt", ""))
    if not ButtonForm().validate_on_submit() or result is None or assembly.ballot.secrecy != Secrecy.SECRET.value \
            or not code:
        return _page(neighbourhood, assembly, status=400)
    return _page(neighbourhood, assembly, receipt_check=(code, voting.receipt_counted(result, code)))


@bp.route("/<int:assembly_id>/vote", methods=["POST"])
@identity_only
@reads_first
@login_required
@hot_limit("RATELIMIT_VOTE")
def vote(slug: str, assembly_id: int):
    # The hot path (docs/benchmarks.md): who votes as one row, what the vote needs as one
    # statement, no ORM entity; the full page is loaded only to show a refused vote. The form's
    # CSRF token was checked before the view, as on every POST (CSRFProtect). No flash message:
    # the session is not changed, so its cookie is not signed again.
    box = voting.ballot_box(slug, assembly_id)
    if box is None:
        abort(404)
    require("vote", box)

    voter = current_user._get_current_object()

    def cast():
        return {"receipt": voting.cast_vote(voter, now(), box, vote_from_form(request.form, box))}

    outcome = call_service(None, cast)
    if outcome is None:
        return _refused(slug, assembly_id)
    if outcome["receipt"]:
        # Shown once, on the page this redirects to; only its fingerprint is stored.
        session["receipt"] = {"assembly": box.id, "code": outcome["receipt"]}
        return redirect(url_for(".receipt", slug=slug, assembly_id=box.id), 303)
    return redirect(url_for(".voted", slug=slug, assembly_id=box.id), 303)


def _refused(slug: str, assembly_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    return _page(neighbourhood, assembly, vote_error=True, status=400)


@bp.route("/<int:assembly_id>/receipt")
@login_required
def receipt(slug: str, assembly_id: int):
    """The receipt of a vote just cast, shown once: a refresh finds it gone, never votes again."""
    neighbourhood, assembly = _load(slug, assembly_id)
    held = session.get("receipt")
    if not held or held.get("assembly") != assembly.id:
        return _back(neighbourhood, assembly, "vote")
    session.pop("receipt")
    response = Response(render_template("assemblies/receipt.html", neighbourhood=neighbourhood,
                                        assembly=assembly, receipt=held["code"]))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:assembly_id>/voted")
@identity_only
@login_required
def voted(slug: str, assembly_id: int):
    """Where a vote lands: the confirmation, light to render (no agenda, no ballot paper). Anyone
    who has not voted in this session is sent to the session page instead."""
    title = voting.voted_title(current_user, slug, assembly_id)
    if title is None:
        return redirect(url_for(".show", slug=slug, assembly_id=assembly_id, _anchor="vote"))
    response = Response(render_template("assemblies/voted.html", slug=slug, assembly_id=assembly_id, title=title))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:assembly_id>/ballots.json")
def ballots_json(slug: str, assembly_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    result = voting.result_of(assembly)
    if result is None:
        return render_template("errors/404.html"), 404
    # Exactly the bytes whose SHA-256 is the published fingerprint, so any SHA-256 tool agrees.
    return Response(verification.published_bytes(result), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{slug}-assembly-{assembly.id}-ballots.json"',
        "X-Ballots-Digest": result.digest})


@bp.route("/<int:assembly_id>/check", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)
def check_count(slug: str, assembly_id: int):
    """Anyone may give the downloaded ballots file back to be fingerprinted and recounted; it is
    read from the request and never stored. (With JavaScript the fingerprint is also shown at once.)"""
    neighbourhood, assembly = _load(slug, assembly_id)
    result = voting.result_of(assembly)
    if result is None:
        return render_template("errors/404.html"), 404
    checked, problem, status = None, None, 200
    if request.method == "POST":
        request.max_content_length = current_app.config["BALLOTS_FILE_MAX_BYTES"]
        upload = request.files.get("ballots")
        if not ButtonForm().validate_on_submit():
            problem, status = _("The form has expired. Please submit it again."), 400
        elif upload is None or not upload.filename:
            problem, status = _("Choose the ballots file you downloaded."), 400
        else:
            checked = verification.check_file(upload.read(), result)
            status = 200 if checked.problem is None else 400
    return render_template("assemblies/check.html", neighbourhood=neighbourhood, assembly=assembly, result=result,
                           checked=checked, problem=problem, button=ButtonForm(),
                           titles={str(item.id): agenda_title(item) for item in assembly.items},
                           max_megabytes=current_app.config["BALLOTS_FILE_MAX_BYTES"] // (1024 * 1024)), status


@bp.route("/<int:assembly_id>/result.json")
def result_json(slug: str, assembly_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    result = voting.result_of(assembly)
    if result is None:
        return render_template("errors/404.html"), 404
    return Response(json.dumps({"digest": result.digest, "computed_at": result.computed_at.isoformat(),
                                "result": result.result}, ensure_ascii=False, indent=1, sort_keys=True),
                    mimetype="application/json")


@bp.route("/<int:assembly_id>/minutes", methods=["GET", "POST"])
@login_required
def minutes(slug: str, assembly_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    require("manage_assemblies", assembly)
    form = MinutesForm(obj=assembly if request.method == "GET" else None)
    if form.validate_on_submit():
        if call_service(form, services.write_minutes, current_user, now(), assembly, minutes=form.minutes.data,
                        attendance=form.attendance.data, bodies_present=form.bodies_present.data) is not None:
            flash(_("The minutes have been published."), "success")
            return _back(neighbourhood, assembly, "minutes")
    return render_template("assemblies/minutes_form.html", neighbourhood=neighbourhood, assembly=assembly,
                           form=form), form_status()


@bp.route("/<int:assembly_id>/agenda/<int:item_id>/paper", methods=["POST"])
@login_required
def paper_count(slug: str, assembly_id: int, item_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    require("manage_assemblies", assembly)
    form = PaperCountForm()
    if form.validate_on_submit() and call_service(
            form, services.record_paper_count, current_user, now(), assembly, item_id, yes=form.yes.data,
            no=form.no.data, abstain=form.abstain.data) is not None:
        flash(_("The count from the room has been recorded."), "success")
        return _back(neighbourhood, assembly, "agenda")
    return _page(neighbourhood, assembly, paper_form=form, paper_item=item_id, status=400)


@bp.route("/<int:assembly_id>/attendance.csv")
@login_required
def attendance(slug: str, assembly_id: int):
    neighbourhood, assembly = _load(slug, assembly_id)
    require("manage_assemblies", assembly)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Name"), _("Address"), _("Voted online"), _("Present")])
    for name, address, voted in voting.attendance_rows(current_user, assembly):
        writer.writerow([neutralise(name), neutralise(address), _("yes") if voted else _("no"), ""])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{slug}-assembly-{assembly.id}-attendance.csv"'})



@help_bp.route("/voting", endpoint="voting")
def voting_help():
    return render_template("help/voting.html")

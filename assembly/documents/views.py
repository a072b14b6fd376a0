"""The printable documents (see the package's docstring): thin views over the domains' reads."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from assembly import i18n
from assembly.assemblies import services as assemblies
from assembly.assemblies import voting
from assembly.cases import queries as cases
from assembly.extensions import limiter
from assembly.neighbourhoods import context, invitations
from assembly.neighbourhoods.context import current_neighbourhood
from assembly.neighbourhoods.models import Neighbourhood
from assembly.printing import pdf_headers, qr_svg, render_pdf
from assembly.rate_limits import person_key
from assembly.urls import external_url
from assembly.web import now, require

bp = Blueprint("documents", __name__)
bp.url_value_preprocessor(context.from_url)

# A PDF costs a second of a worker's time: counted per person (or address), apart from page views.
def _as_pdf() -> bool:
    """Each document has two addresses: the page, and the same with `.pdf` (endpoint `…_pdf`)."""
    return request.endpoint.endswith("_pdf")


_pdf_limit = limiter.limit(lambda: current_app.config["RATELIMIT_PDF"], key_func=person_key,
                           exempt_when=lambda: not _as_pdf())


def _language(neighbourhood: Neighbourhood) -> str:
    """The document's language: the neighbourhood's, unless `?language=` asks for another one."""
    return i18n.valid_locale(request.args.get("language")) or neighbourhood.default_locale


def _document(template: str, neighbourhood: Neighbourhood, filename: Callable[[], str], pdf: bool,
              **values) -> Response:
    """Render `template` in the neighbourhood's language and time zone, as a page or as a PDF."""
    i18n.use_timezone(neighbourhood.municipality.timezone)
    language = _language(neighbourhood)
    pdf_url = url_for(f"{request.endpoint.removesuffix('_pdf')}_pdf", **request.view_args,
                      language=request.args.get("language"))
    with force_locale(language):
        html = render_template(template, neighbourhood=neighbourhood, as_pdf=pdf, language=language,
                               qr=qr_svg, pdf_url=pdf_url, **values)
        name = filename()
    if not pdf:
        return Response(html, mimetype="text/html")
    return Response(render_pdf(html), headers=pdf_headers(name))


_SESSION_DOCUMENTS = "any(agenda, results, minutes)"


@bp.route(f"/n/<slug>/assemblies/<int:assembly_id>/print/<{_SESSION_DOCUMENTS}:kind>")
@bp.route(f"/n/<slug>/assemblies/<int:assembly_id>/print/<{_SESSION_DOCUMENTS}:kind>.pdf",
          endpoint="session_document_pdf")
@_pdf_limit
def session_document(slug: str, assembly_id: int, kind: str):
    """A session's agenda, its results with the ballots' fingerprint, or its minutes."""
    neighbourhood = current_neighbourhood()
    assembly = assemblies.get_assembly(current_user, neighbourhood, assembly_id)  # NotFound for drafts
    result = voting.result_of(assembly)
    if kind == "results" and result is None or kind == "minutes" and not assembly.minutes_html:
        return render_template("errors/404.html"), 404
    names = {"agenda": lambda: _("agenda"), "results": lambda: _("results"), "minutes": lambda: _("minutes")}
    return _document(
        f"print/{kind}.html", neighbourhood, lambda: f"{slug}-{assembly.id}-{names[kind]()}.pdf",
        _as_pdf(), assembly=assembly, ballot=assembly.ballot, result=result,
        live_url=external_url("assemblies.show", slug=slug, assembly_id=assembly.id),
        check_url=external_url("assemblies.check_count", slug=slug, assembly_id=assembly.id),
        items_by_id={str(item.id): item for item in assembly.items},
        status=assemblies.shown_status(assembly, now()), method_label=assemblies.method_label)


@bp.route("/cases/<reference>/letter")
@bp.route("/cases/<reference>/letter.pdf", endpoint="forwarding_letter_pdf")
@_pdf_limit
def forwarding_letter(reference: str):
    """The letter that goes with a forwarded item to the body, in the neighbourhood's language."""
    case = cases.get_by_reference(reference)
    live = external_url("cases.show", reference=case.reference)
    return _document("print/letter.html", case.neighbourhood, lambda: f"{case.reference}.pdf",
                     _as_pdf(), case=case, live_url=live)


@bp.route("/n/<slug>/invites/<batch>")
@bp.route("/n/<slug>/invites/<batch>.pdf", endpoint="invite_letters_pdf")
@login_required
@_pdf_limit
def invite_letters(slug: str, batch: str):
    """One letter per invitation code, each on its own sheet, with a QR code to the join page."""
    neighbourhood = current_neighbourhood()
    require("issue_invite_codes", neighbourhood)
    codes = invitations.invite_batch(current_user, neighbourhood, batch)  # NotFound (404) for an unknown batch
    response = _document("print/invitations.html", neighbourhood,
                         lambda: f"{slug}-{_('invitations')}-{batch}.pdf", _as_pdf(),
                         codes=codes, batch=batch, join_url=external_url("neighbourhoods.redeem"))
    response.headers["Cache-Control"] = "private, no-store"  # the codes are secrets until used
    return response

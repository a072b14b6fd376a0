"""CSV exchange pages of a body's staff: download the cases, upload outcomes."""
from __future__ import annotations

from flask import Blueprint, Response, flash, g, redirect, render_template, request, stream_with_context, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired

from assembly.cases import exchange
from assembly.cases.queries import InboxFilters
from assembly.db import db
from assembly.errors import NotFound
from assembly.i18n import ngettext
from assembly.neighbourhoods.models import Body
from assembly.params import query_int
from assembly.web import form_status, now, require

bp = Blueprint("case_exchange", __name__, url_prefix="/staff/bodies/<int:body_id>")


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file with outcomes"), validators=[
        FileRequired(_l("Choose a CSV file.")), FileAllowed(["csv", "txt"], _l("Choose a file ending in .csv."))],
        description=_l("UTF-8, comma-separated, first line: reference,status,date,note"))


def _body(body_id: int) -> Body:
    body = db.session.get(Body, body_id)
    if body is None:
        raise NotFound()
    require("act_for_body", body)
    return body


def _filters() -> InboxFilters:
    return InboxFilters(status=request.args.get("status") or None,
                        neighbourhood_id=query_int("neighbourhood") or None,
                        category_id=query_int("category") or None,
                        overdue=request.args.get("overdue") in ("1", "y", "on", "true"))


@bp.get("/export.csv")
@login_required
def export(body_id: int):
    body = _body(body_id)
    chunks = exchange.export_rows(current_user, now(), body, _filters())
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{body.slug}-cases-{now():%Y-%m-%d}.csv"'
    return response


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_outcomes(body_id: int):
    body = _body(body_id)
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        report = exchange.import_outcomes(current_user, now(), body, form.file.data.read())
        if report.ok:
            flash(ngettext("%(num)s row was applied.", "%(num)s rows were applied.", report.applied), "success")
            return redirect(url_for(".import_outcomes", body_id=body.id))
        g.form_failed = True
    return render_template("cases/import.html", form=form, body=body, report=report,
                           columns=exchange.REQUIRED_COLUMNS, optional_columns=exchange.OPTIONAL_COLUMNS,
                           max_rows=exchange.MAX_ROWS), form_status()

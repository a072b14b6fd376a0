"""`flask check counters`: maintained counters equal a full recount, and drift is reported."""
from sqlalchemy import text

from assembly.db import db
from assembly.integrity import check_counters
from assembly.proposals import discussion, services
from tests import factories
from tests import proposal_factories as pf


def _busy_world():
    w = pf.world()
    proposal = pf.proposal(w)
    for _ in range(3):
        services.support(factories.resident(w.hood), factories.now(), proposal)
    discussion.add_comment(w.author, factories.now(), proposal, "First!")
    db.session.flush()
    return w, proposal


def test_counters_equal_a_recount_after_normal_work(ctx):
    _busy_world()
    assert check_counters() == []


def test_drifted_counters_are_listed_with_stored_and_recounted_values(ctx):
    w, proposal = _busy_world()
    db.session.execute(text("UPDATE proposals SET support_count = 7, comment_count = 0 WHERE id = :id"),
                       {"id": proposal.id})
    db.session.execute(text("UPDATE neighbourhoods SET verified_resident_count = 99 WHERE id = :id"),
                       {"id": w.hood.id})
    found = {(m.counter, m.row_id): (m.stored, m.recounted) for m in check_counters()}
    assert found[("proposals.support_count", proposal.id)] == (7, 3)
    assert found[("proposals.comment_count", proposal.id)] == (0, 1)
    assert found[("neighbourhoods.verified_resident_count", w.hood.id)] == (99, 4)


def test_the_command_exits_non_zero_on_drift(app):
    with app.app_context():
        _, proposal = _busy_world()
        db.session.commit()
        runner = app.test_cli_runner()
        assert runner.invoke(args=["check", "counters"]).exit_code == 0
        db.session.execute(text("UPDATE proposals SET support_count = support_count + 1 WHERE id = :id"),
                           {"id": proposal.id})
        db.session.commit()
        result = runner.invoke(args=["check", "counters"])
    assert result.exit_code == 1
    assert f"proposals.support_count of row {proposal.id}: stored 4, recounted 3" in result.output

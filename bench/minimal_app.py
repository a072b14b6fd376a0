"""The floors: a vote endpoint can approach one INSERT under a unique constraint and one commit
(POST /vote); a page, a trivial Flask endpoint (GET /).

Served by gunicorn in `bench.vote_bench` beside the real endpoints, on the same database.
"""
from __future__ import annotations

import itertools
import os
import random

from flask import Flask
from sqlalchemy import Integer, UniqueConstraint, create_engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from assembly.db import make_engine


class Base(DeclarativeBase):
    pass


class MinimalVote(Base):
    __tablename__ = "bench_minimal_votes"
    __table_args__ = (UniqueConstraint("ballot_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ballot_id: Mapped[int]
    user_id: Mapped[int]


def create_tables(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()


def create_minimal_app() -> Flask:
    app = Flask(__name__)
    engine = make_engine(os.environ["BENCH_DATABASE_URL"])
    counter = itertools.count(random.randrange(1 << 30))  # within a 32-bit integer column

    @app.get("/")
    def trivial():  # the trivial endpoint pages are compared with
        return "ok"

    @app.post("/vote")
    def vote():
        with Session(engine) as session:
            session.add(MinimalVote(ballot_id=1, user_id=next(counter)))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return "duplicate", 409
        return "ok"

    return app


app = create_minimal_app() if "BENCH_DATABASE_URL" in os.environ else None

"""Demo photos and "is it fixed?" answers: small street scenes drawn with Pillow when the demo
is loaded (no image files ship with the code), attached by their authors to open proposals (and,
through `scene_upload`, to a meeting's question and to progress steps of the promises);
in Osmanağa the muhtar hides one with a public reason. A done case is confirmed by its
proposal's author, and another, marked done, is reopened by a resident who says it is not fixed."""
from __future__ import annotations

import datetime as dt
import io
import random

from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select

from assembly.accounts.models import User
from assembly.cases import confirmations, services as cases
from assembly.cases.models import Case
from assembly.db import db
from assembly.neighbourhoods.models import BodyStaff, Membership, Neighbourhood
from assembly.photos import services as photos
from assembly.proposals import photos as proposal_photos
from assembly.proposals import services as proposals
from assembly.proposals.models import Proposal

SIZE = (480, 360)


def _noise(draw: ImageDraw.ImageDraw, rng: random.Random, box, colour, amount: int = 900) -> None:
    x0, y0, x1, y1 = box
    for _ in range(amount):
        x, y = rng.randint(x0, x1 - 1), rng.randint(y0, y1 - 1)
        shade = rng.randint(-18, 18)
        draw.point((x, y), fill=tuple(max(0, min(255, c + shade)) for c in colour))


def street_at_night(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    for y in range(SIZE[1]):  # a dusk sky fading into the dark
        t = y / SIZE[1]
        draw.line([(0, y), (SIZE[0], y)], fill=(int(20 + 30 * t), int(24 + 20 * t), int(60 - 20 * t)))
    draw.polygon([(0, 360), (480, 360), (300, 210), (180, 210)], fill=(48, 48, 52))  # the street
    _noise(draw, rng, (0, 230, 480, 360), (48, 48, 52), 2500)
    for x, lit in ((80, False), (240, True), (400, False)):
        draw.rectangle([x - 3, 120, x + 3, 300], fill=(30, 30, 30))
        draw.rectangle([x - 14, 112, x + 14, 122], fill=(60, 60, 60))
        if lit:
            draw.ellipse([x - 40, 100, x + 40, 160], fill=(120, 110, 60))
    for x in range(20, 480, 90):  # house fronts
        draw.rectangle([x, 150, x + 60, 240], fill=(35, 33, 40))
        draw.rectangle([x + 20, 180, x + 35, 200], fill=(150, 130, 70) if rng.random() < 0.4 else (25, 25, 30))
    return image.filter(ImageFilter.GaussianBlur(0.8))


def broken_bench(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE, (140, 180, 220))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 200, 480, 360], fill=(70, 120, 60))
    _noise(draw, rng, (0, 200, 480, 360), (70, 120, 60), 4000)
    for x in range(0, 480, 60):  # trees in the back
        draw.ellipse([x - 10, 110 + rng.randint(-10, 10), x + 60, 200], fill=(40, 90 + rng.randint(0, 30), 40))
    draw.rectangle([140, 250, 150, 300], fill=(60, 60, 60))
    draw.rectangle([330, 250, 340, 300], fill=(60, 60, 60))
    for y in (240, 256):
        draw.line([(130, y), (350, y + 20)], fill=(120, 80, 40), width=9)  # a slat fallen on one side
    draw.line([(130, 220), (250, 222)], fill=(120, 80, 40), width=9)
    return image.filter(ImageFilter.GaussianBlur(0.6))


def pothole(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE, (95, 95, 98))
    draw = ImageDraw.Draw(image)
    _noise(draw, rng, (0, 0, 480, 360), (95, 95, 98), 9000)
    draw.line([(240, 0), (240, 360)], fill=(210, 200, 120), width=6)
    draw.ellipse([150, 170, 330, 260], fill=(45, 42, 40))
    draw.ellipse([175, 185, 300, 245], fill=(70, 80, 95))  # rain water in it
    _noise(draw, rng, (150, 170, 330, 260), (55, 52, 50), 800)
    return image.filter(ImageFilter.GaussianBlur(0.7))


SCENES = (street_at_night, broken_bench, pothole)


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def scene_upload(name: str, scene, seed: str) -> photos.Upload:
    """One of the SCENES, drawn with its own seed, as an upload named `name`."""
    return photos.Upload(name, _jpeg(scene(random.Random(seed))))


def _attach_photos(neighbourhood: Neighbourhood, muhtar: User, now: dt.datetime, rng: random.Random) -> int:
    """Two photos each on up to three open proposals (their authors attach them)."""
    open_ = list(db.session.scalars(select(Proposal).where(
        Proposal.neighbourhood_id == neighbourhood.id, Proposal.status == "open", Proposal.hidden_at.is_(None))
        .order_by(Proposal.id).limit(3)))
    attached = []
    for number, proposal in enumerate(open_):
        scenes = [SCENES[number % len(SCENES)], SCENES[(number + 1) % len(SCENES)]]
        uploads = [photos.Upload(f"photo-{i}.jpg", _jpeg(scene(rng))) for i, scene in enumerate(scenes, start=1)]
        attached += photos.attach(proposal.author, proposal.published_at or now, proposal_photos.KIND, proposal,
                                  photos.prepare(uploads))
    if neighbourhood.slug == "osmanaga" and len(attached) > 1:
        photos.hide(muhtar, now - dt.timedelta(days=1), attached[1],
                    "Fotoğrafta bir komşumuzun evinin içi görünüyor.")
    return len(attached)


FIXED_NOTES = {"dolatabad": None, "caferaga": "Parkın deniz tarafındaki iki direk hâlâ yanmıyor."}


def _answers(neighbourhood: Neighbourhood, now: dt.datetime) -> None:
    """Dolatabad: the done case confirmed by its author. Caferağa: the lighting case marked done,
    and reopened by a follower who sees two lamps still dark."""
    case = db.session.scalar(select(Case).where(Case.neighbourhood_id == neighbourhood.id)
                             .order_by(Case.id).limit(1))
    if case is None or neighbourhood.slug not in FIXED_NOTES:
        return
    note = FIXED_NOTES[neighbourhood.slug]
    if case.status == "in_progress":
        staff = db.session.scalar(select(User).join(BodyStaff, BodyStaff.user_id == User.id)
                                  .where(BodyStaff.body_id == case.body_id).order_by(User.id))
        cases.apply_event(staff, now - dt.timedelta(days=8), case, "done",
                          {"note": "Altı direğin lambaları değiştirildi."})
    if case.status != "done":
        return
    author = case.proposal.author
    if note is None:
        confirmations.answer(author, now - dt.timedelta(days=9), case, "yes")
        return
    neighbour = db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.neighbourhood_id == neighbourhood.id, Membership.role == "resident",
        Membership.status == "verified", User.id != author.id).order_by(User.id).limit(1))
    voice = neighbour or author
    if voice is not author:  # a neighbour who follows the item was asked too
        proposals.follow(voice, now - dt.timedelta(days=9), case.proposal)
    confirmations.answer(voice, now - dt.timedelta(days=7), case, "no", note)


def load_photos(neighbourhood: Neighbourhood, muhtar: User, now: dt.datetime) -> int:
    rng = random.Random(neighbourhood.slug)
    count = _attach_photos(neighbourhood, muhtar, now, rng)
    _answers(neighbourhood, now)
    return count

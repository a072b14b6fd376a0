"""Meetings with bodies in a real browser: a resident asks and a neighbour supports on a phone in
Turkish; the organiser marks the meeting held and records an answer that becomes a case; the
printable minutes of Tehran district 20's meeting in Persian (right to left, Solar Hijri dates)."""
from __future__ import annotations

import re

from sqlalchemy import select

from assembly.accounts.models import User
from assembly.db import utcnow
from assembly.meetings import services as meetings
from assembly.meetings.models import Meeting, MeetingQuestion, MeetingStatus
from assembly.meetings.services import Invitation, MeetingInput
from assembly.neighbourhoods.models import Body, Municipality, Neighbourhood
from tests.browser.support import email, goto, submit
from tests.browser.test_phone import PHONE, _targets_and_widths
from tests.support import pdf_text


def _meeting_id(site, title_start: str) -> int:
    with site.database() as session:
        return session.scalar(select(Meeting.id).where(Meeting.title.startswith(title_start)).order_by(Meeting.id.desc()))


def test_a_resident_asks_and_a_neighbour_supports_on_a_phone_in_turkish(site, contexts):
    meeting_id = _meeting_id(site, "Huzur Toplantısı – Osmanağa ve Caferağa")
    path = f"/meetings/{meeting_id}"
    page = contexts.new(login="gul", viewport=PHONE).new_page()  # a resident of Osmanağa, in Turkish
    goto(page, path)
    assert page.locator("html").get_attribute("lang") == "tr"
    assert _targets_and_widths(page) == []
    with site.database() as session:
        police = session.scalar(select(Body.id).join(Municipality).where(Municipality.code == "KDK",
                                                                          Body.slug == "emniyet"))
    page.select_option("#body_id", value=str(police))
    page.fill("#text", "Kırmızı Kuşak Sokak'ta gece 02.00'ye kadar yüksek sesle müzik çalınıyor.")
    submit(page, page.get_by_role("button", name="Soruyu gönder"))
    assert "Sorunuz eklendi." in page.locator("main").inner_text()
    question = page.locator("li.card", has_text="Kırmızı Kuşak Sokak'ta gece")
    assert "0 destek" in question.inner_text()

    neighbour = contexts.new(login="ayse", viewport=PHONE).new_page()  # a resident of Caferağa
    goto(neighbour, path)
    card = neighbour.locator("li.card", has_text="Kırmızı Kuşak Sokak'ta gece")
    submit(neighbour, card.get_by_role("button", name="Destekle"))
    card = neighbour.locator("li.card", has_text="Kırmızı Kuşak Sokak'ta gece")
    assert "1 destek" in card.inner_text() and "Bu soruyu destekliyorsunuz." in card.inner_text()
    assert _targets_and_widths(neighbour) == []


def _held_meeting(site) -> tuple[int, int]:
    """A meeting of Caferağa's muhtar with one question to the electricity company, open for questions."""
    with site.database() as session:
        kadikoy = session.scalar(select(Municipality).where(Municipality.code == "KDK"))
        muhtar = session.scalar(select(User).where(User.email == email("muhtar.caferaga")))
        hood = session.scalar(select(Neighbourhood).where(Neighbourhood.slug == "caferaga"))
        electricity = session.scalar(select(Body).where(Body.municipality_id == kadikoy.id, Body.slug == "elektrik"))
        now = utcnow()
        meeting = meetings.create_meeting(muhtar, now, kadikoy, MeetingInput(
            title="Huzur Toplantısı – tarayıcı denemesi", starts_at=now, ends_at=None, place="Muhtarlık",
            neighbourhood_ids=[hood.id], invitations=[Invitation(electricity.id, "Canan Aksoy")]))
        meetings.move(muhtar, now, meeting, MeetingStatus.OPEN)
        resident = session.scalar(select(User).where(User.email == email("mehmet")))
        question = meetings.ask(resident, now, meeting, body_id=electricity.id,
                                text="Moda İskelesi'nin arkasındaki trafo sürekli vızıldıyor.")
        return meeting.id, question.id


def test_the_organiser_records_answers(site, contexts):
    meeting_id, question_id = _held_meeting(site)
    page = contexts.new(login="muhtar.caferaga").new_page()
    goto(page, f"/meetings/{meeting_id}")
    submit(page, page.get_by_role("button", name="Yapıldı olarak işaretle"))
    assert "Yapıldı: yanıtlar kaydediliyor" in page.locator("main").inner_text()
    page.locator(f"#question-{question_id}").get_by_role("link", name="Yanıtı kaydet").click()
    page.wait_for_url(re.compile(r"/answer$"))
    page.fill("#answer", "Trafo bu hafta bakıma alınacak; arıza kaydı açılıyor.")
    page.get_by_label("Kurum için bir dosya").check()
    assert page.locator("#category_id option:checked").inner_text() == "Sokak aydınlatması"  # the body's category
    submit(page, page.get_by_role("button", name="Yanıtı kaydet"))
    answered = page.locator(f"#question-{question_id}")
    assert "Trafo bu hafta bakıma alınacak" in answered.inner_text()
    case_link = answered.locator("a[href^='/cases/']")
    reference = case_link.inner_text()
    assert reference.startswith("KDK-CAFERAGA-")
    case_link.click()
    page.wait_for_url(re.compile(r"/cases/"))
    assert page.locator(f"a[href='/meetings/{meeting_id}#question-{question_id}']").count() == 1
    with site.database() as session:
        assert session.get(MeetingQuestion, question_id).follow_up == "case"


def test_the_printable_minutes_in_persian(site, contexts):
    meeting_id = _meeting_id(site, "نشست ماهانه شورایاران")
    page = contexts.new(lang="en").new_page()  # the reader's language does not matter: the meeting's does
    goto(page, f"/meetings/{meeting_id}/print")
    assert page.locator("html").get_attribute("dir") == "rtl" and page.locator("html").get_attribute("lang") == "fa"
    document = page.locator("main").inner_text()
    assert "صورت‌جلسه" in document and "دستور کار" in document
    assert re.search(r"[۰-۹]+ (فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند) ۱۴۰[۴-۶]", document)
    heading = page.locator("h1").bounding_box()
    assert heading["x"] + heading["width"] > 600  # right-aligned in a 1280 px window
    response = page.request.get(f"/meetings/{meeting_id}/print.pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body())
    assert "کانکس" in text and "دولت" in text

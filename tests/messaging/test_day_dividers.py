"""Day dividers and grouped messages on the conversation page, as the server renders them (no-JS).

static/js/history.js redraws the same for messages that arrive or load; tests/e2e/test_history.py
holds the two equal in the browser."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from messaging import markup, services
from messaging.models import Message

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")


def send_at(user, conversation, at: datetime, body: str) -> Message:
    message, _ = services.message_send(actor=user, conversation_id=conversation.pk, body=body)
    Message.objects.filter(pk=message.pk).update(created_at=at)
    return message


def page_items(html: str) -> list[str]:
    """The list in order: "day:<label>" for a divider, "<body>" or "<body>+" (continued) for a message."""
    listing = html.split('id="messages"', 1)[1].split("</ol>", 1)[0]
    items = []
    for match in re.finditer(
        r'<li class="day-divider" data-day="[\d-]+"><h2 class="day-label">([^<]+)</h2></li>'
        r'|<li class="(message[^"]*)".*?<div class="message-body">(.*?)</div>',
        listing,
    ):
        if match.group(1):
            items.append(f"day:{match.group(1)}")
        else:
            body = re.sub(r"<[^>]+>", "", match.group(3))
            items.append(body + ("+" if "continued" in match.group(2).split() else ""))
    return items


def test_days_are_divided_and_one_authors_run_is_grouped_in_the_viewers_time_zone(cast, login):
    cast.member.time_zone = "Asia/Tokyo"
    cast.member.save(update_fields=["time_zone"])
    today = timezone.now().astimezone(TOKYO).replace(hour=9, minute=0, second=0, microsecond=0)
    earlier = today - timedelta(days=3)
    send_at(cast.owner, cast.general, earlier, "long ago")
    send_at(cast.owner, cast.general, today - timedelta(days=1), "yesterday 1")
    send_at(cast.owner, cast.general, today - timedelta(days=1) + timedelta(minutes=2), "yesterday 2")
    send_at(cast.owner, cast.general, today, "today 1")  # the same author, but another day
    send_at(cast.owner, cast.general, today + timedelta(minutes=3), "today 2")
    send_at(cast.member, cast.general, today + timedelta(minutes=4), "mia answers")
    send_at(cast.member, cast.general, today + timedelta(minutes=30), "mia, later")  # too long after

    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()

    assert page_items(html) == [
        f"day:{markup.day_label(earlier.date(), today.date())}",
        "long ago",
        "day:Yesterday",
        "yesterday 1",
        "yesterday 2+",
        "day:Today",
        "today 1",
        "today 2+",
        "mia answers",
        "mia, later",
    ]
    assert 'data-time-zone="Asia/Tokyo"' in html
    assert f'data-group-seconds="{markup.MESSAGE_GROUP_SECONDS}"' in html
    # The times are the viewer's too.
    assert f'<time class="message-time" datetime="{today.isoformat()}"' in html


def test_the_day_a_message_falls_on_depends_on_the_viewers_time_zone(cast, login):
    late_sunday_utc = datetime(2020, 3, 1, 23, 30, tzinfo=UTC)  # already Monday in Tokyo
    send_at(cast.owner, cast.general, late_sunday_utc, "late")
    cast.member.time_zone = "Asia/Tokyo"
    cast.member.save(update_fields=["time_zone"])

    in_tokyo = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    in_utc = login(cast.other_member).get(f"/chats/{cast.general.pk}/").content.decode()  # no zone chosen

    assert page_items(in_tokyo) == ["day:Monday, March 2, 2020", "late"]
    assert page_items(in_utc) == ["day:Sunday, March 1, 2020", "late"]
    assert 'data-time-zone=""' in in_utc


def test_an_unknown_time_zone_falls_back_to_the_sites(cast, login):
    send_at(cast.owner, cast.general, datetime(2020, 3, 1, 23, 30, tzinfo=UTC), "late")
    cast.member.time_zone = "Mars/Olympus_Mons"
    cast.member.save(update_fields=["time_zone"])

    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()

    assert page_items(html) == ["day:Sunday, March 1, 2020", "late"]
    assert 'data-time-zone=""' in html


def test_an_older_page_starts_with_the_day_of_its_first_message(cast, login, settings):
    settings.HISTORY_PAGE_SIZE = 2
    start = datetime(2021, 6, 7, 10, 0, tzinfo=UTC)  # a Monday
    for n in range(4):
        send_at(cast.owner, cast.general, start + timedelta(minutes=n), f"m{n + 1}")

    html = login(cast.member).get(f"/chats/{cast.general.pk}/?before=3").content.decode()

    # A page of older history is a page of its own: its first message heads its day and its run.
    assert page_items(html) == ["day:Monday, June 7, 2021", "m1", "m2+"]


def test_day_labels():
    today = datetime(2026, 12, 4).date()
    assert markup.day_label(today, today) == "Today"
    assert markup.day_label(today - timedelta(days=1), today) == "Yesterday"
    assert markup.day_label(today - timedelta(days=2), today) == "Wednesday, December 2"
    assert markup.day_label(datetime(2025, 12, 31).date(), today) == "Wednesday, December 31, 2025"

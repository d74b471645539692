"""The sidebar in sections, without JavaScript: one collapsible `<details>` per group (by name), direct
messages in their own, full names on hover, and the sections this browser collapsed rendered closed."""

import re

from groups import services as group_services
from messaging import services
from messaging.selectors import default_conversation
from tests.conftest import send


def sections(html: str) -> list[tuple[str, str, list[int]]]:
    """[(section key, its name, the conversation ids in it)] in page order."""
    sidebar = html.split('id="conversation-list"', 1)[1].split("</nav>", 1)[0]
    found = []
    for key, body in re.findall(
        r'<details class="sidebar-section" data-section="([^"]+)"(.*?)</details>', sidebar, re.S
    ):
        name = re.search(r'<span class="section-name">([^<]*)</span>', body).group(1)
        found.append((key, name, [int(i) for i in re.findall(r'data-conversation-id="(\d+)"', body)]))
    return found


def test_conversations_are_grouped_under_their_group_and_direct_messages_last(login, cast, make_user):
    random = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="random")
    other = group_services.group_create(actor=cast.member, name="another team", member_usernames=["max"])
    direct, _ = services.direct_open(actor=cast.outsider, username=cast.member.username)
    send(cast.owner, cast.general, "older")
    send(cast.outsider, direct, "psst")
    send(cast.owner, random, "newest in Team")

    html = login(cast.member).get("/chats/").content.decode()

    # Groups by name ignoring case ("another team" before "Team"), newest activity first inside each.
    assert sections(html) == [
        (f"group-{other.pk}", "another team", [default_conversation(other).pk]),
        (f"group-{cast.group.pk}", "Team", [random.pk, cast.general.pk]),
        ("direct", "Direct messages", [direct.pk]),
    ]
    # Open unless collapsed; the full name is on the link (hover) and in the text, the group part
    # of a topic in its own span (hidden by the stylesheet inside its group's section).
    assert f'data-section="group-{cast.group.pk}" data-kind="group" data-group-id="{cast.group.pk}" open>' in html
    assert f'<a href="/chats/{random.pk}/" title="Team / random">' in html
    assert '<span class="conversation-name"><span class="conversation-group">Team / </span>random</span>' in html
    assert f'data-other-user-id="{cast.outsider.pk}"><a href="/chats/{direct.pk}/" title="Nora">' in html
    # The collapsed section's unread total: 2 in Team, 1 in the direct messages.
    assert '<span class="section-badge" aria-label="2 unread">2</span>' in html
    assert '<span class="section-badge" aria-label="1 unread">1</span>' in html


def test_sections_this_browser_collapsed_are_rendered_closed(login, cast):
    direct, _ = services.direct_open(actor=cast.outsider, username=cast.member.username)
    client = login(cast.member)
    client.cookies["sidebar_collapsed"] = f"group-{cast.group.pk},nonsense,group-x"
    html = client.get(f"/chats/{direct.pk}/").content.decode()
    assert f'data-section="group-{cast.group.pk}" data-kind="group" data-group-id="{cast.group.pk}"><summary' in html
    assert 'data-section="direct" data-kind="direct" open>' in html


def test_names_in_the_sidebar_are_escaped_in_the_text_and_the_title(login, cast, make_user):
    group = group_services.group_create(actor=cast.member, name='<i>"Q"</i>', member_usernames=[])
    html = login(cast.member).get("/chats/").content.decode()
    assert "<i>" not in html.split('id="conversation-list"', 1)[1]
    assert 'title="&lt;i&gt;&quot;Q&quot;&lt;/i&gt; / general"' in html
    assert f'data-section="group-{group.pk}"' in html and '<span class="section-name">&lt;i&gt;' in html


def test_an_empty_sidebar_says_so(login, make_user):
    html = login(make_user("loner")).get("/chats/").content.decode()
    assert "No conversations yet" in html and "sidebar-section" not in html


def test_the_sidebar_stays_one_query(login, cast, django_assert_max_num_queries):
    for n in range(5):
        send(cast.owner, services.topic_create(actor=cast.owner, group_id=cast.group.pk, name=f"t{n}"))
    client = login(cast.member)
    client.get("/chats/")
    with django_assert_max_num_queries(3):  # session, user, sidebar
        client.get("/chats/")

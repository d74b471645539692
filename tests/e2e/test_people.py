"""People pickers and confirmations in Chromium: the combobox driven from the keyboard, its ARIA state,
and destructive actions asking in a dialog first."""

import re

import pytest
from playwright.sync_api import Page, expect

from groups.models import Group, Membership
from groups.services import group_create
from messaging.models import Conversation
from tests.e2e.conftest import TIMEOUT_MS, assert_accessible, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def combobox_state(page: Page, selector: str) -> dict:
    return page.eval_on_selector(
        selector,
        """field => {
            const list = document.getElementById(field.getAttribute("aria-controls"));
            return {
                role: field.getAttribute("role"),
                expanded: field.getAttribute("aria-expanded"),
                autocomplete: field.getAttribute("aria-autocomplete"),
                listRole: list && list.getAttribute("role"),
                active: field.getAttribute("aria-activedescendant"),
                activeSelected: field.getAttribute("aria-activedescendant")
                    ? document.getElementById(field.getAttribute("aria-activedescendant")).getAttribute("aria-selected")
                    : null,
                labelled: field.labels.length > 0,
            };
        }""",
    )


def test_direct_message_picker_from_the_keyboard(server, new_context, make_user):
    make_user("alice", display_name="Alice A.")
    grace = make_user("ghopper", display_name="Grace Hopper")
    make_user("gregory", display_name="Gregory House")
    page = login(new_context(), server, "alice", next_path="/dm/")
    field = "main input[name=username]"

    page.focus(field)
    page.keyboard.type("hop")
    options = page.locator("[role=listbox] [role=option]")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Grace Hopper")
    expect(options.first).to_contain_text("@ghopper")
    state = combobox_state(page, field)
    assert state == {
        "role": "combobox",
        "expanded": "true",
        "autocomplete": "list",
        "listRole": "listbox",
        "active": None,
        "activeSelected": None,
        "labelled": True,
    }

    page.keyboard.press("ArrowDown")
    state = combobox_state(page, field)
    assert state["active"] and state["activeSelected"] == "true"
    page.keyboard.press("Enter")  # picks; does not submit
    expect(page.locator(field)).to_have_value("ghopper")
    assert combobox_state(page, field)["expanded"] == "false"
    assert page.url.endswith("/dm/")

    page.keyboard.press("Enter")  # now the form goes
    page.wait_for_url(re.compile(r"/chats/\d+/$"))
    direct = Conversation.objects.get(kind="direct")
    assert grace.pk in (direct.user_low_id, direct.user_high_id)


def test_escape_closes_the_suggestions_and_arrows_wrap(server, new_context, make_user):
    make_user("alice")
    make_user("greta", display_name="Greta G.")
    make_user("gregory", display_name="Gregory House")
    page = login(new_context(), server, "alice", next_path="/dm/")
    field = "main input[name=username]"
    page.focus(field)
    page.keyboard.type("gre")
    expect(page.locator("[role=option]")).to_have_count(2)
    page.keyboard.press("ArrowUp")  # from nothing, up goes to the last
    last = combobox_state(page, field)["active"]
    page.keyboard.press("ArrowDown")  # and wraps to the first
    assert combobox_state(page, field)["active"] != last
    page.keyboard.press("Escape")
    assert combobox_state(page, field)["expanded"] == "false"
    expect(page.locator("[role=listbox]")).to_be_hidden()
    expect(page.locator(field)).to_have_value("gre")


def test_new_group_members_picker_keeps_names_whole_and_adds_usernames(server, new_context, make_user):
    make_user("alice")
    make_user("ghopper", display_name="Grace Hopper")
    make_user("zoe", display_name="Zoë Ödegaard")
    page = login(new_context(), server, "alice", next_path="/groups/new/")
    page.fill("main input[name=name]", "Compilers")
    members = "main input[name=members]"
    page.focus(members)
    page.keyboard.type("Grace Hopper, odeg")  # a whole display name typed, then a search
    # The answer for "odeg": until it arrives, the list may still hold one typed earlier.
    expect(page.locator("[role=option][data-username=zoe]")).to_be_visible()
    expect(page.locator("[role=option]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(members)).to_have_value("Grace Hopper, zoe, ")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/chats/\d+/$"))
    group = Group.objects.get(name="Compilers")
    names = set(Membership.objects.filter(group=group).values_list("user__username", flat=True))
    assert names == {"alice", "ghopper", "zoe"}


def test_leaving_asks_in_a_dialog_and_cancel_does_nothing(server, new_context, make_user):
    owner = make_user("olivia")
    make_user("mia")
    group = group_create(actor=owner, name="Team", member_usernames=["mia"])
    page = login(new_context(), server, "mia", next_path=f"/groups/{group.pk}/")

    leave = page.locator(f"main a[href='/groups/{group.pk}/leave/']")
    leave.click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Leave Team?")
    expect(dialog.locator("button", has_text="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(leave).to_be_focused()  # focus goes back where it was
    assert Membership.objects.filter(group=group, user__username="mia").exists()

    leave.click()
    dialog.locator("button[type=submit]").click()
    page.wait_for_url(f"{server.url}/chats/")
    assert not Membership.objects.filter(group=group, user__username="mia").exists()


def test_without_javascript_the_pickers_and_confirmations_are_plain_pages(server, browser, make_user):
    make_user("alice")
    make_user("ghopper", display_name="Grace Hopper")
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = login(context, server, "alice", next_path="/dm/")
        assert page.get_attribute("main input[name=username]", "role") is None
        page.fill("main input[name=username]", "grace hopper")
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r"/chats/\d+/$"))
    finally:
        context.close()


def test_settings_preselect_the_browsers_time_zone_until_one_is_saved(server, browser, make_user):
    alice = make_user("alice")
    context = browser.new_context(timezone_id="Asia/Tokyo")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = login(context, server, "alice", next_path="/accounts/settings/")
        select = page.locator("select[name=time_zone]")
        expect(select).to_have_value("Asia/Tokyo")
        alice.refresh_from_db()
        assert alice.time_zone == ""  # nothing is saved by looking
        page.click("form:has(input[value=profile]) button[type=submit]")
        page.wait_for_url(f"{server.url}/accounts/settings/")
        alice.refresh_from_db()
        assert alice.time_zone == "Asia/Tokyo"
    finally:
        context.close()


def test_new_pages_pass_axe_core(server, new_context, make_user):
    owner = make_user("alice", display_name="Alice A.")
    make_user("ghopper", display_name="Grace Hopper")
    group = group_create(actor=owner, name="Team", member_usernames=["ghopper"], is_public=True)
    page = login(new_context(), server, "alice")
    for path in (
        "/people/",
        "/people/?q=gr",
        "/people/ghopper/",
        "/groups/",
        "/groups/new/",
        f"/groups/{group.pk}/",
        f"/groups/{group.pk}/members/ghopper/remove/",
        "/dm/",
        "/accounts/settings/",
    ):
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state("load")
        assert_accessible(page, path)


def test_the_transfer_picker_suggests_the_groups_members_only(server, new_context, make_user):
    owner = make_user("olivia")
    make_user("gwen", display_name="Gwen Member")
    make_user("gus", display_name="Gus Outsider")
    group = group_create(actor=owner, name="Team", member_usernames=["gwen"])
    page = login(new_context(), server, "olivia", next_path=f"/groups/{group.pk}/")
    field = "#id_transfer_username"
    page.focus(field)
    page.keyboard.type("g")
    options = page.locator(f"#{page.get_attribute(field, 'aria-controls')} [role=option]")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Gwen Member")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(field)).to_have_value("gwen")

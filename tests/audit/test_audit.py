"""The audit log: security events as rows (read-only in the admin) and as single log lines; prune_audit."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from groups import services as group_services
from tests.accounts.helpers import login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.5"
NEW_PASSWORD = "a brand new passphrase 42"


def events(kind: str | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.order_by("pk")
    return list(found.filter(kind=kind) if kind else found)


def audit_lines(output) -> list[str]:
    return [
        line
        for line in output.getvalue().splitlines()
        if re.search(r" INFO audit user=\S+ conversation=- audit ", line)
    ]


def test_a_login_and_a_logout_are_recorded_with_the_address_and_logged_on_one_line(
    client, alice, log_output, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert login(client, "alice", address=ADDRESS).status_code == 302
        client.post("/accounts/logout/", REMOTE_ADDR=ADDRESS)
    (logged_in,) = events("login")
    assert (logged_in.actor_id, logged_in.target_user_id, logged_in.address) == (alice.pk, alice.pk, ADDRESS)
    (logged_out,) = events("logout")
    assert logged_out.actor_id == alice.pk and logged_out.address == ADDRESS

    lines = audit_lines(log_output)
    assert len(lines) == 2
    assert re.search(rf" INFO audit user={alice.pk} conversation=- audit login target_user={alice.pk} ", lines[0])
    assert f"address={ADDRESS}" in lines[0]


def test_failed_and_throttled_logins_are_recorded_with_the_name_tried(
    client, alice, log_output, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            assert login(client, "alice", "wrong\nINFO forged", address=ADDRESS).status_code == 400
        assert login(client, "ALICE\nforged line", "x", address=ADDRESS).status_code == 400
        assert login(client, "alice", address=ADDRESS).status_code == 429
    failed = events("login_failed")
    assert len(failed) == 6
    assert failed[0].address == ADDRESS and failed[0].detail == {"username": "alice"}
    assert failed[0].actor_id is None
    (throttled,) = events("login_throttled")
    assert throttled.detail == {"username": "alice", "scope": "pair"} and throttled.address == ADDRESS
    assert "wrong" not in str([e.detail for e in events()])  # passwords are never recorded
    # One event, one line: a newline in a tried name cannot forge a record.
    assert len(audit_lines(log_output)) == 7
    assert not any(line.startswith("forged") for line in log_output.getvalue().splitlines())


def test_password_changes_and_wrong_current_passwords_are_recorded(alice_client, alice):
    data = {"action": "password", "old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert alice_client.post("/accounts/settings/", data, REMOTE_ADDR=ADDRESS).status_code == 400
    (failed,) = events("login_failed")
    assert (failed.actor_id, failed.address, failed.detail) == (alice.pk, ADDRESS, {"prompt": "password_change"})
    data["old_password"] = PASSWORD
    assert alice_client.post("/accounts/settings/", data, REMOTE_ADDR=ADDRESS).status_code == 302
    (changed,) = events("password_change")
    assert changed.actor_id == alice.pk and changed.target_user_id == alice.pk


def test_role_changes_removals_and_departures_are_recorded(alice, bob, carol):
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob", "carol"])
    owner = Client()
    owner.force_login(alice)
    assert owner.post(f"/groups/{group.pk}/members/bob/role/", {"role": "admin"}).status_code == 302
    assert owner.post(f"/groups/{group.pk}/members/carol/remove/").status_code == 302
    group_services.group_transfer(actor=alice, group_id=group.pk, username="bob")
    group_services.group_leave(actor=alice, group_id=group.pk)

    roles = [(e.actor_id, e.target_user_id, e.target_group_id, e.detail) for e in events("role_change")]
    assert roles == [
        (alice.pk, bob.pk, group.pk, {"from": "member", "to": "admin"}),
        (alice.pk, alice.pk, group.pk, {"from": "owner", "to": "admin"}),
        (alice.pk, bob.pk, group.pk, {"from": "admin", "to": "owner"}),
    ]
    (removed,) = events("member_remove")
    assert (removed.actor_id, removed.target_user_id, removed.target_group_id) == (alice.pk, carol.pk, group.pk)
    (left,) = events("member_leave")
    assert left.target_user_id == alice.pk


def test_an_account_deletion_is_recorded_and_outlives_the_account(alice_client, alice):
    alice_id = alice.pk
    assert alice_client.post("/accounts/settings/delete/", {"password": PASSWORD}).status_code == 302
    assert not User.objects.filter(pk=alice_id).exists()
    (deleted,) = events("account_delete")
    assert deleted.actor_id == alice_id and deleted.detail == {"username": "alice", "delete_messages": False}


def test_a_refused_change_records_nothing(alice, bob):
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    member = Client()
    member.force_login(bob)
    assert member.post(f"/groups/{group.pk}/members/alice/remove/").status_code == 403
    assert events("member_remove") == []


@pytest.fixture
def staff(db):
    user = User.objects.create_superuser("root", "root@example.com", "unused-password-123")
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_shows_events_read_only(staff, alice):
    AuditEvent.objects.create(kind="login", actor_id=alice.pk, target_user_id=alice.pk, address=ADDRESS)
    event = events("login")[-1]
    listing = staff.get("/admin/audit/auditevent/", {"q": ADDRESS})
    assert listing.status_code == 200 and ADDRESS in listing.content.decode()
    assert staff.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200  # view only
    assert staff.get("/admin/audit/auditevent/add/").status_code == 403
    assert staff.post(f"/admin/audit/auditevent/{event.pk}/change/", {"kind": "logout"}).status_code == 403
    assert staff.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).kind == "login"


def test_staff_actions_in_the_admin_are_recorded(staff, alice, bob):
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    data = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    assert staff.post(f"/admin/accounts/user/{bob.pk}/password/", data).status_code == 302
    (changed,) = events("password_change")
    assert changed.target_user_id == bob.pk and changed.detail == {"by_staff": True, "usable": True}
    assert staff.post(f"/admin/groups/group/{group.pk}/delete/", {"post": "yes"}).status_code == 302
    (deleted,) = events("group_delete")
    assert deleted.target_group_id == group.pk and sorted(deleted.detail["members"]) == sorted([alice.pk, bob.pk])
    root = User.objects.get(username="root")
    assert deleted.actor_id == root.pk


def test_prune_audit_deletes_old_events_only(run_command, alice):
    for days in (400, 200, 10):
        event = AuditEvent.objects.create(kind="login", actor_id=alice.pk)
        AuditEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=days))
    assert "would delete 2 audit events older than 180 days" in run_command("prune_audit", "--days", "180", "--dry-run")
    assert AuditEvent.objects.count() == 3
    output = run_command("prune_audit", "--days", "180", "--batch-size", "1")
    assert "Deleted 2 audit events older than 180 days" in output and "in 2 batches" in output
    assert AuditEvent.objects.count() == 1


def test_prune_audit_refuses_a_bad_number_of_days(run_command):
    from django.core.management.base import CommandError

    for bad in ("0", "-3", "ten", "9" * 5000):
        with pytest.raises(CommandError):
            run_command("prune_audit", "--days", bad)

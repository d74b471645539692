"""Group pages: thin adapters from HTML forms to `groups.services`; they work without JavaScript.

Every view runs inside `domain_errors` (NotFound → 404 page, Forbidden → 403 page). An
`Invalid` from a service is attached to the submitted form by `_submit` and the page is
re-rendered with it (400), so each call site is just "parse, call, redirect".
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from chatsite.errors import Forbidden, Invalid
from chatsite.http import domain_errors, form_error, query_text
from groups import registry, selectors, services
from groups.access import access_group, check_can_remove, check_can_set_role, permits, require_manager, require_owner
from groups.forms import EmptyForm, GroupCreateForm, GroupEditForm, MemberAddForm, MemberRoleForm, TransferForm

CHATS_URL = reverse_lazy("messaging:list")  # where a member goes once the group is gone for them

# Which form field a service's `Invalid.code` belongs to, when the form has that field.
FIELD_BY_CODE = {
    "unknown_users": "members",
    "ambiguous": "members",
    "blank": "name",
    "too_long": "name",
}
# The person fields (add member, transfer) take these errors themselves.
PERSON_CODES = ("unknown_users", "ambiguous", "blank_person", "duplicate", "not_member", "invalid")


def _submit(form: forms.Form, action: Callable[[dict], Any]) -> tuple[bool, Any]:
    """Validate the form and run the service; an `Invalid` becomes the form's error. Returns (ok, result)."""
    if not form.is_valid():
        return False, None
    try:
        return True, action(form.cleaned_data)
    except Invalid as error:
        field = FIELD_BY_CODE.get(error.code)
        if "username" in form.fields and error.code in PERSON_CODES:
            field = "username"
        form_error(form, field if field in form.fields else None, error)
        return False, None


def _group_url(group_id) -> str:
    return reverse("groups:detail", args=[group_id])


def _group_page(
    request: HttpRequest, group_id, *, status: int = 200, bound: dict[str, forms.Form] | None = None, errors=()
) -> HttpResponse:
    """The group page; after a failed action, with the submitted form (or its errors) in place."""
    group, me = access_group(request.user, group_id)
    memberships = selectors.group_memberships(group)
    rows = [
        {
            "membership": m,
            "is_you": m.pk == me.pk,
            "can_remove": m.pk != me.pk and permits(check_can_remove, me, m),
            "can_set_role": permits(check_can_set_role, me, m),
        }
        for m in memberships
    ]
    context = {
        "group": group,
        "me": me,
        "rows": rows,
        **registry.page_context(group, request.user),  # its conversations (messaging)
        "can_manage": permits(require_manager, me),
        "is_owner": permits(require_owner, me),
        "edit_form": GroupEditForm(
            initial={
                "name": group.name,
                "description": group.description,
                "visibility": "public" if group.is_public else "private",
            }
        ),
        "add_form": MemberAddForm(),
        "transfer_form": TransferForm(group_id=group.pk),
        "errors": list(errors),
        **(bound or {}),
    }
    return render(request, "groups/detail.html", context, status=status)


def _group_action(
    request: HttpRequest,
    group_id,
    form: forms.Form,
    action: Callable[[dict], Any],
    *,
    done: Callable[[Any], str],
    form_key: str | None = None,
    next_url: str | None = None,
) -> HttpResponse:
    """POST handler shape shared by every group action: submit, then flash and redirect, or re-render (400).

    `form_key` names the page's form that shows its own errors; without it (per-member
    buttons, leave) the errors are shown at the top of the page.
    """
    ok, result = _submit(form, action)
    if ok:
        messages.success(request, done(result))
        return redirect(next_url or _group_url(group_id))
    if form_key:
        return _group_page(request, group_id, status=400, bound={form_key: form})
    errors = [error for field_errors in form.errors.values() for error in field_errors]
    return _group_page(request, group_id, status=400, errors=errors)


@login_required
@require_safe
def group_browse(request: HttpRequest) -> HttpResponse:
    """GET /groups/?q=&page=: the public groups, with member counts and a join button."""
    query = query_text(request, "q", 80)
    groups = selectors.public_groups(request.user, query)
    page = Paginator(groups, settings.PEOPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "groups/browse.html", {"query": query, "page": page})


@require_POST
@login_required
@domain_errors
def group_join(request: HttpRequest, group_id: int) -> HttpResponse:
    """POST /groups/<id>/join/: join a public group and land in its chat; 404 for a private one."""
    group, joined = services.group_join(actor=request.user, group_id=group_id)
    if joined:
        messages.success(request, f"You joined {group.name}.")
    else:
        messages.info(request, f"You are already a member of {group.name}.")
    return redirect(registry.landing_url(group) or _group_url(group.pk))


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def group_new(request: HttpRequest) -> HttpResponse:
    form = GroupCreateForm(request.POST or None)
    if request.method != "POST":
        return render(request, "groups/new.html", {"form": form})
    ok, group = _submit(
        form,
        lambda data: services.group_create(
            actor=request.user,
            name=data["name"],
            description=data["description"],
            member_usernames=data["members"],
            is_public=data["visibility"],
        ),
    )
    if not ok:
        return render(request, "groups/new.html", {"form": form}, status=400)
    messages.success(request, f"Created {group.name}.")
    return redirect(registry.landing_url(group) or _group_url(group.pk))


@login_required
@domain_errors
@require_safe
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    return _group_page(request, group_id)


@require_POST
@login_required
@domain_errors
def group_edit(request: HttpRequest, group_id: int) -> HttpResponse:
    return _group_action(
        request,
        group_id,
        GroupEditForm(request.POST),
        lambda data: services.group_update(
            actor=request.user,
            group_id=group_id,
            name=data["name"],
            description=data["description"],
            is_public=data["visibility"],
        ),
        done=lambda group: "Group details saved.",
        form_key="edit_form",
    )


@require_POST
@login_required
@domain_errors
def member_add(request: HttpRequest, group_id: int) -> HttpResponse:
    return _group_action(
        request,
        group_id,
        MemberAddForm(request.POST),
        lambda data: services.member_add(actor=request.user, group_id=group_id, username=data["username"]),
        done=lambda membership: f"Added {membership.user.name} to the group.",
        form_key="add_form",
    )


def _confirm_page(request: HttpRequest, context: dict) -> HttpResponse:
    """The no-JS confirmation of a destructive action: what happens, a form posting to the same path, Cancel."""
    return render(request, "groups/confirm.html", {"form": EmptyForm(), **context})


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, group_id: int, username: str) -> HttpResponse:
    """GET: the confirmation page (for those who may remove that member). POST: remove them."""
    if request.method != "POST":
        group, me = access_group(request.user, group_id)
        target = selectors.member_by_username(group, username)
        check_can_remove(me, target)
        name = target.user.name
        return _confirm_page(
            request,
            {
                "group": group,
                "title": f"Remove {name} from {group.name}?",
                "text": f"{name} will stop seeing the group's conversations. You can add them back later.",
                "action": reverse("groups:member_remove", args=[group.pk, target.user.username]),
                "button": "Remove member",
            },
        )
    return _group_action(
        request,
        group_id,
        EmptyForm(request.POST),
        lambda data: services.member_remove(actor=request.user, group_id=group_id, username=username),
        done=lambda _: f"Removed {username} from the group.",
    )


@require_POST
@login_required
@domain_errors
def member_role(request: HttpRequest, group_id: int, username: str) -> HttpResponse:
    return _group_action(
        request,
        group_id,
        MemberRoleForm(request.POST),
        lambda data: services.member_set_role(actor=request.user, group_id=group_id, username=username, **data),
        done=lambda m: f"{m.user.name} is now {'an admin' if m.role == m.Role.ADMIN else 'a member'}.",
    )


@require_POST
@login_required
@domain_errors
def group_transfer(request: HttpRequest, group_id: int) -> HttpResponse:
    return _group_action(
        request,
        group_id,
        TransferForm(request.POST, group_id=group_id),
        lambda data: services.group_transfer(actor=request.user, group_id=group_id, username=data["username"]),
        done=lambda m: f"{m.user.name} now owns the group. You stay on as an admin.",
        form_key="transfer_form",
    )


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def group_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    """GET: the confirmation page (owner only). POST: delete the group and everything in it."""
    if request.method == "POST":
        return _group_action(
            request,
            group_id,
            EmptyForm(request.POST),
            lambda data: services.group_delete(actor=request.user, group_id=group_id),
            done=lambda _: "Group deleted.",
            next_url=CHATS_URL,
        )
    group, me = access_group(request.user, group_id)
    require_owner(me)
    context = {"group": group, "member_count": group.memberships.count(), "form": EmptyForm()}
    return render(request, "groups/delete.html", context)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def group_leave(request: HttpRequest, group_id: int) -> HttpResponse:
    """GET: the confirmation page. POST: leave the group (not the owner)."""
    if request.method != "POST":
        group, me = access_group(request.user, group_id)
        if me.role == me.Role.OWNER:
            raise Forbidden("Transfer ownership to another member before leaving.")
        text = "You will stop seeing its conversations."
        text += " Join it again from the group directory." if group.is_public else " A manager can add you back."
        return _confirm_page(
            request,
            {
                "group": group,
                "title": f"Leave {group.name}?",
                "text": text,
                "action": reverse("groups:leave", args=[group.pk]),
                "button": "Leave group",
            },
        )
    return _group_action(
        request,
        group_id,
        EmptyForm(request.POST),
        lambda data: services.group_leave(actor=request.user, group_id=group_id),
        done=lambda _: "You left the group.",
        next_url=CHATS_URL,
    )

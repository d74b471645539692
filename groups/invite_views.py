"""Invite links: managed on `/groups/<id>/invites/`, used at `/invite/<token>/`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from chatsite.errors import Invalid
from chatsite.http import domain_errors, form_error
from groups import registry, selectors, services
from groups.access import access_group, require_manager
from groups.forms import InviteCreateForm

STATUS_ACTIVE = "active"


def _invite_rows(group) -> list[dict]:
    return [
        {"invite": invite, "status": _status(invite) if services.invite_problem(invite) else STATUS_ACTIVE}
        for invite in selectors.group_invites(group)
    ]


def _status(invite) -> str:
    if invite.revoked_at is not None:
        return "revoked"
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return "used up"
    return "expired"


def _invites_page(request: HttpRequest, group_id, *, form=None, new_link: str = "", status: int = 200) -> HttpResponse:
    group, me = access_group(request.user, group_id)
    require_manager(me)
    context = {
        "group": group,
        "form": form or InviteCreateForm(),
        "rows": _invite_rows(group),
        "new_link": new_link,
    }
    return render(request, "groups/invites.html", context, status=status)


@login_required
@domain_errors
@never_cache
@require_http_methods(["GET", "POST"])
def invites(request: HttpRequest, group_id: int) -> HttpResponse:
    """GET: the group's links with their use counts. POST: a new link, shown once on the page that answers."""
    if request.method != "POST":
        return _invites_page(request, group_id)
    form = InviteCreateForm(request.POST)
    if not form.is_valid():
        return _invites_page(request, group_id, form=form, status=400)
    try:
        invite, token = services.invite_create(actor=request.user, group_id=group_id, **form.cleaned_data)
    except Invalid as error:
        return _invites_page(request, group_id, form=form, status=form_error(form, None, error))
    link = request.build_absolute_uri(reverse("groups:invite", args=[token]))
    if invite.email:
        messages.success(request, f"Invite sent to {invite.email}.")
    return _invites_page(request, group_id, new_link=link, status=201)


@require_POST
@login_required
@domain_errors
def invite_revoke(request: HttpRequest, group_id: int, invite_id: int) -> HttpResponse:
    services.invite_revoke(actor=request.user, group_id=group_id, invite_id=invite_id)
    messages.success(request, "Invite link revoked: it no longer works.")
    return redirect("groups:invites", group_id=group_id)


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the group and a join button (log in or sign up first, then back here). POST: join."""
    found = services.invite_by_token(token)
    problem = services.invite_problem(found)
    if problem:
        return render(request, "groups/invite.html", {"problem": problem}, status=404)
    here = reverse("groups:invite", args=[token])
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?{urlencode({'next': here})}")
        group = services.invite_accept(actor=request.user, token=token)
        messages.success(request, f"Welcome to {group.name}.")
        return redirect(registry.landing_url(group) or reverse("groups:detail", args=[group.pk]))
    member = request.user.is_authenticated and found.group.memberships.filter(user=request.user).exists()
    context = {
        "group": found.group,
        "member_count": found.group.memberships.count(),
        "is_member": member,
        "next_query": "?" + urlencode({"next": here}),
    }
    return render(request, "groups/invite.html", context)

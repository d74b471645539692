"""Pages reached from, or sending, email: password reset, email verification, email change."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from accounts import services
from accounts.forms import PasswordResetForm, PasswordResetRequestForm
from accounts.models import User
from accounts.unsubscribe import user_for_unsubscribe_token
from chatsite.errors import Invalid, RateLimited
from chatsite.http import client_address, form_error

RESET_SENT = "If an account uses that address, we sent it a link to set a new password. It works for one hour."
RESET_LINK_INVALID = "This link has expired or was already used. Ask for a new one."


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    if request.method != "POST":
        return render(request, "accounts/password_reset.html", {"form": form})
    if not form.is_valid():
        return render(request, "accounts/password_reset.html", {"form": form}, status=400)
    try:
        services.password_reset_request(email=form.cleaned_data["email"], address=client_address(request))
    except RateLimited as error:
        status = form_error(form, None, error)
        response = render(request, "accounts/password_reset.html", {"form": form}, status=status)
        response["Retry-After"] = str(error.retry_after)
        return response
    return render(request, "accounts/password_reset.html", {"form": None, "sent": RESET_SENT})


def _reset_user(uidb64: str, token: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = _reset_user(uidb64, token)
    if user is None:
        return render(request, "accounts/password_reset_confirm.html", {"invalid": RESET_LINK_INVALID}, status=400)
    form = PasswordResetForm(user, request.POST or None)
    if request.method != "POST":
        return render(request, "accounts/password_reset_confirm.html", {"form": form})
    if not form.is_valid():
        return render(request, "accounts/password_reset_confirm.html", {"form": form}, status=400)
    services.password_reset_complete(user=user, password=form.cleaned_data["new_password1"])
    messages.success(request, "Your password is set, and every device was logged out. Log in with the new one.")
    return redirect("accounts:login")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest) -> HttpResponse:
    """GET: "check your inbox" (where mandatory verification sends people). POST: send the link again."""
    if request.method == "POST" and not request.user.email_verified:
        try:
            services.email_verification_resend(user=request.user)
        except RateLimited as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, f"We sent a new link to {request.user.email}.")
        return redirect("accounts:verify_email")
    return render(request, "accounts/verify_email.html")


@never_cache
@require_GET
def verify_email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.email_verify(token=token)
    except Invalid as error:
        return render(request, "accounts/email_link.html", {"problem": error.detail}, status=400)
    messages.success(request, "Thanks, your email address is verified.")
    return redirect("accounts:settings" if request.user.is_authenticated else "accounts:login")


@never_cache
@require_GET
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.email_change_confirm(token=token)
    except Invalid as error:
        return render(request, "accounts/email_link.html", {"problem": error.detail}, status=400)
    messages.success(request, f"Your email address is now {user.email}.")
    return redirect("accounts:settings" if request.user.is_authenticated else "accounts:login")


@never_cache
@csrf_exempt  # mail clients post here without a page (RFC 8058 one-click); the signed token is the credential
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in missed-message mails: GET asks to confirm, POST turns those mails off. No login needed."""
    user = user_for_unsubscribe_token(token)
    if user is None:
        problem = {"problem": "This unsubscribe link is not valid."}
        return render(request, "accounts/email_link.html", problem, status=400)
    if request.method == "POST":
        services.missed_message_email_set(user=user, enabled=False)
        return render(request, "accounts/unsubscribe.html", {"done": True})
    return render(request, "accounts/unsubscribe.html", {"done": False})

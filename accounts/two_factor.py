"""Two-factor authentication: authenticator-app codes (TOTP, pyotp), recovery codes, remembered devices.

Two-factor is on while the user has a `TOTPDevice`. Enrolment keeps the new
secret in the session until a first code from the app proves it was scanned.
A code works once (the device remembers the last 30-second step it accepted);
each of the 10 recovery codes works once and is stored as an HMAC (they are
random, 50 bits each, so a fast keyed hash is enough). "Remember this device"
is a signed cookie naming the user and the device: re-enrolling or turning
two-factor off makes every such cookie worthless.
"""

import secrets
import time

import pyotp
import segno
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import RecoveryCode, TOTPDevice, User
from chatsite.errors import Invalid

REMEMBER_COOKIE = "two_factor_remember"
_REMEMBER_SALT = "accounts.two_factor.remember"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=settings.TWO_FACTOR_ISSUER)


def qr_data_uri(user: User, secret: str) -> str:
    """The enrolment QR code as an SVG data URI: drawn here, no script, allowed by the CSP's `img-src data:`."""
    return segno.make(provisioning_uri(user, secret), error="m").svg_data_uri(scale=5, border=2)


def is_enabled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user).exists()


def _totp_step(secret: str, code: str, *, after: int) -> int | None:
    """The time step (now, or one either side for clock drift) whose code this is, if later than `after`."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(timezone.now())
    for step in (now, now - 1, now + 1):
        if step > after and constant_time_compare(totp.generate_otp(step), code):
            return step
    return None


def _code_hash(code: str) -> str:
    return salted_hmac("accounts.two_factor.recovery", _normalise(code)).hexdigest()


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)
    ]
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=_code_hash(code)) for code in codes])
    return codes


@transaction.atomic
def two_factor_enable(*, user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor on with the secret the app scanned; returns the recovery codes (shown once)."""
    step = _totp_step(secret, _normalise(code), after=0)
    if step is None:
        raise Invalid("That code does not match. Check the time on your phone and try the current code.")
    TOTPDevice.objects.filter(user=user).delete()
    TOTPDevice.objects.create(user=user, secret=secret, last_step=step)
    return _new_recovery_codes(user)


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    if not is_enabled(user):
        raise Invalid("Two-factor authentication is off.")
    return _new_recovery_codes(user)


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def code_check(*, user: User, code: str) -> bool:
    """Whether this is a valid code now: the app's current code (once), or an unused recovery code (spent)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        return False
    code = _normalise(code)
    if code.isdigit() and len(code) == 6:
        step = _totp_step(device.secret, code, after=device.last_step)
        if step is None:
            return False
        TOTPDevice.objects.filter(pk=device.pk).update(last_step=step)
        return True
    spent = RecoveryCode.objects.filter(user=user, code_hash=_code_hash(code), used_at__isnull=True).update(
        used_at=timezone.now()
    )
    return spent == 1


def remembered(request: HttpRequest, user: User) -> bool:
    """Whether this browser carries a valid "remember this device" cookie for the user's current device."""
    value = request.COOKIES.get(REMEMBER_COOKIE)
    if not value:
        return False
    try:
        data = signing.loads(value, salt=_REMEMBER_SALT, max_age=settings.TWO_FACTOR_REMEMBER_DAYS * 86400)
    except signing.BadSignature:
        return False
    device = TOTPDevice.objects.filter(user=user).values_list("pk", flat=True).first()
    return data.get("u") == user.pk and device is not None and data.get("d") == device


def remember(response: HttpResponse, user: User) -> None:
    device = TOTPDevice.objects.filter(user=user).values_list("pk", flat=True).first()
    value = signing.dumps({"u": user.pk, "d": device, "t": int(time.time())}, salt=_REMEMBER_SALT)
    response.set_cookie(
        REMEMBER_COOKIE,
        value,
        max_age=settings.TWO_FACTOR_REMEMBER_DAYS * 86400,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )

from django.conf import settings
from django.http import HttpRequest


def email_verification(request: HttpRequest) -> dict:
    """`verify_email_banner`: show the "please verify your address" banner on every page."""
    user = getattr(request, "user", None)
    show = (
        settings.EMAIL_VERIFICATION != "off" and user is not None and user.is_authenticated and not user.email_verified
    )
    return {"verify_email_banner": show}

"""The webhook part of Settings: the URLs (checked here, for the form and anything else that saves them)
and the signing secret, stored encrypted like the HF token (settings_app.token_crypto) and shown only as
"set, ending …ab12"."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.urls import reverse
from django.utils.html import format_html

from settings_app import token_crypto

MAX_URLS = 10
MIN_SECRET = 16


class WebhookSettingsError(ValueError):
    pass


def clean_urls(text: str) -> str:
    """One http(s) URL per line, without credentials; blank lines dropped, duplicates once.
    Returns the lines joined by newlines; WebhookSettingsError says which line is wrong and why."""
    urls: list[str] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        url = line.strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise WebhookSettingsError(f"Line {number}: only http:// and https:// URLs can receive webhooks.")
        if "@" in parts.netloc:
            # Never echo the line: it holds a password.
            raise WebhookSettingsError(f"Line {number}: no user name or password in the URL; the receiver "
                                       "checks the X-ModelHub-Signature header instead.")
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise WebhookSettingsError(f"Line {number}: {url[:100]!r} is not a valid URL.") from None
        if url not in urls:
            urls.append(url)
    if len(urls) > MAX_URLS:
        raise WebhookSettingsError(f"At most {MAX_URLS} webhook URLs.")
    return "\n".join(urls)


def settings_help() -> str:
    """The Settings page's Webhooks section (the admin renders fieldset descriptions as HTML)."""
    return format_html(
        "ModelHub POSTs a signed JSON document to each URL when a job ends or a model's status changes "
        '(README, "Webhooks", shows how a receiver checks the signature). What each URL answered is under '
        '<a href="{}">Webhook deliveries</a>, with a Send test event button. The secret is write-only.',
        reverse("admin:webhooks_delivery_changelist"))


def urls(setting) -> list[str]:
    return [line.strip() for line in (setting.webhook_urls or "").splitlines() if line.strip()]


def clean_secret(secret: str) -> str:
    secret = (secret or "").strip()
    if any(ch.isspace() for ch in secret):
        raise WebhookSettingsError("The secret has no spaces or line breaks.")
    if secret and len(secret) < MIN_SECRET:
        raise WebhookSettingsError(f"Use at least {MIN_SECRET} characters, e.g. the output of "
                                   "`python -c 'import secrets; print(secrets.token_hex(32))'`.")
    return secret


def set_secret(setting, secret: str) -> None:
    setting.webhook_secret_encrypted = token_crypto.encrypt(secret)
    setting.webhook_secret_last4 = secret[-4:]


def clear_secret(setting) -> None:
    setting.webhook_secret_encrypted = ""
    setting.webhook_secret_last4 = ""


def secret(setting) -> str | None:
    """The plain secret, or None when none is saved. TokenDecryptError when the key changed."""
    if not setting.webhook_secret_encrypted:
        return None
    return token_crypto.decrypt(setting.webhook_secret_encrypted)


def describe_secret(setting) -> str:
    if not setting.webhook_secret_encrypted:
        return "not set"
    return f"set, ending …{setting.webhook_secret_last4}"


def check_form(form, cleaned: dict) -> None:
    """The Settings form: URLs need a secret to sign with (saved, or entered now), and not both a new
    secret and 'clear'."""
    new, clear = cleaned.get("webhook_secret"), cleaned.get("clear_webhook_secret")
    if new and clear:
        form.add_error("webhook_secret", "Either enter a new secret or tick 'clear', not both.")
        return
    has_secret = bool(new) or (bool(form.instance.webhook_secret_encrypted) and not clear)
    if cleaned.get("webhook_urls") and not has_secret:
        form.add_error("webhook_secret", "Webhook URLs need a secret: every delivery is signed with it.")


def save_secret(setting, cleaned: dict) -> None:
    if cleaned.get("webhook_secret"):
        set_secret(setting, cleaned["webhook_secret"])
    elif cleaned.get("clear_webhook_secret"):
        clear_secret(setting)

"""The Settings form: human sizes, validated endpoint/folder, and a write-only HF token."""

from django import forms
from django.conf import settings
from django.utils.html import format_html

from engine.limits import MAX_PARALLEL_FILES, MAX_SEGMENTS_PER_FILE, parallelism_problem
from modelhub.sizes import parse_size
from settings_app import bounds, effective, storage_change
from settings_app.connection import EndpointInput
from settings_app.models import Setting
from settings_app.services import (
    SettingsError,
    clean_completeness_rules,
    clean_endpoint,
    clean_storage_dir,
    relative_storage_note,
)
from settings_app.token_check import TokenCheck, check_new_token
from webhooks import config as webhook_config

_EXACT_UNITS = (("TB", 1000**4), ("GB", 1000**3), ("MB", 1000**2), ("KB", 1000),
                ("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


def exact_size(n: int | None) -> str:
    """Bytes as the largest unit that divides them exactly ("10GB"), else plain bytes, so that saving
    an untouched form never rounds a value (format_size's "10.5 GB" would)."""
    if n is None:
        return ""
    for unit, factor in _EXACT_UNITS:
        if n and n % factor == 0:
            return f"{n // factor}{unit}"
    return str(n)


class SizeField(forms.CharField):
    """A byte count typed as "10GB", "500MB", "2GiB" or plain bytes; empty means "not set"."""

    def prepare_value(self, value):
        return exact_size(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = (super().to_python(value) or "").strip()
        if not value:
            return None
        try:
            return parse_size(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class SettingForm(forms.ModelForm):
    # A plain text field: settings_app.services.clean_endpoint is the one validator (http/https, no
    # credentials in the URL), shared with `manage.py configure`.
    hub_endpoint = forms.CharField(
        required=False, label="Hub endpoint", widget=EndpointInput(attrs={"size": 50}),
        help_text="Hub or Hub-compatible mirror, e.g. https://huggingface.co. Test connection tries the "
                  "address as typed, without the token.",
    )
    min_free_space = SizeField(required=False, help_text="Kept free on the storage volume, e.g. 10GB. "
                               "Empty: MODELHUB_MIN_FREE_SPACE.")
    bandwidth_limit = SizeField(required=False, label="Bandwidth limit (per second)",
                                help_text="Shared by all running jobs, e.g. 50MB (= 50 MB/s). "
                                          "Empty: unlimited.")
    segment_min_size = SizeField(help_text="Files at least this large are split into segments when "
                                 "connections per file > 1, e.g. 256MB.")
    # Write-only: never rendered back (render_value=False), also not after a failed submit.
    hf_token = forms.CharField(
        required=False, strip=True, label="New HF token",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "size": 50}),
        help_text="Leave blank to keep the current token. Stored encrypted; only its last 4 characters "
                  "are shown. Checked with the Hub's whoami when you save: a rejected token is not saved. "
                  "Some mirrors don't implement whoami; there the token is saved unchecked, with a warning.",
    )
    clear_token = forms.BooleanField(required=False, label="Clear the saved token",
                                     help_text="Falls back to HF_TOKEN or the Hugging Face token file, "
                                               "if any.")
    confirm_token_endpoint = forms.BooleanField(
        required=False, label="Use the saved token with the new endpoint",
        help_text="The saved token is only sent to the endpoint it was entered for. Tick this only if you "
                  "trust the endpoint above with it: every request to it will carry the token.",
    )
    # Write-only, as the HF token: shown back only as "set, ending …ab12" (webhooks.config).
    webhook_secret = forms.CharField(
        required=False, strip=True, label="New webhook secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "size": 50}),
        help_text="Receivers check X-ModelHub-Signature with it (see README, Webhooks). Leave blank to keep "
                  "the current one. At least 16 characters, e.g. from `openssl rand -hex 32`.",
    )
    clear_webhook_secret = forms.BooleanField(required=False, label="Clear the webhook secret",
                                              help_text="Deliveries stop until a new one is saved.")
    # What the current storage folder holds is moved, copied or kept when the folder changes.
    old_storage = storage_change.choice_field()
    # Set by SettingAdmin.get_form from the user's permission; without it the field does not exist,
    # so a crafted POST cannot confirm either.
    may_confirm_token_endpoint = False
    storage_dir_note = ""
    token_check: TokenCheck | None = None  # the Hub's answer about a new token, shown after saving

    class Meta:
        model = Setting
        fields = ["hub_endpoint", "storage_dir", "max_concurrent_downloads", "max_parallel_files",
                  "segments_per_file", "segment_min_size", "min_free_space", "bandwidth_limit",
                  "reverify_interval_hours", "completeness_rules", "hub_allow_anonymous", "hub_on_demand",
                  "webhook_urls"]
        help_texts = {"completeness_rules": effective.RULES_HELP,
                      "reverify_interval_hours": "Installed variants are re-checked this often, in hours "
                                                 "(0: never; at most 8784, a year)."}
        widgets = {"completeness_rules": forms.Textarea(attrs={"rows": 3, "cols": 70,
                                                                "placeholder": effective.RULES_EXAMPLE})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The endpoint before this submit, for the admin log and the warning after an endpoint change.
        self.endpoint_before = self.instance.effective_hub_endpoint
        storage_change.prepare(self)
        if "storage_dir" in self.fields:  # room for a whole path
            self.fields["storage_dir"].widget.attrs["size"] = 60
        if not self.may_confirm_token_endpoint:
            self.fields.pop("confirm_token_endpoint")
        for name, bound in bounds.BOUNDS.items():  # the field's own range check speaks as plainly
            if name in self.fields:
                self.fields[name].error_messages.update(
                    min_value=bound.too_low, max_value=bound.too_high or "That number is far too large.")
        for name in effective.NOTED:  # what a blank field means now, and where that comes from
            if name in self.fields:
                field = self.fields[name]
                field.help_text = format_html("{} {}", field.help_text, effective.note(self.instance, name))

    def clean_hub_endpoint(self):
        value = (self.cleaned_data.get("hub_endpoint") or "").strip()
        return _settings_clean(clean_endpoint, value) if value else ""

    def clean_storage_dir(self):
        value = (self.cleaned_data.get("storage_dir") or "").strip()
        if not value:  # empty on this page means "the default", MODELHUB_STORAGE_DIR
            return ""
        cleaned = _settings_clean(clean_storage_dir, value)
        self.storage_dir_note = relative_storage_note(value, cleaned)  # shown by the admin after saving
        return cleaned

    def clean_completeness_rules(self):
        return _settings_clean(clean_completeness_rules, self.cleaned_data.get("completeness_rules") or {})

    def clean_bandwidth_limit(self):
        value = self.cleaned_data.get("bandwidth_limit")
        if value == 0:
            raise forms.ValidationError("0 would stop every download; leave it empty for unlimited.")
        return value

    def clean_hf_token(self):
        token = self.cleaned_data.get("hf_token") or ""
        if any(ch.isspace() for ch in token):
            raise forms.ValidationError("A token has no spaces or line breaks; paste it again.")
        return token

    def clean_webhook_urls(self):
        return _settings_clean(webhook_config.clean_urls, self.cleaned_data.get("webhook_urls") or "")

    def clean_webhook_secret(self):
        return _settings_clean(webhook_config.clean_secret, self.cleaned_data.get("webhook_secret") or "")

    def clean(self):
        cleaned = super().clean()
        webhook_config.check_form(self, cleaned)
        if cleaned.get("hf_token") and cleaned.get("clear_token"):
            raise forms.ValidationError("Either enter a new token or tick 'clear', not both.")
        files, segments = cleaned.get("max_parallel_files"), cleaned.get("segments_per_file")
        # Each value alone is checked by the model's validators; here only the pair (no double message).
        if files and segments and files <= MAX_PARALLEL_FILES and segments <= MAX_SEGMENTS_PER_FILE:
            if problem := parallelism_problem(files, segments):
                self.add_error("segments_per_file", problem)
        storage_change.check(self, cleaned)
        for name in bounds.BOUNDS:
            if name in cleaned and (problem := bounds.problem(name, cleaned[name])):
                self.add_error(name, problem)
        if "min_free_space" in cleaned and "storage_dir" in cleaned:
            folder = storage_change.new_folder(cleaned["storage_dir"])
            if problem := bounds.free_space_problem(cleaned["min_free_space"], folder):
                self.add_error("min_free_space", problem)
        if cleaned.get("hf_token") and not self.errors:
            self._check_token(cleaned)
        return cleaned

    def _check_token(self, cleaned) -> None:
        """Ask whoami with the new token at the endpoint it will be bound to: refused here if rejected."""
        endpoint = (cleaned.get("hub_endpoint") or settings.MODELHUB_HUB_ENDPOINT).rstrip("/")
        self.token_check = check_new_token(endpoint, cleaned["hf_token"])
        if self.token_check.level == "refused":
            self.add_error("hf_token", self.token_check.message)

    def save(self, commit=True):
        setting = super().save(commit=False)
        # After super().save: a token entered now is bound to the endpoint saved with it.
        if self.cleaned_data.get("hf_token"):
            setting.set_hf_token(self.cleaned_data["hf_token"])
        elif self.cleaned_data.get("clear_token"):
            setting.clear_hf_token()
        elif self.cleaned_data.get("confirm_token_endpoint"):
            setting.confirm_token_endpoint()
        webhook_config.save_secret(setting, self.cleaned_data)
        if commit:
            setting.save()
        return setting


def _settings_clean(cleaner, value: str) -> str:
    try:
        return cleaner(value)
    except (SettingsError, webhook_config.WebhookSettingsError) as exc:
        raise forms.ValidationError(str(exc)) from None

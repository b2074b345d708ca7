"""python manage.py configure [...]: change Settings from scripts; prints the effective configuration."""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from engine.limits import parallelism_problem
from modelhub.commands import EXIT_INVALID, ModelHubCommand, print_json
from modelhub.sizes import parse_size
from settings_app import bounds
from settings_app import services as settings_services
from settings_app.models import Setting
from settings_app.token_crypto import TokenDecryptError, reencrypt
from settings_app.validators import RESET_WORD
from webhooks import config as webhook_config


class Command(ModelHubCommand):
    help = "Show or change ModelHub's settings (the same ones as the admin's Settings page)."

    def add_arguments(self, parser):
        parser.add_argument("--hub-endpoint", metavar="URL")
        parser.add_argument("--storage-dir", metavar="DIR",
                            help=f"where models land; relative to the project folder; `{RESET_WORD}`: back "
                                 "to MODELHUB_STORAGE_DIR")
        parser.add_argument("--max-concurrent-downloads", type=int, metavar="N")
        parser.add_argument("--max-parallel-files", type=int, metavar="N")
        parser.add_argument("--min-free-space", metavar="SIZE", help="e.g. 10GB, 500MB")
        parser.add_argument("--segments-per-file", type=int, metavar="N",
                            help="connections for one large file: 0 = automatic (the default), "
                                 "1 = one stream, N = exactly N")
        parser.add_argument("--segment-min-size", metavar="SIZE",
                            help="files at least this large are split into segments, e.g. 256MB")
        parser.add_argument("--bandwidth-limit", metavar="RATE",
                            help="global cap per second, e.g. 50MB; 0 = none")
        parser.add_argument("--reverify-interval-hours", type=int, metavar="H")
        parser.add_argument("--completeness-rules", metavar="JSON",
                            help='per-kind overrides, e.g. \'{"voice": [["*.onnx", "*.onnx.json"]]}\'')
        token = parser.add_mutually_exclusive_group()
        token.add_argument("--hf-token-stdin", action="store_true",
                           help="read the HF token from standard input")
        token.add_argument("--clear-hf-token", action="store_true")
        token.add_argument("--confirm-token-endpoint", action="store_true",
                           help="use the saved token with the Hub endpoint in effect now (after an endpoint "
                                "change the saved token is not sent until confirmed or entered again)")
        parser.add_argument("--reencrypt-token", action="store_true",
                            help="re-encrypt the saved token with the first MODELHUB_TOKEN_KEY "
                                 "(key rotation)")
        parser.add_argument("--check-token", action="store_true", help="ask the Hub who the token belongs to")
        parser.add_argument("--hub-anonymous", choices=["on", "off"],
                            help="let anyone who reaches /hub pull installed models without an API token")
        parser.add_argument("--hub-on-demand", choices=["on", "off"],
                            help="a pull of something not installed queues its download (for users allowed "
                                 "to start downloads)")
        hooks = parser.add_mutually_exclusive_group()
        hooks.add_argument("--webhook-url", action="append", metavar="URL",
                           help="where job and status events go (repeat for several; replaces the list)")
        hooks.add_argument("--clear-webhook-urls", action="store_true")
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument("--webhook-secret-file", metavar="PATH",
                            help="read the webhook signing secret from this file (not from the command "
                                 "line, where `ps` would show it)")
        secret.add_argument("--clear-webhook-secret", action="store_true")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        setting = Setting.load()
        endpoint_before = setting.effective_hub_endpoint
        self.notes: list[str] = []
        try:
            self._apply(setting, o)
        except (ValueError, TokenDecryptError) as exc:
            raise CommandError(str(exc), returncode=EXIT_INVALID) from None
        setting.save()
        out = settings_services.describe(setting)
        out.setdefault("segments_per_file", setting.segments_per_file)
        out.setdefault("segment_min_size", setting.segment_min_size)
        if endpoint_before != setting.effective_hub_endpoint:
            out["endpoint_change"] = settings_services.endpoint_change_message(endpoint_before, setting)
        elif o["confirm_token_endpoint"]:
            out["endpoint_change"] = f"Confirmed the saved HF token for {setting.effective_hub_endpoint}."
        if notes := [n for n in self.notes if n]:
            out["notes"] = notes
        status = 0
        if o["check_token"]:
            out["token_check"] = settings_services.check_token(setting)
            status = 0 if out["token_check"]["ok"] else 1
        if o["json"]:
            print_json(self.stdout, out)
        else:
            for key, value in out.items():
                if key == "token_check":
                    value = value["message"]
                elif key == "notes":
                    value = " ".join(value)
                self.stdout.write(f"{key:<26} {value}")
        if status:
            raise CommandError("token check failed", returncode=status)

    def _apply(self, setting: Setting, o: dict) -> None:
        if o["hub_endpoint"] is not None:
            setting.hub_endpoint = settings_services.clean_endpoint(o["hub_endpoint"])
        if o["storage_dir"] is not None:
            if o["storage_dir"].strip() == RESET_WORD:
                setting.storage_dir = ""
            else:
                setting.storage_dir = settings_services.clean_storage_dir(o["storage_dir"])
                self.notes.append(settings_services.relative_storage_note(o["storage_dir"],
                                                                          setting.storage_dir))
        for name in ("max_concurrent_downloads", "max_parallel_files", "segments_per_file"):
            if o[name] is not None:
                if o[name] < 1:
                    raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
                setattr(setting, name, o[name])
        if o["reverify_interval_hours"] is not None:
            if o["reverify_interval_hours"] < 0:
                raise ValueError("--reverify-interval-hours cannot be negative")
            setting.reverify_interval_hours = o["reverify_interval_hours"]
        if o["completeness_rules"] is not None:
            setting.completeness_rules = settings_services.clean_completeness_rules(o["completeness_rules"])
        if o["min_free_space"] is not None:
            setting.min_free_space = parse_size(o["min_free_space"])
        if o["segment_min_size"] is not None:
            size = parse_size(o["segment_min_size"])
            if size < 1:
                raise ValueError("--segment-min-size must be at least 1 byte")
            setting.segment_min_size = size
        if o["bandwidth_limit"] is not None:
            setting.bandwidth_limit = parse_size(o["bandwidth_limit"]) or None
        for name in ("hub_anonymous", "hub_on_demand"):
            if o[name] is not None:
                setattr(setting, "hub_allow_anonymous" if name == "hub_anonymous" else name, o[name] == "on")
        if o["hf_token_stdin"]:
            token = sys.stdin.readline().strip()
            if not token:
                raise ValueError("no token on standard input")
            if any(c.isspace() for c in token):
                raise ValueError("the token must not contain spaces")
            setting.set_hf_token(token)
        if o["clear_hf_token"]:
            setting.clear_hf_token()
        # After the endpoint above: a confirmation is for the endpoint this same command sets.
        if o["confirm_token_endpoint"] and not setting.confirm_token_endpoint():
            raise ValueError("--confirm-token-endpoint: there is no token saved in Settings to confirm")
        _apply_webhooks(setting, o)
        if o["reencrypt_token"] and setting.hf_token_encrypted:
            setting.hf_token_encrypted = reencrypt(setting.hf_token_encrypted)
        _check_numbers(setting, [name for name in NUMBER_OPTIONS if o[name] is not None])
        for name in NUMBER_OPTIONS:  # the same sane bounds, and messages, as the Settings page
            if o[name] is not None and (problem := bounds.problem(name, getattr(setting, name))):
                raise ValueError(f"--{name.replace('_', '-')}: {problem}")
        if o["max_parallel_files"] is not None or o["segments_per_file"] is not None:
            if problem := parallelism_problem(setting.max_parallel_files, setting.segments_per_file):
                raise ValueError(problem)


def _apply_webhooks(setting: Setting, o: dict) -> None:
    """The Settings page's rules (webhooks.config): http(s) URLs without credentials, a secret of at least
    16 characters, and no URL without a secret to sign with."""
    if o["webhook_url"] is not None:
        setting.webhook_urls = webhook_config.clean_urls("\n".join(o["webhook_url"]))
    if o["clear_webhook_urls"]:
        setting.webhook_urls = ""
    if o["webhook_secret_file"]:
        try:
            with open(o["webhook_secret_file"], encoding="utf-8") as fh:
                secret = webhook_config.clean_secret(fh.readline())
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"--webhook-secret-file: cannot read it ({exc.__class__.__name__})") from None
        if not secret:
            raise ValueError("--webhook-secret-file: the file is empty")
        webhook_config.set_secret(setting, secret)
    if o["clear_webhook_secret"]:
        webhook_config.clear_secret(setting)
    if setting.webhook_urls and not setting.webhook_secret_encrypted:
        raise ValueError("webhook URLs need a signing secret: add --webhook-secret-file PATH")


# Checked with the model's validators, including the column's range: a number the database cannot
# store would otherwise fail at save() with an OverflowError traceback instead of exit status 2.
NUMBER_OPTIONS = ("max_concurrent_downloads", "max_parallel_files", "segments_per_file",
                  "reverify_interval_hours", "min_free_space", "segment_min_size", "bandwidth_limit")


def _check_numbers(setting: Setting, names: list[str]) -> None:
    if not names:
        return
    try:
        setting.clean_fields(exclude=[f.name for f in Setting._meta.fields if f.name not in names])
    except ValidationError as exc:
        raise ValueError("; ".join(f"--{name.replace('_', '-')}: {' '.join(messages)}"
                                   for name, messages in exc.message_dict.items())) from None

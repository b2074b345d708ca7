"""Admin forms for variants: validated with the same cleaners `services.get_or_create_variant` uses,
so the admin refuses exactly what the service and the commands refuse."""

from django import forms

from downloads.models import ModelVariant, RepoType
from downloads.variants import readable_name
from engine.selection import (
    HubReference,
    InvalidInput,
    clean_globs,
    clean_repo_id,
    clean_revision,
    parse_reference,
)
from engine.verify import AUTO, KINDS
from settings_app.models import Setting


def kind_choices(current: str = "") -> list[tuple[str, str]]:
    """auto (inferred), the kinds with a completeness rule (built in, or added in Settings), plus the
    variant's current one."""
    kinds = [AUTO, *KINDS]
    kinds += sorted(k for k in (Setting.load().completeness_rules or {}) if k not in kinds and k != "*")
    if current and current not in kinds:
        kinds.append(current)
    return [(k, k) for k in kinds]


class GlobListField(forms.CharField):
    """A list of glob patterns edited as text, one pattern per line."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60, "spellcheck": "false"})

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value):
        return super().to_python(value) or ""


class ModelVariantForm(forms.ModelForm):
    include = GlobListField(required=False, help_text="One glob per line, matched against full paths, e.g. "
                            "<code>*Q4_K_M*.gguf</code>. Empty: every file.")
    exclude = GlobListField(required=False, help_text="One glob per line; files to leave out.")
    kind = forms.ChoiceField(help_text="Chooses the completeness rule a download must satisfy.")

    class Meta:
        model = ModelVariant
        fields = ["repo_id", "repo_type", "revision", "name", "kind", "include", "exclude"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:  # a view-only page builds the form without fields
            self.fields["kind"].choices = kind_choices(self.instance.kind if self.instance.pk else "")
        if "revision" in self.fields:
            self.fields["revision"].required = False  # empty means main, as in the service

    def clean_repo_id(self):
        return _cleaned(clean_repo_id, self.cleaned_data.get("repo_id"))

    def clean_revision(self):
        return _cleaned(clean_revision, self.cleaned_data.get("revision"))

    def clean_include(self):
        return _cleaned(clean_globs, self.cleaned_data.get("include"), "include")

    def clean_exclude(self):
        return _cleaned(clean_globs, self.cleaned_data.get("exclude"), "exclude")

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("name") or "").strip() and "include" in cleaned and "exclude" in cleaned:
            # Every variant has a readable name, also one added here without a label.
            cleaned["name"] = readable_name(cleaned["include"], cleaned["exclude"])
        return cleaned


def _cleaned(cleaner, *args):
    try:
        return cleaner(*args)
    except InvalidInput as exc:
        raise forms.ValidationError(str(exc)) from None


class RepoLookupForm(forms.Form):
    """Step 1 of Add from Hub: which repo to look at, as people paste it (see engine.selection's
    parse_reference): a repo, file or folder link, org/name@revision, hf.co/org/name:QUANT, gpt2."""

    repo_id = forms.CharField(label="Repo", max_length=1000,
                              help_text="org/name, or paste a link from the Hub (a repo, a folder or one "
                                        "file), org/name@revision, or hf.co/org/name:Q4_K_M",
                              widget=forms.TextInput(attrs={
                                  "size": 50, "autofocus": True, "spellcheck": "false",
                                  "placeholder": "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
                              }))
    # Not required: a link to the page with only ?repo_id= (a search hit, a bookmark) means a model.
    repo_type = forms.ChoiceField(label="Repo type", choices=RepoType.choices, initial=RepoType.MODEL,
                                  required=False)
    revision = forms.CharField(label="Revision", max_length=255, required=False,
                               help_text="branch, tag or commit; empty: what the link says, else main")

    def __init__(self, *args, endpoints: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.endpoints = endpoints
        self.reference: HubReference | None = None

    def clean_repo_id(self):
        self.reference = _cleaned(lambda v: parse_reference(v, endpoints=self.endpoints),
                                  self.cleaned_data.get("repo_id"))
        return self.reference.repo_id

    def clean_revision(self):
        typed = (self.cleaned_data.get("revision") or "").strip()
        return _cleaned(clean_revision, typed) if typed else ""

    def clean(self):
        cleaned = super().clean()
        cleaned["repo_type"] = cleaned.get("repo_type") or RepoType.MODEL
        ref = self.reference
        if ref is None:
            return cleaned
        if ref.repo_type != RepoType.MODEL:  # a …/datasets/… link says more than the default of the select
            cleaned["repo_type"] = ref.repo_type
        typed = cleaned.get("revision")
        if typed and ref.revision and typed != ref.revision:
            self.add_error("revision", f"The link is to revision {ref.revision!r}; clear this field or paste "
                                       "a link to the revision you want.")
        cleaned["revision"] = typed or ref.revision or "main"
        return cleaned


class CreateChoicesForm(forms.Form):
    """Step 2 of Add from Hub: which of the computed choices become variants."""

    choices = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, error_messages={
        "required": "Tick at least one choice.",
        "invalid_choice": "%(value)s is not among this repo's choices any more (the repo changed upstream?); "
                          "look it up again.",
    })
    kind = forms.ChoiceField(initial=AUTO, help_text="Completeness rule for the new variants (auto: inferred "
                                                      "from the repo's metadata and files).")
    download_now = forms.BooleanField(required=False, initial=True, label="Download now", label_suffix="")

    def __init__(self, *args, choice_keys: list[str], can_download: bool, download_blocked: str = "",
                 inferred_kind: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["choices"].choices = [(k, k) for k in choice_keys]
        self.fields["kind"].choices = kind_choices()
        if inferred_kind in dict(self.fields["kind"].choices):
            self.fields["kind"].initial = inferred_kind
        self.download_blocked = download_blocked
        if not can_download:  # without the download permission the box is not offered, nor honoured
            del self.fields["download_now"]
        elif download_blocked:  # a download that can only fail is not offered (nor accepted if forged)
            self.fields["download_now"].initial = False
            self.fields["download_now"].widget.attrs["disabled"] = True

    def clean_download_now(self):
        wanted = self.cleaned_data.get("download_now")
        if wanted and self.download_blocked:
            raise forms.ValidationError(f"Download now is not possible: {self.download_blocked}")
        return wanted

    @property
    def downloads_now(self) -> bool:
        """Whether the box is (or starts) ticked: the primary button says so."""
        if "download_now" not in self.fields or self.download_blocked:
            return False
        if self.is_bound:
            return bool(self.data.get("download_now"))
        return bool(self.fields["download_now"].initial)


class SearchForm(forms.Form):
    """Add from Hub's search box: the Hub's model search (engine.hub.search)."""

    q = forms.CharField(label="Search the Hub", max_length=200, required=False,
                        widget=forms.TextInput(attrs={"size": 40, "spellcheck": "false", "type": "search",
                                                      "placeholder": "e.g. qwen gguf, bge, whisper"}))


class RamForm(forms.Form):
    """The RAM of the machine that will run a GGUF model, for the "fits in N GB RAM" hints."""

    ram_gb = forms.FloatField(label="RAM of the machine that will run it", min_value=0.5, max_value=65536,
                              widget=forms.NumberInput(attrs={"step": "0.5", "style": "width: 6em"}),
                              error_messages={"min_value": "Enter at least 0.5 GB.",
                                              "max_value": "Enter at most 65536 GB."})

"""From a pasted Hub reference to the repo's choices and the chosen one: what Add from Hub does, built from
the same blocks (engine.selection's parser, engine.catalog's choices, downloads.variants' matching)."""

from dataclasses import dataclass

from downloads import variants as variant_rules
from downloads.models import ModelVariant, RepoType
from engine import catalog
from engine.hub.repo import RepoOverview
from engine.selection import InvalidInput, clean_revision, parse_reference
from settings_app.hub_client import client_from_settings
from settings_app.models import Setting

ALL_FILES = catalog.Choice("all", "all files", "the whole repository (its file list is not visible with the "
                           "current token)", (), (), (), 0)


@dataclass
class Lookup:
    overview: RepoOverview
    choices: list[catalog.Choice]
    named: catalog.Choice | None  # the choice the reference's :QUANT or file link names
    names_part: bool = False  # the reference names a quant or a file (not only the repo)

    def choice(self, key: str) -> catalog.Choice:
        """The choice with this key; `file:<path>` is any one file of the repo. InvalidInput otherwise;
        the Hub's refusal (gated_no_token…) when the files are hidden and a part of the repo is asked for."""
        key = (key or "").strip()
        hidden = self.overview.access_error
        if hidden is not None and key != ALL_FILES.key and (key or self.names_part):
            raise hidden  # only "all" can be described without the file list: say why, with the fix
        if not key:
            if self.named is not None:
                return self.named
            raise InvalidInput("choose what to create: `choice` is one of " + self.keys())
        found = catalog.by_key(self.choices).get(key)
        if found is None and key.startswith("file:") and self.overview.access_error is None:
            sizes = {f.path: f.size for f in self.overview.files}
            path = key[len("file:"):]
            if path in sizes:
                found = variant_rules.single_file_choice(path, sizes[path])
        if found is None:
            raise InvalidInput(f"{key[:200]!r} is not among the choices of {self.overview.repo_id}: "
                               f"{self.keys()} (or file:<path> for one file)")
        return found

    def keys(self) -> str:
        return ", ".join(c.key for c in self.choices[:50]) + (" …" if len(self.choices) > 50 else "")

    def existing(self) -> dict[str, ModelVariant]:
        """choice key -> the variant that already selects the same files at this revision."""
        ov = self.overview
        siblings = [(v, variant_rules.selected_paths(ov.files, v.include, v.exclude))
                    for v in ModelVariant.objects.filter(repo_id=ov.repo_id, repo_type=ov.repo_type,
                                                         revision=ov.revision)]
        found = {}
        for choice in self.choices:
            same = next((v for v, paths in siblings if paths and paths == frozenset(choice.files)), None)
            if same is not None:
                found[choice.key] = same
        return found


def look_up(reference: str, repo_type: str | None = None, revision: str | None = None) -> Lookup:
    """Read the reference, ask the Hub (HubError: repo_not_found, gated_no_token… reach the caller) and
    compute the choices. InvalidInput for a reference that is no Hub repo, or one whose quant or file
    the repo does not have."""
    setting = Setting.load()
    ref = parse_reference(reference, endpoints=(setting.effective_hub_endpoint,))
    if ref.repo_type != RepoType.MODEL:  # a …/datasets/… link says more than the default
        repo_type = ref.repo_type
    typed = clean_revision(revision) if (revision or "").strip() else ""
    if typed and ref.revision and typed != ref.revision:
        raise InvalidInput(f"the reference is to revision {ref.revision!r} but `revision` says {typed!r}; "
                           "give one of them")
    overview = client_from_settings(setting).overview(ref.repo_id, repo_type or RepoType.MODEL,
                                                      typed or ref.revision or "main")
    names_part = bool(ref.quant or ref.path)
    if overview.access_error is not None:
        return Lookup(overview, [ALL_FILES], None, names_part)
    choices = catalog.build_choices(overview.files)
    named = variant_rules.choice_for_reference(ref, choices, overview.files)
    if named is not None and named.key not in catalog.by_key(choices):
        choices.append(named)  # one file that no grouped choice holds: a choice of its own
    return Lookup(overview, choices, named, names_part)

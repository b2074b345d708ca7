"""What the Hub says a repo holds at a commit: its files with sizes and checksums."""

from dataclasses import dataclass

from engine.errors import HubError


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repo at a commit, with the Hub's size and checksum."""

    path: str
    size: int
    git_sha1: str
    sha256: str | None = None  # LFS files only

    @property
    def etag(self) -> str:
        """The blob name in the HF cache: sha256 for LFS files, git blob sha1 otherwise."""
        return self.sha256 or self.git_sha1

    @property
    def hash_algo(self) -> str:
        return "sha256" if self.sha256 else "git-sha1"

    def as_manifest(self) -> dict:
        return {"size": self.size, "git_sha1": self.git_sha1, "sha256": self.sha256}


@dataclass(frozen=True)
class RepoFacts:
    """What the Hub says about a repo beside its files, to infer its kind (all optional: mirrors may
    send none, and what they send is checked like any server value)."""

    pipeline_tag: str | None = None
    library_name: str | None = None
    tags: tuple[str, ...] = ()
    license: str | None = None  # the card's `license:`, else the Hub's `license:…` tag

    @classmethod
    def from_info(cls, info) -> "RepoFacts":
        def word(value) -> str | None:
            return value if isinstance(value, str) and 0 < len(value) <= 100 else None

        tags = getattr(info, "tags", None)
        tags = tuple(t for t in tags[:500] if word(t)) if isinstance(tags, list) else ()
        card_license = getattr(getattr(info, "card_data", None), "license", None)
        tag_license = next((t.removeprefix("license:") for t in tags if t.startswith("license:")), None)
        return cls(word(getattr(info, "pipeline_tag", None)), word(getattr(info, "library_name", None)), tags,
                   word(card_license) or word(tag_license))


@dataclass(frozen=True)
class RepoSnapshot:
    repo_id: str
    repo_type: str
    revision: str
    commit: str
    gated: str | bool
    files: list[RemoteFile]
    facts: RepoFacts = RepoFacts()


@dataclass(frozen=True)
class RepoOverview:
    repo_id: str
    repo_type: str
    revision: str
    commit: str
    gated: str | bool
    private: bool
    files: list[RemoteFile]
    access_error: HubError | None  # set when the current token cannot list the files
    facts: RepoFacts = RepoFacts()

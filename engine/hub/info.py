"""The Hub's repo info at a revision, read straight from its JSON.

huggingface_hub's `HfApi.repo_info` asks the same URL, but importing `HfApi` (hf_api.py and its
dataclasses) costs ~0.1-0.3 s of CPU, in every `download` command and every job, before the first
byte. ModelHub reads six fields of the answer; they are taken here, each still checked where it is
used (answers.commit for the sha, RepoFacts for the words). Errors are huggingface_hub's own
(`hf_raise_for_status`), so the refusals map as before.
"""

from types import SimpleNamespace
from urllib.parse import quote


class RepoInfo:
    """The fields of a repo info answer ModelHub uses, named as huggingface_hub's ModelInfo names them."""

    def __init__(self, data: dict):
        self.sha = data.get("sha")
        self.gated = data.get("gated", False)
        self.private = data.get("private", False)
        self.tags = data.get("tags")
        self.pipeline_tag = data.get("pipeline_tag")
        self.library_name = data.get("library_name")
        card = data.get("cardData")
        self.card_data = SimpleNamespace(license=card.get("license")) if isinstance(card, dict) else None


def info_url(endpoint: str, repo_id: str, repo_type: str, revision: str) -> str:
    return f"{endpoint}/api/{repo_type}s/{repo_id}/revision/{quote(revision, safe='')}"

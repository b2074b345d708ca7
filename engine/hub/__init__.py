"""The one place that talks to the Hub about metadata, and what its answers may be.

client.py   HubClient: repo info, file listing (paginated on the endpoint only), whoami, file URLs
refusals.py which error code a refusal means
answers.py  the shapes a server's values must have before they name anything on disk
origins.py  which requests may carry the token
quota.py    the Hub's rate-limit headers, and the pacing of requests they lead to
repo.py     RemoteFile, RepoSnapshot, RepoOverview
"""

from engine.hub.client import TRANSIENT_STATUS, HubClient
from engine.hub.repo import RemoteFile, RepoFacts, RepoOverview, RepoSnapshot

__all__ = ["HubClient", "RemoteFile", "RepoFacts", "RepoOverview", "RepoSnapshot", "TRANSIENT_STATUS"]

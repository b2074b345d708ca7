"""The requests session a job's file threads share.

Two things differ from a plain `requests.Session`, both for repos of many small files, where the
per-request overhead of requests (run under the GIL, so it does not parallelise) is what limits:

- The proxy settings (HTTPS_PROXY / NO_PROXY ...) are still honoured, like other HF tools, but read
  from the environment once per origin instead of on every request: requests scans all of
  `os.environ` twice per request, ~1 ms with a typical environment, a quarter of the CPU a small
  file costs.
- `~/.netrc` is never consulted. The Hub token goes in an explicit header, and a netrc entry for the
  Hub (or for the CDN a download redirects to) would replace it with Basic credentials.
"""

from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter


def _explicit_auth_only(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Session-level auth that changes nothing: its presence stops requests' netrc lookup."""
    return request


class TransferSession(requests.Session):
    def __init__(self, pool: int):
        super().__init__()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(4, pool * 2), max_retries=0)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.trust_env = True  # honour HTTPS_PROXY / NO_PROXY / REQUESTS_CA_BUNDLE
        self.auth = _explicit_auth_only
        self._environment: dict[tuple, dict] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies:  # proxies passed for this call: nothing to reuse
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        scheme, netloc = urlsplit(url)[:2]
        key = (scheme, netloc, stream, verify, cert)
        merged = self._environment.get(key)
        if merged is None:  # the environment does not change while a job runs
            merged = self._environment[key] = super().merge_environment_settings(url, {}, stream, verify,
                                                                                  cert)
        return {**merged, "proxies": dict(merged["proxies"])}

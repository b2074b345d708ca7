"""huggingface_hub and its HTTP client, imported on first use.

They take ~0.15 s to import. Every management command and web process imports the Hub client
(through the services), but only the ones that talk to the Hub need them.
"""

from functools import cached_property


class _Lazy:
    """huggingface_hub and its HTTP client take ~0.15 s to import. Every management command and web
    process imports this module (through services), but only the ones that talk to the Hub need them."""

    @cached_property
    def errors(self):
        from huggingface_hub import errors

        return errors

    @cached_property
    def transport_errors(self) -> tuple[type[BaseException], ...]:
        import httpx2

        return (httpx2.TransportError, OSError)

    @cached_property
    def redirect_errors(self) -> tuple[type[BaseException], ...]:
        import httpx2

        return (httpx2.TooManyRedirects,)

    @cached_property
    def utils(self):
        from huggingface_hub import utils

        return utils


hf = _Lazy()

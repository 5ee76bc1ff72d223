"""The HTTP exchange behind a result, kept for provenance and debugging, without credentials."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType

import httpx2

__all__ = ["ResponseInfo"]

# Headers that can carry credentials or session state: never kept, whichever way they went.
_PRIVATE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)


@dataclass(frozen=True)
class ResponseInfo:
    """One reply as the client received it: the status, headers, time taken and request.

    Attributes:
        status_code: the HTTP status (a result's replies are always 2xx).
        reason: the status's reason phrase.
        headers: the reply's headers, names lower-cased (repeated ones joined by ``", "``);
            headers that can carry credentials or cookies are left out.
        elapsed: the time from sending the final attempt to the end of its reply, on the
            client's clock.
        method: the request's method (``"GET"``).
        url: the request URL; credentials travel in the ``Authorization`` header, never here.
    """

    status_code: int
    reason: str
    headers: Mapping[str, str]
    elapsed: timedelta
    method: str
    url: str

    @classmethod
    def from_response(cls, response: httpx2.Response) -> ResponseInfo:
        """The credential-free record of ``response`` (its ``elapsed`` set by the client)."""
        request = response.request
        headers = {
            name.lower(): ", ".join(response.headers.get_list(name))
            for name in response.headers
            if name.lower() not in _PRIVATE_HEADERS
        }
        try:
            elapsed = response.elapsed
        except RuntimeError:  # a response that was never sent (built by hand)
            elapsed = timedelta(0)
        url = request.url
        # The client never puts credentials in a URL (base_url refuses user info); copying the
        # URL without them costs more than the rest of a call's overhead, so only when needed.
        if url.userinfo:
            url = url.copy_with(username=None, password=None)
        return cls(
            status_code=response.status_code,
            reason=response.reason_phrase,
            headers=MappingProxyType(headers),
            elapsed=elapsed,
            method=request.method,
            url=str(url),
        )

    def __repr__(self) -> str:
        seconds = self.elapsed.total_seconds()
        return f"<ResponseInfo {self.status_code} {self.method} {self.url} in {seconds:.3f} s>"

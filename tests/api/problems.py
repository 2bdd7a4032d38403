"""What every API error looks like: an RFC 9457 problem detail."""

from __future__ import annotations


def assert_problem(response, status: int, *, field: str | None = None) -> dict:
    """The response is an RFC 9457 problem detail with ``status`` (naming ``field`` if given)."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and "detail" in body
    if field is not None:
        assert field in body.get("errors", {}), body
    return body

"""The ``/api/v1`` JSON API: personal bearer tokens, scopes, and a generated OpenAPI 3.1 document.

How it fits together:

* **Tokens only.** Every API route authenticates with ``Authorization: Bearer pwy_<prefix>_<secret>``;
  a session cookie never authenticates an API call, so token routes are exempt from CSRF and a
  browser signed in to Pathways cannot be tricked into API writes. Only the token's SHA-256 is stored.
* **Two checks.** A token carries scopes (a registry every plugin extends through ``lms_api_scopes``);
  a call needs the route's scope *and* ``access.can(owner, action, obj)``: a token never grants more
  than its owner may do. Refusals are audited.
* **Plugins** declare routes on their own blueprint (``url_prefix="/api/v1/<plugin>"``) with
  :func:`api_route`; ``/api/v1/openapi.json`` is generated from ``app.url_map`` and those
  declarations (docstrings give summaries, URL converters give path parameters), so it cannot drift
  from the code. This replaced the former ``lms_api_resources`` hook, which asked plugins to describe
  their routes a second time by hand.
* **Errors** are JSON ``{"error": <message in the caller's language>, "status": <code>}`` (the token
  owner's language, else Accept-Language). A body that is not JSON is a 400; unknown fields in a body
  are refused with a 400 naming them (``"fields": {name: message}``) rather than silently ignored, so
  a misspelt field is noticed.
"""

from .auth import api_route, request_body

__all__ = ["api_route", "request_body"]

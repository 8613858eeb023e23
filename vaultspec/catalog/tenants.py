"""Microsoft Entra tenant ids that are public knowledge, so no spec of a customer should name them.

Sources:
- Microsoft (the corporate tenant, owner of e.g. Graph Explorer) and Microsoft Services (owner of
  Microsoft's first-party applications): "Verify first-party Microsoft applications in sign-in
  reports", learn.microsoft.com/troubleshoot/entra/entra-id/governance/verify-first-party-apps-sign-in
- Personal Microsoft accounts (MSA): "Access token claims reference" (`iss` / `tid`),
  learn.microsoft.com/entra/identity-platform/access-token-claims-reference
"""

from __future__ import annotations

WELL_KNOWN_TENANTS: dict[str, str] = {
    "72f988bf-86f1-41af-91ab-2d7cd011db47": "Microsoft's own corporate tenant",
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a": "the Microsoft Services tenant that owns Microsoft's first-party apps",
    "9188040d-6c67-4c5b-b112-36a304b66dad": "the tenant of personal Microsoft accounts",
}
ZERO_GUID = "00000000-0000-0000-0000-000000000000"


def public_tenant(guid: str) -> str | None:
    """What a well-known public tenant id is, or None for any other id."""
    return WELL_KNOWN_TENANTS.get(guid.strip().lower())

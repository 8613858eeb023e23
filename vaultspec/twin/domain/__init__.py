"""The twin's domain: pure rules over the store, no HTTP (moto's `models.py`).

- `backend.TwinBackend` — every service of one data dir;
- `vaults` — ARM lifecycle of vaults; `keys`, `secrets` — the data plane; `objects` — what keys and
  secrets share (versions, soft delete, backup, paging);
- `access` — the one allow/deny decision; `roles` — built-in role definitions;
- `records` — role assignments, locks, diagnostic settings; `audit` — the AuditEvent log.
"""

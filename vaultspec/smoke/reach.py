"""Can smoke reach a vault from where it runs? If not: one finding that says why and what to do.

A vault that refuses this machine at the network level refuses every check alike, so reporting each
check's 403 says the same thing dozens of times and hides the cause. Instead:

- `judge_network(network, caller, twin=...)` reads the spec's `network:` section (and the caller's
  address when known) and says when a vault is certainly unreachable: public access disabled (only
  private endpoints and trusted Azure services get in; the twin has no private endpoints at all), or a
  default-deny firewall that allows none of the caller's addresses. `before_apply(spec, twin=...)` turns
  that into the notes `vaultspec plan` prints, and an `up` can print, before anything is applied;
- `probe(session, network, twin=...)` asks the vault itself with one data-plane request before any
  check runs; a 403 `ForbiddenByConnection` / `ForbiddenByFirewall` or a failed connection becomes
  the `Unreachable` verdict, explained with the spec (or pointing at drift when the spec disagrees).
  Any other answer, a 403 from RBAC or an access policy included, means the network let it through.

On the twin every caller arrives from loopback (127.0.0.1) and there are no private endpoints or
virtual networks; in Azure the caller's public address is known only from the vault's own refusal.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from vaultspec.smoke.retry import CURRENT_LEDGER, WaitLedger
from vaultspec.smoke.session import VaultError, VaultSession
from vaultspec.spec.model import Network, Spec

TWIN_CALLER = "127.0.0.1"
NETWORK_REFUSALS = frozenset({"ForbiddenByConnection", "ForbiddenByFirewall"})
REACH_OBJECT, REACH_CHECK = "vault", "reachable"
_CLIENT_ADDRESS = re.compile(r"Client address:\s*([0-9A-Fa-f.:]+)")
_INSIDE = (
    "run smoke from inside the vault's virtual network (e.g. a pipeline agent with a route to its private "
    "endpoint), or set network.publicAccess: enabled with the smoke runner's address in network.ipRules"
)
_ON_TWIN = (
    "set network.publicAccess: enabled with ipRules: [127.0.0.1/32] (the twin sees every caller on loopback) "
    "and waive kv-public-network-disabled for this stack, as stacks/dev.yaml does"
)


@dataclass(frozen=True)
class Unreachable:
    """Why a vault cannot be reached from here, and what to do about it."""

    reason: str
    advice: str

    def __str__(self) -> str:
        return f"unreachable from here: {self.reason}; {self.advice}"

    def note(self, vault: str) -> str:
        """The same, said before applying (the spec already tells)."""
        return f"smoke will not reach {vault} from outside its network: {self.reason}; {self.advice}"


def _allowed(address: str, rules: list[str]) -> bool:
    try:
        caller = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(caller in ipaddress.ip_network(rule, strict=False) for rule in rules)


def judge_network(network: Network, caller: str | None = None, *, twin: bool = False) -> Unreachable | None:
    """The verdict the spec alone allows: `Unreachable` when certain, None when reachable or it depends.

    `caller` is this machine's address as the vault sees it (on the twin: loopback, always); without
    it, a firewall with rules is judged reachable (it depends on where smoke runs).
    """
    if network.public_access == "disabled":
        if twin:
            return Unreachable("network.publicAccess is disabled and the twin has no private endpoints", _ON_TWIN)
        return Unreachable(
            "network.publicAccess is disabled, so only its private endpoints (and trusted Azure services) reach it",
            _INSIDE,
        )
    if network.default_action == "Allow":
        return None
    caller = TWIN_CALLER if twin else caller
    if caller is not None:
        if _allowed(caller, list(network.ip_rules)) or (network.subnet_ids and not twin):
            return None  # an allowed address, or maybe one of the allowed subnets
        return Unreachable(
            f"its firewall denies by default and no network.ipRules entry allows {caller}",
            f"add {caller}/32 to network.ipRules, or run smoke from an allowed network",
        )
    if not network.ip_rules and not network.subnet_ids:
        return Unreachable(
            "its firewall denies by default and network lists no ipRules or subnetIds",
            "add the smoke runner's public address to network.ipRules, or run smoke from a subnet listed in "
            "network.subnetIds",
        )
    return None


def before_apply(spec: Spec, *, twin: bool = False) -> dict[str, Unreachable]:
    """Vaults of `spec` smoke cannot reach from outside their network (on the twin: at all), by name."""
    verdicts = {vault.name: judge_network(vault.network, twin=twin) for vault in spec.vaults}
    return {name: verdict for name, verdict in verdicts.items() if verdict is not None}


def from_refusal(error: VaultError, network: Network, *, twin: bool = False) -> Unreachable | None:
    """The verdict for the vault's own answer: a network refusal, explained with the spec."""
    codes = {error.code, error.inner}
    if "ForbiddenByConnection" in codes:
        refused = "the vault refuses public network access (403 ForbiddenByConnection)"
        if network.public_access == "disabled":
            verdict = judge_network(network, twin=twin)
            assert verdict is not None  # public access disabled is always a verdict
            return Unreachable(f"{refused}, as its spec says: {verdict.reason}", verdict.advice)
        return Unreachable(
            f"{refused}, although its spec says network.publicAccess: enabled",
            "the deployed vault differs from its spec: deploy the spec again, or run smoke from inside the "
            "vault's virtual network",
        )
    if "ForbiddenByFirewall" in codes:
        found = _CLIENT_ADDRESS.search(error.message)
        caller = found[1] if found else None
        address = caller or "address not given"
        refused = f"the vault's firewall refuses this machine ({address}; 403 ForbiddenByFirewall)"
        if caller and _allowed(caller, list(network.ip_rules)):
            return Unreachable(
                f"{refused}, although its spec allows it in network.ipRules",
                "the deployed vault differs from its spec: deploy the spec again",
            )
        what = f"add {caller}/32 to network.ipRules" if caller else "add this machine's address to network.ipRules"
        return Unreachable(refused, f"{what}, or run smoke from an allowed network")
    return None


async def probe(session: VaultSession, network: Network, *, twin: bool = False) -> Unreachable | None:
    """One data-plane request (the first page of key properties, one item) before any check runs.

    Only the network's verdict matters: an access-control 403 (no `list` right) proves the request got
    through, so it is never retried as RBAC propagation here.
    """
    token = CURRENT_LEDGER.set(WaitLedger(expects_refusal=True, object=REACH_OBJECT, check=REACH_CHECK))
    try:
        async for _ in session.keys.list_properties_of_keys(max_page_size=1):
            break
    except HttpResponseError as error:
        return from_refusal(VaultError.of(error), network, twin=twin) if error.status_code == 403 else None
    except (ServiceRequestError, ServiceResponseError) as error:
        host = urlsplit(session.vault_url).netloc
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return Unreachable(
            f"cannot connect to {host} ({first})",
            "check the vault URL, DNS and proxy settings; a private vault's name resolves to its private "
            "endpoint only inside its network",
        )
    except Exception:  # authentication and the rest: the checks report those themselves
        return None
    finally:
        CURRENT_LEDGER.reset(token)
    return None

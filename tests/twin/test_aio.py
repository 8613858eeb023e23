"""The async (aio) clients, default settings, against the same twin."""

from __future__ import annotations

import asyncio
import hashlib

from azure.keyvault.keys.aio import KeyClient
from azure.keyvault.keys.crypto import SignatureAlgorithm
from azure.keyvault.keys.crypto.aio import CryptographyClient
from azure.keyvault.secrets.aio import SecretClient

from tests.twin.conftest import fresh_name
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import TWIN_VAULT, async_credential, client_options


def test_async_key_and_secret_flows(twin: TwinInfo) -> None:
    async def scenario() -> None:
        credential = async_credential(twin)
        opts = client_options(twin)
        async with (
            credential,
            KeyClient(twin.vault_url(TWIN_VAULT), credential, **opts) as keys,
            SecretClient(twin.vault_url(TWIN_VAULT), credential, **opts) as secrets,
        ):
            name = fresh_name()
            key = await keys.create_rsa_key(name)
            async with CryptographyClient(key, credential, **opts) as crypto:
                digest = hashlib.sha256(b"x").digest()
                signed = await crypto.sign(SignatureAlgorithm.ps256, digest)
                assert (await crypto.verify(SignatureAlgorithm.ps256, digest, signed.signature)).is_valid
            assert [k.name async for k in keys.list_properties_of_keys() if k.name == name] == [name]
            poller = await keys.delete_key(name)
            assert poller.name == name
            recovered = await keys.recover_deleted_key(name)
            assert recovered.name == name
            await secrets.set_secret(name, "async-value")
            assert (await secrets.get_secret(name)).value == "async-value"
            await secrets.delete_secret(name)
            await secrets.purge_deleted_secret(name)

    asyncio.run(scenario())

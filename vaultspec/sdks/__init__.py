"""The component library for other Pulumi languages: its package schema and the SDKs generated from it.

    schema.py   the package schema the component provider serves (`components/schema.json`, committed)
    steps.py    cached build steps: commands re-run only when their inputs change (stamps in .vaultspec/sdks)
    build.py    generate, link and compile the TypeScript and Go SDKs and the examples that use them
    provider.py the component provider as the Pulumi CLI runs it: its virtualenv, the schema it serves

`python -m vaultspec.sdks schema` rewrites `components/schema.json`; `python -m vaultspec.sdks build`
builds both SDKs and examples (`make sdks`).
"""

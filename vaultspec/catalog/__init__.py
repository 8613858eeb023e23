"""Key Vault facts shared by every stage: built-in roles, access-policy permissions, key types.

One source of truth so the spec validator, the components and the twin can never disagree on a
role GUID or a permission name.
"""

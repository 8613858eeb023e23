"""vaultspec: Azure Key Vault as code.

Data flows one way: spec -> components -> resources -> policy -> apply -> smoke -> report.
"""

__version__ = "0.1.0"

"""The spec stage: YAML loading with positions, the typed model, cross-field rules, JSON Schema."""

from vaultspec.spec.errors import Problem, SpecError
from vaultspec.spec.load import load_spec, load_specs, spec_files
from vaultspec.spec.model import Spec, Vault

__all__ = ["Problem", "Spec", "SpecError", "Vault", "load_spec", "load_specs", "spec_files"]

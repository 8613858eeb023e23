"""The spec stage: YAML loading with positions, the typed model, cross-field rules, warnings, JSON Schema."""

from vaultspec.spec.errors import Problem, SpecError
from vaultspec.spec.load import CheckedSpec, check_spec, check_specs, load_spec, load_specs, spec_files
from vaultspec.spec.model import Spec, Vault

__all__ = [
    "CheckedSpec",
    "Problem",
    "Spec",
    "SpecError",
    "Vault",
    "check_spec",
    "check_specs",
    "load_spec",
    "load_specs",
    "spec_files",
]

"""Exports of an inventory for the systems that enforce or record it (docs/enforcement.md).

- :mod:`blastradius.export.policy`: the agreed controls as Claude Code / Cowork
  managed settings and as connector policies (DOMAIN.md D6), and reading them back;
- :mod:`blastradius.export.bom`: the inventory as a CycloneDX bill of materials
  (the ``export`` extra);
- :mod:`blastradius.export.files`: writing them without touching an input.
"""

__all__: list[str] = []

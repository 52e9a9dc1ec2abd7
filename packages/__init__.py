"""Packages: two Django apps, one above the other.

- `packages.catalog` (label `catalog`): services, package templates, their
  items and budget limits, shared from a network's central clinic (S1-S5).
- `packages.patient_packages` (label `patient_packages`): the packages sold to
  patients, each session's unit of them and the append-only ledger (K1-K12).

The catalog knows nothing of sold packages; sold packages read the catalog
(a template's terms are copied when a package is linked).
"""

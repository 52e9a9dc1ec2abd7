from tests.ledger.conftest import foreign_patient_b, link, patient  # noqa: F401  (shared fixtures)

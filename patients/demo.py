"""Demo patients for “Clínica Demo”: realistic Brazilian names, some minors
with guardians, one minor without, some self-registered and waiting for review."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from clinic.models import Clinic, Organization, Professional, User
from clinic.normalize import document_key
from patients import selectors, services
from patients.models import AnamnesisGroup, Patient, QuestionKind

FIRST_NAMES = [
    "Ana", "João", "Maria", "José", "Francisca", "Antônio", "Juliana", "Carlos", "Adriana", "Paulo",
    "Márcia", "Lucas", "Fernanda", "Gabriel", "Patrícia", "Rafael", "Aline", "Matheus", "Sandra", "Thiago",
    "Camila", "Pedro", "Letícia", "Gustavo", "Beatriz", "Felipe", "Larissa", "Bruno", "Vitória", "Rodrigo",
    "Helena", "Davi", "Isabela", "Arthur", "Lívia", "Heitor", "Manuela", "Bernardo", "Sophia", "Enzo",
]  # fmt: skip
LAST_NAMES = [
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
    "Costa", "Ribeiro", "Martins", "Carvalho", "Araújo", "Melo", "Barbosa", "Cardoso", "Rocha", "Dias",
]  # fmt: skip
STREETS = [
    "Rua Augusta",
    "Avenida Paulista",
    "Rua Oscar Freire",
    "Alameda Santos",
    "Rua Vergueiro",
    "Avenida Ibirapuera",
]
DISTRICTS = ["Consolação", "Bela Vista", "Jardins", "Moema", "Vila Mariana", "Pinheiros"]
INSURERS = ["", "", "Unimed", "Bradesco Saúde", "SulAmérica", "Amil"]
QUESTIONNAIRE = "Anamnese de Fisioterapia"
QUESTIONS: list[dict[str, Any]] = [
    {"text": "Qual é a queixa principal?", "kind": QuestionKind.TEXT},
    {"text": "Sente dor no momento?", "kind": QuestionKind.YES_NO},
    {"text": "Intensidade da dor", "kind": QuestionKind.CHOICE, "options": ["Leve", "Moderada", "Intensa"]},
    {"text": "Já fez cirurgias? Quais?", "kind": QuestionKind.TEXT},
    {"text": "Pratica atividade física?", "kind": QuestionKind.YES_NO},
]


def _cpf(rng: random.Random) -> str:
    """A CPF with valid check digits, formatted 000.000.000-00."""
    digits = [rng.randint(0, 9) for _ in range(9)]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(length + 1, 1, -1), strict=False))
        digits.append((total * 10 % 11) % 10)
    text = "".join(map(str, digits))
    return f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}"


def _mobile(rng: random.Random) -> str:
    return f"(11) 9{rng.randint(6000, 9999)}-{rng.randint(1000, 9999)}"


def seed_patients(organization: Organization, clinics: list[Clinic]) -> None:
    """About 40 patients over the clinics; adds only what is missing."""
    group = AnamnesisGroup.objects.filter(name=QUESTIONNAIRE).first()
    if group is None:
        group = services.anamnesis_group_save(organization=organization, name=QUESTIONNAIRE, questions=QUESTIONS)
    rng = random.Random(20261123)  # the same demo on every machine
    today = services.clinic_today(clinics[0])
    existing = set(Patient.objects.values_list("document_normalized", flat=True))
    for n in range(40):
        clinic = clinics[0] if n % 3 else clinics[-1]
        professionals = list(Professional.objects.filter(clinic=clinic, is_active=True).order_by("pk"))
        first, last = FIRST_NAMES[n], " ".join(rng.sample(LAST_NAMES, 2))
        minor = n % 8 == 0
        age_days = rng.randint(6 * 365, 16 * 365) if minor else rng.randint(19 * 365, 78 * 365)
        document = _cpf(rng)
        mobile = _mobile(rng)
        fields: dict[str, object] = {
            "full_name": f"{first} {last}",
            "birth_date": today - dt.timedelta(days=age_days),
            "document": document,
            "sex": "female" if first.endswith("a") else "male",
            "email": f"{document_key(document)[:6]}@exemplo.com.br",
            "mobile": mobile,
            "street": rng.choice(STREETS),
            "street_number": str(rng.randint(10, 2500)),
            "district": rng.choice(DISTRICTS),
            "city": "São Paulo",
            "state": "SP",
            "postal_code": f"0{rng.randint(1000, 5999)}-{rng.randint(100, 999)}",
            "default_insurer": rng.choice(INSURERS),
            "referral_source": rng.choice(["patient", "doctor", "search", "social", "insurer"]),
        }
        if minor and n != 16:  # patient 16 is the minor whose guardian is still missing
            fields |= {
                "guardian_name": f"{rng.choice(FIRST_NAMES[:20])} {last}",
                "guardian_relationship": rng.choice(["Mãe", "Pai"]),
                "guardian_mobile": _mobile(rng),
                "guardian_email": f"resp.{document_key(document)[:6]}@exemplo.com.br",
                "guardian_send_charges_whatsapp": True,
                "guardian_send_documents_email": True,
            }
        responsible = rng.choice(professionals) if professionals else None
        if document_key(document) in existing:
            continue  # only after drawing every random value: later patients stay the same
        if n % 13 == 5 or responsible is None:
            # Came in through the clinic's self-registration link, not reviewed yet.
            link = selectors.self_registration_link_live(clinic) or services.self_registration_link_generate(
                clinic=clinic, actor=User.objects.filter(organization=organization).order_by("pk").first()
            )
            services.patient_self_register(link=link, fields=fields)
            continue
        patient = services.patient_create(clinic=clinic, fields=fields, professionals=[responsible])
        if n % 4 == 1:
            services.patient_save_anamnesis(
                patient=patient,
                group=group,
                answers={
                    str(q.pk): answer
                    for q, answer in zip(
                        group.questions.order_by("position"),
                        ["Dor lombar há 3 meses", True, "Moderada", "Não", False],
                        strict=True,
                    )
                },
            )

"""What a citizen can report, about which trade, where.

Codes are short ASCII so they fit callback_data (64 bytes) and survive renames of labels; labels
are English message ids translated by the Persian catalog (`locales/`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_


@dataclass(frozen=True, slots=True)
class Choice:
    code: str
    label: str  # English msgid; show with `_()`


# The 135 e-desk's eight types first, then the others worth offering (shared/domain.md).
VIOLATION_TYPES: tuple[Choice, ...] = (
    Choice("overpricing", N_("Overpricing")),
    Choice("fraud", N_("Fraud or adulteration")),
    Choice("short_weight", N_("Short weight or quantity")),
    Choice("no_price_label", N_("No price label")),
    Choice("forced_sale", N_("Forced or bundled sale")),
    Choice("off_network", N_("Selling outside the distribution network")),
    Choice("withholding", N_("Hiding goods or refusing to sell")),
    Choice("health_rules", N_("Breaking health rules")),
    Choice("hoarding", N_("Hoarding")),
    Choice("no_invoice", N_("No or false invoice")),
    Choice("smuggling", N_("Smuggling of goods or currency")),
    Choice("medicine", N_("Medicine and medical supplies")),
    Choice("other", N_("Other")),
)

SECTORS: tuple[Choice, ...] = (
    Choice("food", N_("Food and groceries")),
    Choice("medicine", N_("Medicine and health")),
    Choice("vehicles", N_("Vehicles and parts")),
    Choice("appliances", N_("Home appliances")),
    Choice("clothing", N_("Clothing and shoes")),
    Choice("construction", N_("Construction materials")),
    Choice("services", N_("Restaurants and services")),
    Choice("fuel", N_("Fuel")),
    Choice("online", N_("Online shops")),
    Choice("other", N_("Other")),
)

# ISO 3166-2:IR codes (without the "IR-" prefix) and names; the Persian is in the catalog.
PROVINCES: tuple[Choice, ...] = (
    Choice("23", N_("Tehran")),
    Choice("00", N_("Markazi")),
    Choice("01", N_("Gilan")),
    Choice("02", N_("Mazandaran")),
    Choice("03", N_("East Azerbaijan")),
    Choice("04", N_("West Azerbaijan")),
    Choice("05", N_("Kermanshah")),
    Choice("06", N_("Khuzestan")),
    Choice("07", N_("Fars")),
    Choice("08", N_("Kerman")),
    Choice("09", N_("Razavi Khorasan")),
    Choice("10", N_("Isfahan")),
    Choice("11", N_("Sistan and Baluchestan")),
    Choice("12", N_("Kurdistan")),
    Choice("13", N_("Hamadan")),
    Choice("14", N_("Chaharmahal and Bakhtiari")),
    Choice("15", N_("Lorestan")),
    Choice("16", N_("Ilam")),
    Choice("17", N_("Kohgiluyeh and Boyer-Ahmad")),
    Choice("18", N_("Bushehr")),
    Choice("19", N_("Zanjan")),
    Choice("20", N_("Semnan")),
    Choice("21", N_("Yazd")),
    Choice("22", N_("Hormozgan")),
    Choice("24", N_("Ardabil")),
    Choice("25", N_("Qom")),
    Choice("26", N_("Qazvin")),
    Choice("27", N_("Golestan")),
    Choice("28", N_("North Khorasan")),
    Choice("29", N_("South Khorasan")),
    Choice("30", N_("Alborz")),
)


def _index(choices: tuple[Choice, ...]) -> dict[str, Choice]:
    return {c.code: c for c in choices}


VIOLATIONS_BY_CODE = _index(VIOLATION_TYPES)
SECTORS_BY_CODE = _index(SECTORS)
PROVINCES_BY_CODE = _index(PROVINCES)

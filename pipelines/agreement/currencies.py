"""The ISO 4217 currency codes an agreement may name, and the code a mistyped one meant."""

from __future__ import annotations

# ISO 4217 List One (current currency and funds codes), as its maintenance agency, SIX,
# published it in 2025 and cross-checked against CLDR 47 (Babel 2.18), whose list is not
# ISO's: it holds CNH, an offshore market code, and historic codes (DEM, FRF). Written here,
# not read from Babel, which only dbt's agate installs.
CURRENCIES = frozenset("""
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP
    DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
    MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD
    SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS
    VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA
    XXX YER ZAR ZMW ZWG
""".split())

# Codes replaced since the euro's notes and coins (2002), each with its successor and the
# first month it was no longer the currency (approximately, where the two ran side by side).
# Agreements are kept for years (sla/ holds every revision): a revision of 2022 in Croatian
# kuna is valid, and one in force after the changeover gets a warning (advice.py).
WITHDRAWN = {
    **dict.fromkeys("ATS BEF DEM ESP FIM FRF GRD IEP ITL LUF NLG PTE".split(), ("EUR", "2002-01")),
    "SIT": ("EUR", "2007-01"), "CYP": ("EUR", "2008-01"), "MTL": ("EUR", "2008-01"), "SKK": ("EUR", "2009-01"),
    "EEK": ("EUR", "2011-01"), "LVL": ("EUR", "2014-01"), "LTL": ("EUR", "2015-01"), "HRK": ("EUR", "2023-01"),
    "BGN": ("EUR", "2026-01"), "TRL": ("TRY", "2005-01"), "ROL": ("RON", "2005-07"), "AZM": ("AZN", "2006-01"),
    "MZM": ("MZN", "2006-07"), "CSD": ("RSD", "2006-10"), "SDD": ("SDG", "2007-07"), "GHC": ("GHS", "2007-07"),
    "VEB": ("VEF", "2008-01"), "TMM": ("TMT", "2009-01"), "ZMK": ("ZMW", "2013-01"), "BYR": ("BYN", "2016-07"),
    "MRO": ("MRU", "2018-01"), "STD": ("STN", "2018-01"), "VEF": ("VES", "2018-08"), "CUC": ("CUP", "2021-01"),
    "SLL": ("SLE", "2022-07"), "ZWL": ("ZWG", "2024-04"), "ANG": ("XCG", "2025-04"),
}

# The codes List One gives 3 decimal places (its minor unit): 600.125 KWD is a sum of money
# as written, not 600 125 written with a dot between thousands (advice.py).
THOUSANDTHS = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})

# Funds, metals and units of account: valid, but no agreement's money is likely in them, so
# never the code a typo meant (USX is a slip of USD, not of USN, US dollars "next day").
_NO_MONEY = frozenset("BOV CHE CHW CLF COU MXV USN UYI UYW XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX".split())

# Names people write for a currency that are no code of it, and a letter away from another
# currency's code (YEN from YER, the Yemeni rial; RMB from RUB).
_SPOKEN = {"YEN": "JPY", "RMB": "CNY", "CNH": "CNY", "NTD": "TWD", "NIS": "ILS", "UKP": "GBP", "STG": "GBP",
           "EURO": "EUR", "EUROS": "EUR"}

# Crypto-assets have no ISO 4217 code, and BTC is no slip of BTN, Bhutan's ngultrum.
_CRYPTO = frozenset({"BTC", "XBT", "ETH", "USDT", "USDC"})


def meant_currency(written: str) -> str | None:
    """The currency code `written` most likely meant: itself in capitals (`eur`), the code of
    a name (`yen`), or the code one letter or one swap of two neighbours away (USX, GPB);
    None when no code is, or several are alike."""
    code = written.strip().upper()
    if code in _CRYPTO:
        return None
    if code in _SPOKEN:
        return _SPOKEN[code]
    if code in CURRENCIES or code in WITHDRAWN:
        return code
    near = [c for c in CURRENCIES - _NO_MONEY if len(c) == len(code) and _one_slip(c, code)]
    if len(near) > 1:
        # Three letters are crowded (USX is a letter from USD and from UGX): the code that keeps
        # the country (its first two letters, ISO 3166's), else the one of two swapped letters.
        near = next((narrowed for narrowed in ([c for c in near if c[:2] == code[:2]],
                                               [c for c in near if sorted(c) == sorted(code)]) if len(narrowed) == 1), [])
    return near[0] if len(near) == 1 else None


def _one_slip(a: str, b: str) -> bool:
    differ = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    return len(differ) == 1 or (len(differ) == 2 and differ[1] == differ[0] + 1
                                and a[differ[0]] == b[differ[1]] and a[differ[1]] == b[differ[0]])


def not_a_currency(written: object) -> str:
    """The message for a currency that is no ISO 4217 code."""
    meant = meant_currency(written) if isinstance(written, str) else None
    text = f"{written!r} is not a currency: expected a 3-letter ISO 4217 code"
    return f"{text}; did you mean {meant!r}?" if meant else f"{text} like USD"

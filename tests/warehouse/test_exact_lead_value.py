"""The weighted MQL volume is an exact sum: an exact hit of its target is not a miss.

Summed as floats, 50 weights of 2.3 made 114.99999999999999 and 20 products 0.7 × 1.5 made
20.999999999999996, each below a target met exactly (115 and 21, tolerance 0).
March: 50 MQLs with persona data_leader (2.3). April: 20 MQLs with seniority manager (0.7)
and persona analyst (1.5). UTC months, as of after both have closed.
"""

from __future__ import annotations

from decimal import Decimal

from . import raw_data

A, R = "exact", "r1"
AS_OF = "2026-05-02 00:00:00"


def _build_raw(con) -> None:
    raw_data.utc_revision(con, A, R, ["2026-03", "2026-04"])
    raw_data.insert(con, "agreement_conversions", [
        (A, R, "visit", "lead", 0.02, "period", None),
        (A, R, "lead", "mql", 0.3, "period", None),
        (A, R, "mql", "sql", 0.4, "period", None),
        (A, R, "sql", "opportunity", 0.5, "period", None),
        (A, R, "opportunity", "customer", 0.33, "period", None),
    ])
    raw_data.insert(con, "agreement_lead_weights", [
        (A, R, "persona", "data_leader", Decimal("2.3")),
        (A, R, "seniority", "manager", Decimal("0.7")),
        (A, R, "persona", "analyst", Decimal("1.5")),
    ])
    raw_data.insert(con, "agreement_targets", [
        (A, R, "2026-03", "weighted_volume:mql", 115.0, "at_least", "shared", 0.0, "fail"),
        (A, R, "2026-04", "weighted_volume:mql", 21.0, "at_least", "shared", 0.0, "fail"),
    ])
    march = [(f"m{i}", "2026-03-10 12:00:00", "organic", "data_leader", None, "US") for i in range(50)]
    april = [(f"a{i}", "2026-04-10 12:00:00", "organic", "analyst", "manager", "US") for i in range(20)]
    raw_data.insert(con, "contacts", march + april)
    raw_data.insert(con, "lifecycle_events", [(c[0], "mql", c[1], None) for c in march + april])
    raw_data.load_report(con)


def test_weighted_volume_is_summed_exactly(warehouse):
    with warehouse.connect() as con:
        _build_raw(con)

    warehouse.dbt("build", as_of=AS_OF, select=["+scorecard"], exclude=["resource_type:unit_test"])

    volumes = warehouse.query("select period, volume, weighted_volume from marts.funnel_volumes "
                              "where stage_id = 'mql' order by period")
    assert [(v["period"], v["volume"], v["weighted_volume"]) for v in volumes] == [
        ("2026-03", 50, Decimal(115)), ("2026-04", 20, Decimal(21))]
    scorecard = warehouse.query("select period, target, actual from marts.scorecard "
                                "where kpi = 'weighted_volume:mql' order by period")
    assert [(r["period"], r["target"], r["actual"]) for r in scorecard] == [
        ("2026-03", 115.0, 115.0), ("2026-04", 21.0, 21.0)]


def test_a_weight_matches_its_value_in_either_unicode_form(warehouse):
    """The agreement writes 'Entscheidungsträger' composed and 'Directeur Général' decomposed
    (e + a combining accent, as text from macOS may be); the contacts write each the other way
    and in other case. Each MQL weighs what the agreement says, not silently 1."""
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Directeur Général")
    with warehouse.connect() as con:
        raw_data.utc_revision(con, A, R, ["2026-03"])
        raw_data.insert(con, "agreement_lead_weights", [
            (A, R, "persona", "Entscheidungsträger", Decimal(2)),
            (A, R, "seniority", nfd, Decimal(3)),
        ])
        raw_data.insert(con, "contacts", [
            ("p", "2026-03-10 12:00:00", None, unicodedata.normalize("NFD", "ENTSCHEIDUNGSTRÄGER"), None, "DE"),
            ("s", "2026-03-10 12:00:00", None, None, "DIRECTEUR GÉNÉRAL", "FR"),
        ])
        raw_data.insert(con, "lifecycle_events", [("p", "mql", "2026-03-10 12:00:00", None),
                                                  ("s", "mql", "2026-03-10 12:00:00", None)])
        raw_data.load_report(con)

    warehouse.dbt("build", as_of=AS_OF, select=["+funnel_volumes"], exclude=["resource_type:unit_test"])

    [mql] = warehouse.query("select volume, weighted_volume from marts.funnel_volumes where stage_id = 'mql'")
    assert (mql["volume"], mql["weighted_volume"]) == (2, Decimal(5))

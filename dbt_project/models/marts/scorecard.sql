-- The scorecard: one row per agreement, revision, month started by as_of, and KPI
-- (SPEC sections 4 and 5), with the revision in force's target, owner, tolerance and
-- severity. Only figures: whether a KPI is met, breached, provisional or at risk is judged
-- by the Great Expectations suites (pipelines.checks), the one place that rule lives.
--   forecast: pace (actual * days_in_month / days_elapsed, from the exact figure and rounded
--     once: macros/pace_forecast.sql) for a month still open, for volume, weighted volume and
--     revenue KPIs; null otherwise.
--   is_final: the figure can no longer change (month closed, cohort mature, hand-off
--     limits passed).
--   has_data: false when a table the KPI needs was absent from the load (no_data).

with

months as (

    select * from {{ ref('int_agreement_months_as_of') }}

),

funnel_volumes as (

    select * from {{ ref('funnel_volumes') }}

),

conversions as (

    select * from {{ ref('conversions') }}

),

handoff_attainment as (

    select * from {{ ref('handoff_attainment') }}

),

recycle_rate as (

    select * from {{ ref('recycle_rate') }}

),

revenue as (

    select * from {{ ref('revenue') }}

),

data_quality as (

    select * from {{ ref('data_quality') }}

),

targets as (

    select * from {{ ref('targets') }}

),

kpi_actuals as (

    select
        agreement,
        revision,
        period,
        {{ dbt.concat(["'volume:'", 'stage_id']) }} as kpi,
        stage_owner as default_owner,
        cast(volume as {{ funnelpact.type_double() }}) as actual,
        has_data,
        cast(null as {{ dbt.type_timestamp() }}) as final_at,
        true as is_paced,
        cast(volume as decimal(38, 12)) as pace_figure

    from funnel_volumes

    union all

    select
        agreement,
        revision,
        period,
        'weighted_volume:mql' as kpi,
        stage_owner as default_owner,
        cast(weighted_volume as {{ funnelpact.type_double() }}) as actual,
        has_data,
        cast(null as {{ dbt.type_timestamp() }}) as final_at,
        true as is_paced,
        cast(weighted_volume as decimal(38, 12)) as pace_figure

    from funnel_volumes
    where stage_id = 'mql'

    union all

    select
        conversions.agreement,
        conversions.revision,
        conversions.period,
        {{ dbt.concat(["'conversion:'", 'conversions.from_stage', "'->'", 'conversions.to_stage']) }} as kpi,
        from_volumes.stage_owner as default_owner,
        conversions.rate as actual,
        conversions.has_data,
        conversions.final_at,
        false as is_paced,
        cast(null as decimal(38, 12)) as pace_figure

    from conversions
    left join funnel_volumes as from_volumes
        on conversions.agreement = from_volumes.agreement
        and conversions.revision = from_volumes.revision
        and conversions.period = from_volumes.period
        and conversions.from_stage = from_volumes.stage_id

    union all

    select
        agreement,
        revision,
        period,
        {{ dbt.concat(["'handoff:'", 'rule']) }} as kpi,
        'sales' as default_owner,
        attainment as actual,
        has_data,
        final_at,
        false as is_paced,
        cast(null as decimal(38, 12)) as pace_figure

    from handoff_attainment

    union all

    select
        agreement,
        revision,
        period,
        'recycle_rate' as kpi,
        'marketing' as default_owner,
        recycle_rate as actual,
        has_data,
        final_at,
        false as is_paced,
        cast(null as decimal(38, 12)) as pace_figure

    from recycle_rate

    union all

    select
        agreement,
        revision,
        period,
        'revenue' as kpi,
        'sales' as default_owner,
        revenue as actual,
        has_data,
        final_at,
        true as is_paced,
        -- null from 10^26 (a sum of amounts of up to 20 digits can reach 10^32): the forecast
        -- then takes the double
        {{ dbt.safe_cast("revenue", "decimal(38, 12)") }} as pace_figure

    from revenue

    union all

    -- The quarantine rate describes the load, not a month: every month shows the same figure.
    select
        months.agreement,
        months.revision,
        months.period,
        'data_quality:quarantine_rate' as kpi,
        'shared' as default_owner,
        data_quality.quarantine_rate as actual,
        data_quality.has_data,
        cast(null as {{ dbt.type_timestamp() }}) as final_at,
        false as is_paced,
        cast(null as decimal(38, 12)) as pace_figure

    from months
    cross join data_quality

),

month_targets as (

    select targets.*
    from targets
    inner join months
        on targets.agreement = months.agreement
        and targets.revision = months.revision
        and targets.period = months.period

),

-- A target without a figure (e.g. a hand-off target for a revision without an mql stage)
-- still gets a row, without data, so nothing agreed silently disappears.
joined as (

    select
        coalesce(kpi_actuals.agreement, month_targets.agreement) as agreement,
        coalesce(kpi_actuals.revision, month_targets.revision) as revision,
        coalesce(kpi_actuals.period, month_targets.period) as period,
        coalesce(kpi_actuals.kpi, month_targets.kpi) as kpi,
        coalesce(month_targets.owner, kpi_actuals.default_owner) as owner,
        month_targets.target,
        kpi_actuals.actual,
        month_targets.direction,
        coalesce(kpi_actuals.has_data, false) as has_data,
        kpi_actuals.final_at,
        coalesce(kpi_actuals.is_paced, false) as is_paced,
        kpi_actuals.pace_figure,
        month_targets.tolerance,
        month_targets.severity

    from kpi_actuals
    full outer join month_targets
        on kpi_actuals.agreement = month_targets.agreement
        and kpi_actuals.revision = month_targets.revision
        and kpi_actuals.period = month_targets.period
        and kpi_actuals.kpi = month_targets.kpi

),

final as (

    select
        joined.period,
        joined.kpi,
        joined.owner,
        joined.target,
        case when joined.has_data then joined.actual end as actual,
        joined.direction,
        case
            when joined.is_paced
                and joined.has_data
                and not months.is_closed
                and months.days_elapsed > 0
                then {{ funnelpact.pace_forecast('joined.pace_figure', 'joined.actual', 'months.days_in_month', 'months.days_elapsed') }}
        end as forecast,
        coalesce(joined.final_at, months.month_end_utc) <= months.as_of as is_final,
        joined.has_data,
        months.days_elapsed,
        months.days_in_month,
        joined.tolerance,
        joined.severity,
        joined.agreement,
        joined.revision,
        coalesce(joined.final_at, months.month_end_utc) as final_at,
        months.as_of

    from joined
    inner join months
        on joined.agreement = months.agreement
        and joined.revision = months.revision
        and joined.period = months.period

)

select * from final

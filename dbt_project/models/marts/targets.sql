-- The agreement's targets per revision, month and KPI (the plan, computed exactly in
-- Python from sla/*.yaml), with the month's bounds. Every month of every window, also the
-- months still to come.

with

targets as (

    select * from {{ ref('stg_agreement__targets') }}

),

months as (

    select * from {{ ref('stg_agreement__months') }}

),

final as (

    select
        targets.agreement,
        targets.revision,
        targets.period,
        targets.kpi,
        targets.target,
        targets.direction,
        targets.owner,
        targets.tolerance,
        targets.severity,
        months.month_start_utc,
        months.month_end_utc

    from targets
    left join months
        on targets.agreement = months.agreement
        and targets.revision = months.revision
        and targets.period = months.period

)

select * from final

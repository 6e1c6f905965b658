-- Recycle rate per revision month (SPEC section 3): contacts whose MQL entry falls in the
-- month and that have a `recycled` event (at any time up to as_of), / Volume(mql, P).
-- Final once the month is closed and its MQLs' decision window has passed
-- (month end + decision days <= as_of): rejections are due within that window.

with

months as (

    select * from {{ ref('int_agreement_months_as_of') }}

),

revisions as (

    select * from {{ ref('stg_agreement__revisions') }}

),

funnel_volumes as (

    select * from {{ ref('funnel_volumes') }}

),

handoffs as (

    select * from {{ ref('int_mql_handoffs') }}

),

recycled as (

    select
        agreement,
        revision,
        period,
        sum(case when has_recycled_event then 1 else 0 end) as recycled_mqls

    from handoffs
    group by agreement, revision, period

),

-- Rejections are due within the decision window: the month is final once month end +
-- decision days has passed (without a decision rule, at month end).
month_windows as (

    select
        months.agreement,
        months.revision,
        months.period,
        {{ funnelpact.handoff_deadline('months.month_end_utc', 'coalesce(revisions.decision_days, 0)', 'day') }}
            as final_at

    from months
    inner join revisions
        on months.agreement = revisions.agreement
        and months.revision = revisions.revision

),

final as (

    select
        month_windows.agreement,
        month_windows.revision,
        month_windows.period,
        case when mql_volumes.has_data then coalesce(recycled.recycled_mqls, 0) end as recycled_mqls,
        mql_volumes.volume as mql_volume,
        case
            when mql_volumes.has_data
                then {{ funnelpact.safe_divide('coalesce(recycled.recycled_mqls, 0)', 'mql_volumes.volume') }}
        end as recycle_rate,
        month_windows.final_at,
        month_windows.final_at <= {{ as_of() }} as is_final,
        mql_volumes.has_data

    from month_windows
    inner join funnel_volumes as mql_volumes
        on month_windows.agreement = mql_volumes.agreement
        and month_windows.revision = mql_volumes.revision
        and month_windows.period = mql_volumes.period
        and mql_volumes.stage_id = 'mql'
    left join recycled
        on month_windows.agreement = recycled.agreement
        and month_windows.revision = recycled.revision
        and month_windows.period = recycled.period

)

select * from final

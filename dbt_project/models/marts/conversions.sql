-- Conversion A->B per revision month (SPEC section 3).
--   period: Volume(B, P) / Volume(A, P); final once the month has closed.
--   cohort (window W days): among contacts entering A in P, the share entering B at most
--     W days after their entry into A; mature (final) once month end + W days <= as_of,
--     provisional before. visit->lead is always period (visits are sessions, not contacts).
-- A denominator of 0 gives a null rate: a rate over nobody is unknown.

with

months as (

    select * from {{ ref('int_agreement_months_as_of') }}

),

agreed_conversions as (

    select * from {{ ref('stg_agreement__conversions') }}

),

funnel_volumes as (

    select * from {{ ref('funnel_volumes') }}

),

stage_entries as (

    select * from {{ ref('int_stage_entries') }}

),

conversion_months as (

    select
        months.agreement,
        months.revision,
        months.period,
        months.month_start_utc,
        months.month_end_utc,
        agreed_conversions.from_stage,
        agreed_conversions.to_stage,
        agreed_conversions.agreed_rate,
        case
            when agreed_conversions.from_stage = 'visit' then 'period'
            else coalesce(agreed_conversions.method, 'period')
        end as method,
        agreed_conversions.window_days

    from months
    inner join agreed_conversions
        on months.agreement = agreed_conversions.agreement
        and months.revision = agreed_conversions.revision

),

cohort_members as (

    select
        conversion_months.agreement,
        conversion_months.revision,
        conversion_months.period,
        conversion_months.from_stage,
        conversion_months.to_stage,
        count(*) as entered_from,
        sum(
            case
                when to_entries.entered_at <= {{ dbt.dateadd('day', 'conversion_months.window_days', 'from_entries.entered_at') }}
                    then 1
                else 0
            end
        ) as converted

    from conversion_months
    inner join stage_entries as from_entries
        on conversion_months.agreement = from_entries.agreement
        and conversion_months.revision = from_entries.revision
        and conversion_months.from_stage = from_entries.stage_id
        and {{ funnelpact.in_month('from_entries.entered_at', 'conversion_months') }}
    left join stage_entries as to_entries
        on from_entries.agreement = to_entries.agreement
        and from_entries.revision = to_entries.revision
        and from_entries.contact_id = to_entries.contact_id
        and conversion_months.to_stage = to_entries.stage_id

    where conversion_months.method = 'cohort'

    group by
        conversion_months.agreement,
        conversion_months.revision,
        conversion_months.period,
        conversion_months.from_stage,
        conversion_months.to_stage

),

figures as (

    select
        conversion_months.agreement,
        conversion_months.revision,
        conversion_months.period,
        conversion_months.from_stage,
        conversion_months.to_stage,
        conversion_months.method,
        conversion_months.window_days,
        conversion_months.agreed_rate,
        case
            when conversion_months.method = 'cohort' then coalesce(cohort_members.converted, 0)
            else to_volumes.volume
        end as numerator,
        case
            when conversion_months.method = 'cohort' then coalesce(cohort_members.entered_from, 0)
            else from_volumes.volume
        end as denominator,
        case
            when conversion_months.method = 'cohort'
                then {{ dbt.dateadd('day', 'conversion_months.window_days', 'conversion_months.month_end_utc') }}
            else conversion_months.month_end_utc
        end as final_at,
        from_volumes.has_data and to_volumes.has_data as has_data

    from conversion_months
    left join funnel_volumes as from_volumes
        on conversion_months.agreement = from_volumes.agreement
        and conversion_months.revision = from_volumes.revision
        and conversion_months.period = from_volumes.period
        and conversion_months.from_stage = from_volumes.stage_id
    left join funnel_volumes as to_volumes
        on conversion_months.agreement = to_volumes.agreement
        and conversion_months.revision = to_volumes.revision
        and conversion_months.period = to_volumes.period
        and conversion_months.to_stage = to_volumes.stage_id
    left join cohort_members
        on conversion_months.agreement = cohort_members.agreement
        and conversion_months.revision = cohort_members.revision
        and conversion_months.period = cohort_members.period
        and conversion_months.from_stage = cohort_members.from_stage
        and conversion_months.to_stage = cohort_members.to_stage

),

final as (

    select
        agreement,
        revision,
        period,
        from_stage,
        to_stage,
        method,
        window_days,
        agreed_rate,
        case when has_data then numerator end as numerator,
        case when has_data then denominator end as denominator,
        case when has_data then {{ funnelpact.safe_divide('numerator', 'denominator') }} end as rate,
        final_at,
        final_at <= {{ as_of() }} as is_final,
        coalesce(has_data, false) as has_data

    from figures

)

select * from final

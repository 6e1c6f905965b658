-- The months that have started as of the run, with how much of each has elapsed.
-- days_elapsed is the elapsed share of the month's real UTC length (23 or 25 hours on a
-- DST day) times its calendar days, so the pace forecast is exact across DST changes.

with

months as (

    select * from {{ ref('stg_agreement__months') }}

),

final as (

    select
        agreement,
        revision,
        period,
        month_start_utc,
        month_end_utc,
        days_in_month,
        {{ as_of() }} as as_of,
        month_end_utc <= {{ as_of() }} as is_closed,
        case
            when month_end_utc <= {{ as_of() }} then cast(days_in_month as {{ funnelpact.type_double() }})
            else days_in_month
                * cast({{ dbt.datediff('month_start_utc', as_of(), 'second') }} as {{ funnelpact.type_double() }})
                / {{ dbt.datediff('month_start_utc', 'month_end_utc', 'second') }}
        end as days_elapsed

    from months

    where month_start_utc <= {{ as_of() }}

)

select * from final

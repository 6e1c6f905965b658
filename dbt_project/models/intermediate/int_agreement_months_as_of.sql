-- The months that have started as of the run, with how much of each has elapsed.
-- days_elapsed counts the month's local calendar days (SPEC section 4: "days elapsed"): each
-- day that has ended is 1, the day under way its elapsed share of its own UTC length. So a
-- local midnight gives a whole number even after a 23- or 25-hour DST day, and the pace
-- forecast divides calendar days by calendar days.

with

months as (

    select * from {{ ref('stg_agreement__months') }}

),

days as (

    select * from {{ ref('stg_agreement__days') }}

),

started as (

    select * from months
    where month_start_utc <= {{ as_of() }}

),

day_spans as (

    -- A local day ends where the next one starts; the month's last day at the month's end.
    -- Open months only: a closed month has all its days.
    select
        days.agreement,
        days.revision,
        days.period,
        days.day_start_utc,
        coalesce(
            lead(days.day_start_utc) over (
                partition by days.agreement, days.revision, days.period order by days.local_date
            ),
            started.month_end_utc
        ) as day_end_utc

    from days
    inner join started
        on days.agreement = started.agreement
        and days.revision = started.revision
        and days.period = started.period
        and started.month_end_utc > {{ as_of() }}

),

elapsed as (

    select
        agreement,
        revision,
        period,
        sum(
            case
                when day_end_utc <= {{ as_of() }} then 1.0
                when day_start_utc >= {{ as_of() }} then 0.0
                else cast({{ dbt.datediff('day_start_utc', as_of(), 'second') }} as {{ funnelpact.type_double() }})
                    / {{ dbt.datediff('day_start_utc', 'day_end_utc', 'second') }}
            end
        ) as days_elapsed

    from day_spans
    group by agreement, revision, period

),

final as (

    select
        started.agreement,
        started.revision,
        started.period,
        started.month_start_utc,
        started.month_end_utc,
        started.days_in_month,
        {{ as_of() }} as as_of,
        started.month_end_utc <= {{ as_of() }} as is_closed,
        case
            when started.month_end_utc <= {{ as_of() }}
                then cast(started.days_in_month as {{ funnelpact.type_double() }})
            else elapsed.days_elapsed
        end as days_elapsed

    from started
    left join elapsed
        on started.agreement = elapsed.agreement
        and started.revision = elapsed.revision
        and started.period = elapsed.period

)

select * from final

-- Revenue per revision month (SPEC section 3): the sum of `amount` of deals with status
-- `won` whose closed_at falls in the month (and is not after as_of); a won deal without
-- closed_at is in no month. Amounts are summed as they are, as exact decimals of 6 places
-- (the sum then becomes the scorecard's double): the canonical data is expected in the
-- agreement's currency.

with

months as (

    select * from {{ ref('int_agreement_months_as_of') }}

),

deals as (

    select * from {{ ref('stg_crm__deals') }}

),

presence as (

    select * from {{ ref('int_source_presence') }}

),

won_deals as (

    select
        months.agreement,
        months.revision,
        months.period,
        count(*) as won_deals,
        sum(deals.amount) as won_amount

    from deals
    inner join months
        on deals.closed_at >= months.month_start_utc
        and deals.closed_at < months.month_end_utc

    where deals.status = 'won'
        and deals.closed_at <= months.as_of

    group by months.agreement, months.revision, months.period

),

final as (

    select
        months.agreement,
        months.revision,
        months.period,
        case when presence.has_deals then coalesce(won_deals.won_deals, 0) end as won_deals,
        case
            when presence.has_deals
                then cast(coalesce(won_deals.won_amount, 0) as {{ funnelpact.type_double() }})
        end as revenue,
        months.month_end_utc as final_at,
        months.is_closed as is_final,
        presence.has_deals as has_data

    from months
    cross join presence
    left join won_deals
        on months.agreement = won_deals.agreement
        and months.revision = won_deals.revision
        and months.period = won_deals.period

)

select * from final

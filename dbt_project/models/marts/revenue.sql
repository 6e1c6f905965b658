-- Revenue per revision month (SPEC section 3): the sum of `amount` of deals with status
-- `won` whose closed_at falls in the month (and is not after as_of); a won deal without
-- closed_at is in no month. Amounts are summed as they are, as exact decimals of 6 places
-- (the sum then becomes the scorecard's double): the canonical data is expected in the
-- agreement's currency. Won deals whose currency is given and is another one are still
-- summed (SPEC), and counted by currency, so the run can say so rather than judge EUR or MXN
-- as dollars without a word.

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

revisions as (

    select * from {{ ref('stg_agreement__revisions') }}

),

won_in_month as (

    select
        months.agreement,
        months.revision,
        months.period,
        deals.amount,
        case
            when upper(trim(deals.currency)) <> upper(revisions.currency)
                then upper(trim(deals.currency))
        end as other_currency

    from deals
    inner join months
        on {{ funnelpact.in_month('deals.closed_at', 'months') }}
    inner join revisions
        on months.agreement = revisions.agreement
        and months.revision = revisions.revision

    where deals.status = 'won'
        and deals.closed_at <= months.as_of

),

other_currencies as (

    select
        agreement,
        revision,
        period,
        other_currency,
        count(*) as deals

    from won_in_month
    where other_currency is not null and other_currency <> ''
    group by agreement, revision, period, other_currency

),

other_currency_deals as (

    select
        agreement,
        revision,
        period,
        sum(deals) as other_currency_deals,
        {{ dbt.listagg("other_currency || ' ' || cast(deals as " ~ dbt.type_string() ~ ")", "', '",
                       "order by other_currency") }} as other_currencies

    from other_currencies
    group by agreement, revision, period

),

won_deals as (

    select
        agreement,
        revision,
        period,
        count(*) as won_deals,
        sum(amount) as won_amount

    from won_in_month
    group by agreement, revision, period

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
        case
            when presence.has_deals then coalesce(other_currency_deals.other_currency_deals, 0)
        end as other_currency_deals,
        other_currency_deals.other_currencies,
        months.month_end_utc as final_at,
        months.is_closed as is_final,
        presence.has_deals as has_data

    from months
    cross join presence
    left join won_deals
        on months.agreement = won_deals.agreement
        and months.revision = won_deals.revision
        and months.period = won_deals.period
    left join other_currency_deals
        on months.agreement = other_currency_deals.agreement
        and months.revision = other_currency_deals.revision
        and months.period = other_currency_deals.period

)

select * from final

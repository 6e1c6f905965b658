with

source as (

    select * from {{ source('agreement', 'revisions') }}

),

final as (

    select
        cast(agreement as {{ dbt.type_string() }}) as agreement,
        cast(revision as {{ dbt.type_string() }}) as revision,
        cast(timezone as {{ dbt.type_string() }}) as timezone,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(first_touch_hours as {{ funnelpact.type_double() }}) as first_touch_hours,
        cast(first_touch_attainment as {{ funnelpact.type_double() }}) as first_touch_attainment,
        cast(decision_days as {{ funnelpact.type_double() }}) as decision_days,
        cast(decision_attainment as {{ funnelpact.type_double() }}) as decision_attainment,
        cast(marketing_owner as {{ dbt.type_string() }}) as marketing_owner,
        cast(sales_owner as {{ dbt.type_string() }}) as sales_owner

    from source

)

select * from final

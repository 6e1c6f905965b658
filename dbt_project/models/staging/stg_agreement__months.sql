with

source as (

    select * from {{ source('agreement', 'months') }}

),

final as (

    select
        cast(agreement as {{ dbt.type_string() }}) as agreement,
        cast(revision as {{ dbt.type_string() }}) as revision,
        cast(period as {{ dbt.type_string() }}) as period,
        cast(month_start_utc as {{ dbt.type_timestamp() }}) as month_start_utc,
        cast(month_end_utc as {{ dbt.type_timestamp() }}) as month_end_utc,
        cast(days_in_month as {{ dbt.type_int() }}) as days_in_month

    from source

)

select * from final

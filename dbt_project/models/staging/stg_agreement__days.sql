with

source as (

    select * from {{ source('agreement', 'days') }}

),

final as (

    select
        cast(agreement as {{ dbt.type_string() }}) as agreement,
        cast(revision as {{ dbt.type_string() }}) as revision,
        cast(period as {{ dbt.type_string() }}) as period,
        cast(local_date as date) as local_date,
        cast(day_start_utc as {{ dbt.type_timestamp() }}) as day_start_utc

    from source

)

select * from final

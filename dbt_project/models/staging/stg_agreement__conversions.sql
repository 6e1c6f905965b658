with

source as (

    select * from {{ source('agreement', 'conversions') }}

),

final as (

    select
        cast(agreement as {{ dbt.type_string() }}) as agreement,
        cast(revision as {{ dbt.type_string() }}) as revision,
        cast(from_stage as {{ dbt.type_string() }}) as from_stage,
        cast(to_stage as {{ dbt.type_string() }}) as to_stage,
        cast(rate as {{ funnelpact.type_double() }}) as agreed_rate,
        cast(method as {{ dbt.type_string() }}) as method,
        cast(window_days as {{ dbt.type_int() }}) as window_days

    from source

)

select * from final

with

source as (

    select * from {{ source('agreement', 'lead_weights') }}

),

final as (

    select
        cast(agreement as {{ dbt.type_string() }}) as agreement,
        cast(revision as {{ dbt.type_string() }}) as revision,
        cast(dimension as {{ dbt.type_string() }}) as dimension,
        cast(value as {{ dbt.type_string() }}) as dimension_value,
        cast(weight as {{ dbt.type_numeric() }}) as weight

    from source

)

select * from final

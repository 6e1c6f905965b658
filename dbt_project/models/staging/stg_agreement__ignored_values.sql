with

source as (

    select * from {{ source('agreement', 'ignored_values') }}

),

final as (

    select
        cast(agreement as {{ dbt.type_string() }}) as agreement,
        cast(revision as {{ dbt.type_string() }}) as revision,
        cast(value as {{ dbt.type_string() }}) as stage_value

    from source

)

select * from final

with

source as (

    select * from {{ source('agreement', 'stages') }}

),

final as (

    select
        cast(agreement as {{ dbt.type_string() }}) as agreement,
        cast(revision as {{ dbt.type_string() }}) as revision,
        cast(stage_id as {{ dbt.type_string() }}) as stage_id,
        cast({{ adapter.quote('position') }} as {{ dbt.type_int() }}) as stage_position,
        cast(label as {{ dbt.type_string() }}) as stage_label,
        cast(owner as {{ dbt.type_string() }}) as stage_owner,
        cast(definition as {{ dbt.type_string() }}) as stage_definition

    from source

)

select * from final

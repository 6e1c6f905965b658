with

source as (

    select * from {{ source('agreement', 'targets') }}

),

final as (

    select
        cast(agreement as {{ dbt.type_string() }}) as agreement,
        cast(revision as {{ dbt.type_string() }}) as revision,
        cast(period as {{ dbt.type_string() }}) as period,
        cast(kpi as {{ dbt.type_string() }}) as kpi,
        cast(target as {{ funnelpact.type_double() }}) as target,
        cast(direction as {{ dbt.type_string() }}) as direction,
        cast(owner as {{ dbt.type_string() }}) as owner,
        cast(tolerance as {{ funnelpact.type_double() }}) as tolerance,
        cast(severity as {{ dbt.type_string() }}) as severity

    from source

)

select * from final

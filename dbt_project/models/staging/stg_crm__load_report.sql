with

source as (

    select * from {{ source('crm', 'load_report') }}

),

final as (

    select
        cast(table_name as {{ dbt.type_string() }}) as table_name,
        cast(present as {{ dbt.type_boolean() }}) as is_present,
        cast(rows_read as {{ dbt.type_bigint() }}) as rows_read,
        cast(rows_loaded as {{ dbt.type_bigint() }}) as rows_loaded,
        cast(duplicate_rows as {{ dbt.type_bigint() }}) as duplicate_rows,
        cast(quarantined_rows as {{ dbt.type_bigint() }}) as quarantined_rows

    from source

)

select * from final

-- Data quality of the load this run judges (raw.load_report), one row:
-- quarantine rate = quarantined rows / rows read. Null when nothing was read.

with

load_report as (

    select * from {{ ref('stg_crm__load_report') }}

),

totals as (

    select
        count(*) as tables_reported,
        coalesce(sum(rows_read), 0) as rows_read,
        coalesce(sum(rows_loaded), 0) as rows_loaded,
        coalesce(sum(duplicate_rows), 0) as duplicate_rows,
        coalesce(sum(quarantined_rows), 0) as quarantined_rows

    from load_report

),

final as (

    select
        rows_read,
        rows_loaded,
        duplicate_rows,
        quarantined_rows,
        {{ funnelpact.safe_divide('quarantined_rows', 'rows_read') }} as quarantine_rate,
        tables_reported > 0 as has_data

    from totals

)

select * from final

{#- Every row (or whole file, row_number 0) an importer set aside instead of loading: platform exports
    (raw_files) and the product master workbook (raw_product_master), with the reason to fix and the row as
    read. Good rows of the same file loaded; these wait for a corrected file. -#}
with exports as (
    select * from {{ ref('stg_files__quarantine') }}
),

product_master as (
    select * from {{ ref('stg_product_master__quarantine') }}
),

unioned as (
    select
        'export' as importer,
        shop_id,
        source_file,
        file_sha256,
        sheet,
        row_number,
        reason,
        raw_row,
        loaded_at
    from exports
    union all
    select
        'product_master' as importer,
        cast(null as varchar) as shop_id,
        source_file,
        file_sha256,
        sheet,
        row_number,
        reason,
        raw_row,
        loaded_at
    from product_master
),

final as (
    select
        importer || '|' || file_sha256 || '|' || sheet || '|' || cast(row_number as varchar) as quarantined_row_id,
        importer,
        shop_id,
        source_file,
        file_sha256,
        sheet,
        row_number,
        reason,
        raw_row,
        loaded_at
    from unioned
)

select * from final

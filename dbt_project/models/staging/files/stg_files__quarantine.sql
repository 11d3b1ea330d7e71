{#- Rows of platform exports the file importer could not accept (connectors/files), one per file row; a whole
    file it could not read is row_number 0. The shop comes from the file name (`<shop_id>__*.csv|xlsx`), as the
    importer takes it; null when the name has none (that is then the reason). -#}
with source as (
    select * from {{ raw_source('raw_files', 'quarantine') }}
),

renamed as (
    select
        {{ quarantine_columns() }},
        case when strpos(source_file, '__') > 1 then split_part(source_file, '__', 1) end as shop_id
    from source
)

select * from renamed

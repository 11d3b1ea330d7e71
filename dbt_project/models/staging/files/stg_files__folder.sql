{#- The export files in the folder at the latest import, as that import read them (raw_files.folder is replaced
    every import): which version of each file is current, and its rows loaded and set aside now. -#}
with source as (
    select * from {{ raw_source('raw_files', 'folder') }}
),

renamed as (
    select
        source_file,
        file_sha256,
        cast(coalesce(rows_loaded, 0) as integer) as rows_loaded,
        cast(coalesce(rows_set_aside, 0) as integer) as rows_set_aside
    from source
)

select * from renamed

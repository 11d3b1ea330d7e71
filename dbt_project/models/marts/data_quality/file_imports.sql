{#- Every version of every export file the importer read, for the Data status page's list of imported files:
    its shop, the mapping it was read with, what it holds, the rows it loaded and set aside at its first import
    (the set-aside rows and their reasons are in quarantined_rows, by source_file and file_sha256), and whether
    it is the file's current version: the one imported last under its name. A file the importer could not read
    at all (quarantined as row 0 at the latest import) is a version too, refused: no mapping, nothing loaded.
    raw_files.imports is history, so a file since deleted from the folder keeps its last version current
    although its rows have left the warehouse. -#}
with imports as (
    select * from {{ ref('stg_files__imports') }}
),

quarantine as (
    select * from {{ ref('stg_files__quarantine') }}
),

refused as (
    select
        quarantine.source_file,
        quarantine.file_sha256,
        quarantine.shop_id,
        min(quarantine.loaded_at) as imported_at
    from quarantine
    left join imports
        on quarantine.source_file = imports.source_file
        and quarantine.file_sha256 = imports.file_sha256
    where quarantine.row_number = 0
        and imports.source_file is null
    group by quarantine.source_file, quarantine.file_sha256, quarantine.shop_id
),

versions as (
    select
        source_file,
        file_sha256,
        shop_id,
        mapping,
        entity,
        rows_loaded,
        rows_set_aside,
        false as is_refused,
        imported_at
    from imports
    union all
    select
        source_file,
        file_sha256,
        shop_id,
        cast(null as varchar) as mapping,
        cast(null as varchar) as entity,
        0 as rows_loaded,
        1 as rows_set_aside,
        true as is_refused,
        imported_at
    from refused
),

ranked as (
    select
        versions.*,
        row_number() over (
            partition by source_file
            order by imported_at desc nulls last, file_sha256
        ) as recency
    from versions
),

final as (
    select
        source_file || '|' || file_sha256 as file_import_id,
        source_file,
        file_sha256,
        shop_id,
        mapping,
        entity,
        cast(rows_loaded as integer) as rows_loaded,
        cast(rows_set_aside as integer) as rows_set_aside,
        is_refused,
        cast(imported_at as timestamptz) as first_imported_at,
        recency = 1 as is_current
    from ranked
)

select * from final

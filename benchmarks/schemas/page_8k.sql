-- bench_floor.py --schema-sql: 8 KiB pages instead of SQLite's 4 KiB
PRAGMA journal_mode=DELETE;
PRAGMA page_size=8192;
VACUUM;

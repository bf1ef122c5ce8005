-- bench_floor.py --schema-sql: decisions without their index by counterparty and time (as if the primary
-- key began with the counterparty and served those reads)
DROP INDEX ix_decisions_counterparty;

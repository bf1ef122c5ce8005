-- bench_floor.py --schema-sql: decisions and counterparty states as WITHOUT ROWID tables (one B-tree per
-- row, ordered by the primary key, instead of a rowid table plus the primary key's index)
DROP TABLE decisions;
CREATE TABLE decisions (
    workspace VARCHAR(100) NOT NULL, id VARCHAR(40) NOT NULL, counterparty VARCHAR(200) NOT NULL,
    rule VARCHAR(100), at BIGINT NOT NULL, n INTEGER NOT NULL, action VARCHAR(30) NOT NULL,
    status VARCHAR(20) NOT NULL, amount VARCHAR(40), currency VARCHAR(3), event VARCHAR(200) NOT NULL,
    evidence TEXT NOT NULL, step INTEGER, version VARCHAR(200), explanation TEXT NOT NULL, params TEXT NOT NULL,
    PRIMARY KEY (workspace, id)) WITHOUT ROWID;
CREATE INDEX ix_decisions_counterparty ON decisions (workspace, counterparty, at);
CREATE INDEX ix_decisions_open ON decisions (workspace, status) WHERE status IN ('proposed', 'scheduled');
DROP TABLE counterparties;
CREATE TABLE counterparties (
    workspace VARCHAR(100) NOT NULL, "key" VARCHAR(200) NOT NULL, kind VARCHAR(20) NOT NULL, name TEXT NOT NULL,
    tier VARCHAR(100) NOT NULL, status VARCHAR(20) NOT NULL, next_wake BIGINT, state BLOB NOT NULL,
    PRIMARY KEY (workspace, "key")) WITHOUT ROWID;
CREATE INDEX ix_counterparties_wake ON counterparties (workspace, next_wake);

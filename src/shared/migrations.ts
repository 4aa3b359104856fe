// Versioned schema for a Durable Object's SQLite storage. Each object class
// lists its steps in order (src/user/schema.ts, src/region/schema.ts); the
// storage records how many it has applied in one row, and the object applies
// the rest in its constructor, before any request can reach it (SQL is
// synchronous, so nothing needs to wait).
//
// Each step and the bump of the version to it commit in one transaction: a
// crash or a throw midway leaves the storage at the version before the step,
// with nothing of the step applied, and the next start tries it again.
import type { MeteredSql } from "./sql";

/** SQL text (any number of statements), or code run against the storage. */
export type MigrationStep = string | ((sql: MeteredSql) => void);

export interface Schema {
  /** The object class, for the errors. */
  name: string;
  /** Step n (1-based) takes the storage from version n - 1 to n. Append only: a deployed step never changes. */
  steps: readonly MigrationStep[];
  /**
   * The tables that the code from before versioned migrations created, all in
   * its constructor. Storage holding them but no version row was built by that
   * code, whose tables are exactly step 1: it is at version 1.
   */
  unversionedTables: readonly string[];
}

const VERSION_TABLE = "schema_version";

/** Brings the storage to the schema's latest version. Up to date, it costs one read: the version row. */
export function migrate(storage: DurableObjectStorage, sql: MeteredSql, schema: Schema) {
  const latest = schema.steps.length;
  let version = storedVersion(sql) ?? startVersioning(storage, sql, schema);
  if (version > latest) {
    // The code was rolled back past a step this storage has applied: its
    // tables may no longer be what this code reads, and writing them could corrupt them.
    throw new Error(
      `${schema.name} storage is at schema version ${version}, newer than this code's latest (${latest}); ` +
        `deploy code that knows version ${version} or later`,
    );
  }
  for (; version < latest; version++) {
    const step = schema.steps[version]!;
    storage.transactionSync(() => {
      if (typeof step === "string") sql.run(step);
      else step(sql);
      sql.run(`UPDATE ${VERSION_TABLE} SET version = ?`, version + 1);
    });
  }
}

/** The applied version, or null when the storage has no version table yet. */
function storedVersion(sql: MeteredSql): number | null {
  try {
    return sql.first<{ version: number }>(`SELECT version FROM ${VERSION_TABLE}`)!.version;
  } catch (error) {
    // Asking the catalog only here keeps it off every other start-up.
    if (tableCount(sql, [VERSION_TABLE]) === 1) throw error;
    return null;
  }
}

/**
 * Creates the version row for storage that has none: version 0 when it is
 * empty, 1 when the code before versioning built it. That code created all its
 * tables in one synchronous constructor, which the runtime commits as one
 * write, so its storage holds all of them or none. Anything in between is
 * storage this code does not know, and is refused rather than guessed at.
 */
function startVersioning(storage: DurableObjectStorage, sql: MeteredSql, schema: Schema) {
  const present = tableCount(sql, schema.unversionedTables);
  if (present !== 0 && present !== schema.unversionedTables.length) {
    throw new Error(
      `${schema.name} storage has no schema version and only some of the tables ${schema.unversionedTables.join(", ")}`,
    );
  }
  const version = present === 0 ? 0 : 1;
  storage.transactionSync(() => {
    sql.run(
      `CREATE TABLE ${VERSION_TABLE} (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), version INTEGER NOT NULL)`,
    );
    sql.run(`INSERT INTO ${VERSION_TABLE} (singleton, version) VALUES (1, ?)`, version);
  });
  return version;
}

function tableCount(sql: MeteredSql, names: readonly string[]) {
  // SQLite accepts an empty IN () list: a schema with no unversioned tables counts none.
  const placeholders = names.map(() => "?").join(",");
  return sql.first<{ n: number }>(
    `SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN (${placeholders})`,
    ...names,
  )!.n;
}

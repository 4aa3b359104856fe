// SQLite storage with its cost counted. Every statement's rows read and written
// (what the platform bills) are added up per object, so the cost of each
// operation can be measured (GET /admin/v1/…/storage, `npm run bench`).
type Row = Record<string, SqlStorageValue>;

/** The most parameters one statement may bind. */
const MAX_BINDINGS = 100;

export class MeteredSql {
  rowsRead = 0;
  rowsWritten = 0;

  constructor(private readonly sql: SqlStorage) {}

  /** Runs a statement and returns all its rows (also those of a RETURNING clause). */
  all<T extends Row = Row>(query: string, ...bindings: SqlStorageValue[]): T[] {
    const cursor = this.sql.exec<T>(query, ...bindings);
    const rows = cursor.toArray();
    this.rowsRead += cursor.rowsRead;
    this.rowsWritten += cursor.rowsWritten;
    return rows;
  }

  first<T extends Row = Row>(query: string, ...bindings: SqlStorageValue[]): T | undefined {
    return this.all<T>(query, ...bindings)[0];
  }

  /** Runs a statement for its effect; answers how many rows it returned (a RETURNING clause counts them). */
  run(query: string, ...bindings: SqlStorageValue[]): number {
    return this.all(query, ...bindings).length;
  }

  /**
   * Runs `query` (whose `IN (?)` stands for a list) for a list of values, a group per statement, as
   * many as one statement may bind; answers the rows of all of them.
   */
  allIn<T extends Row = Row>(query: string, values: readonly SqlStorageValue[]): T[] {
    const rows: T[] = [];
    for (let at = 0; at < values.length; at += MAX_BINDINGS) {
      const group = values.slice(at, at + MAX_BINDINGS);
      rows.push(...this.all<T>(query.replace("IN (?)", `IN (${group.map(() => "?").join(",")})`), ...group));
    }
    return rows;
  }

  get cost() {
    return { rowsRead: this.rowsRead, rowsWritten: this.rowsWritten };
  }
}

/**
 * A WHERE clause built from optional filters, with its parameters in order: a filter whose value
 * is `undefined` adds nothing. Shared by the SQLite backend's event, projection and delivery
 * queries.
 */
export function filters() {
  const where: string[] = [];
  const params: (string | number)[] = [];
  return {
    where,
    params,
    add(clause: string, v: string | number | undefined) {
      if (v === undefined) return;
      where.push(clause);
      params.push(v);
    },
  };
}

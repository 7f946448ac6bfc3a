/** Operators: status per platform and since when, refreshed every few seconds. */
import { api, type Operator } from '../api.js';
import { t, when } from '../i18n.js';
import { Status, Table, usePoll } from './common.js';

export function Operators() {
  const { data, error } = usePoll(() => api<{ operators: Operator[] }>('/v1/operators?limit=1000'), [], 3000);
  return (
    <section aria-label={t('operators')}>
      <Status error={error} />
      <Table head={[t('operator'), t('platform'), t('connector'), t('status'), t('since')]} label={t('operators')}>
        {(data?.operators ?? []).map((o) => (
          <tr>
            <td>{o.name ?? o.operatorId}</td>
            <td>{o.platform}</td>
            <td>{o.connectorId}</td>
            <td>
              {o.status}
              {o.nativeStatus && o.nativeStatus !== o.status ? ` (${o.nativeStatus})` : ''}
            </td>
            <td>{when(o.since)}</td>
          </tr>
        ))}
      </Table>
      {data?.operators.length === 0 && <p>{t('nothing')}</p>}
    </section>
  );
}

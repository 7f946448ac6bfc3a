/** The quarantine's open entries with their reason and raw input: retry after a fix, or discard (both recorded by the server). */
import { api, post, type QuarantineEntry } from '../api.js';
import { t, when } from '../i18n.js';
import { Status, Table, useAction, usePoll } from './common.js';

export function Quarantine() {
  const { data, error, reload } = usePoll(() => api<{ items: QuarantineEntry[] }>('/v1/quarantine?status=open&limit=200'), [], 10_000);
  const action = useAction();
  const act = (id: string, what: 'retry' | 'discard') =>
    action.run(async () => {
      await post(`/v1/quarantine/${id}/${what}`);
      reload();
    });
  return (
    <section aria-label={t('quarantine')}>
      <Status error={error || action.error} message={action.message} />
      <Table head={[t('time'), t('connector'), t('reason'), t('raw'), '']} label={t('quarantine')}>
        {(data?.items ?? []).map((q) => (
          <tr data-quarantine={q.id}>
            <td>{when(q.receivedAt)}</td>
            <td>{q.connectorId}</td>
            <td>
              <code>{q.code}</code> {q.reason}
            </td>
            <td>
              <details>
                <summary>{q.contentType ?? t('raw')}</summary>
                <pre>{q.raw}</pre>
              </details>
            </td>
            <td>
              <button type="button" onClick={() => void act(q.id, 'retry')}>
                {t('retry')}
              </button>{' '}
              <button type="button" onClick={() => void act(q.id, 'discard')}>
                {t('discard')}
              </button>
            </td>
          </tr>
        ))}
      </Table>
      {data?.items.length === 0 && <p>{t('nothing')}</p>}
    </section>
  );
}

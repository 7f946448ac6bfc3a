/** Connectors: state, lag, last event, errors — and their recent gap, auth-failure and reconnect events. */
import { api, type CloudEvent, type Connector } from '../api.js';
import { t, when } from '../i18n.js';
import { Status, Table, usePoll } from './common.js';

export function Connectors() {
  const list = usePoll(() => api<{ connectors: Connector[] }>('/v1/connectors'), [], 5000);
  const events = usePoll(() => api<{ events: CloudEvent[] }>('/v1/events?type=connector.*&order=desc&limit=20'), [], 5000);
  return (
    <section aria-label={t('connectors')}>
      <Status error={list.error || events.error} />
      <Table head={[t('connector'), t('platform'), t('state'), t('lag'), t('lastEvent'), t('events'), t('quarantine'), t('errors'), t('lastError')]} label={t('connectors')}>
        {(list.data?.connectors ?? []).map((c) => (
          <tr data-connector={c.id}>
            <td>{c.id}</td>
            <td>{c.platform}</td>
            <td>
              {c.state} ({c.transport})
            </td>
            <td>{c.secondsSinceLastEvent === null ? '—' : `${c.secondsSinceLastEvent} ${t('seconds')}`}</td>
            <td>{when(c.lastEvent?.receivedAt)}</td>
            <td>{c.events}</td>
            <td>{c.quarantined}</td>
            <td>{c.errors ?? 0}</td>
            <td class="error">{c.lastError ?? ''}</td>
          </tr>
        ))}
      </Table>
      <h2>{t('connectorEvents')}</h2>
      <Table head={[t('time'), t('type'), t('connector'), t('reason')]} label={t('connectorEvents')}>
        {(events.data?.events ?? []).map((e) => (
          <tr>
            <td>{when(e.time)}</td>
            <td>{e.type}</td>
            <td>{String(e.data.connectorId ?? '')}</td>
            <td>{String(e.data.reason ?? '')}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}

/** Webhook subscriptions with their health; a subscription's failed and pending deliveries, retried one by one; enable, disable, replay a range. */
import { useState } from 'preact/hooks';
import { api, patch, post, query, type Delivery, type Subscription } from '../api.js';
import { t, when } from '../i18n.js';
import { Status, Table, useAction, usePoll } from './common.js';

function SubscriptionDeliveries(props: { sub: Subscription; onChange: () => void }) {
  const { sub } = props;
  const [status, setStatus] = useState('failed');
  const { data, error, reload } = usePoll(() => api<{ deliveries: Delivery[] }>(`/v1/subscriptions/${encodeURIComponent(sub.id)}/deliveries${query({ status, limit: 100, attempts: 0 })}`), [sub.id, status], 5000);
  const action = useAction();
  const [range, setRange] = useState({ from: '', to: '', onlyFailed: true });
  return (
    <div class="panel" data-subscription-panel={sub.id}>
      <h2>{sub.id}</h2>
      <Status error={error || action.error} message={action.message} />
      <label>
        {t('status')}
        <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <option value="failed">{t('failed')}</option>
          <option value="pending">{t('pending')}</option>
          <option value="delivered">{t('delivered')}</option>
        </select>
      </label>
      <Table head={[t('sequence'), t('type'), t('subject'), t('attempts'), t('lastStatus'), t('lastError'), '']} label={t('deliveries')}>
        {(data?.deliveries ?? []).map((d) => (
          <tr data-delivery={d.id}>
            <td class="mono">{d.sequence}</td>
            <td>{d.type ?? '—'}</td>
            <td class="mono">{d.subject}</td>
            <td>
              {d.attempts} (#{d.round})
            </td>
            <td>{d.lastStatus ?? '—'}</td>
            <td class="error">{d.lastError ?? ''}</td>
            <td>
              <button
                type="button"
                onClick={() =>
                  void action.run(async () => {
                    await post(`/v1/subscriptions/${encodeURIComponent(sub.id)}/deliveries/${d.id}/retry`);
                    reload();
                    props.onChange();
                  })
                }
              >
                {t('retry')}
              </button>
            </td>
          </tr>
        ))}
      </Table>
      <form
        class="filters"
        aria-label={t('replay')}
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            await post(`/v1/subscriptions/${encodeURIComponent(sub.id)}/replay`, {
              ...(range.from ? { fromTime: new Date(range.from).toISOString() } : {}),
              ...(range.to ? { toTime: new Date(range.to).toISOString() } : {}),
              onlyFailed: range.onlyFailed,
            });
            reload();
            props.onChange();
          });
        }}
      >
        <strong>{t('replay')}</strong>
        <label>
          {t('fromTime')}
          <input type="datetime-local" value={range.from} onInput={(e) => setRange({ ...range, from: e.currentTarget.value })} />
        </label>
        <label>
          {t('toTime')}
          <input type="datetime-local" value={range.to} onInput={(e) => setRange({ ...range, to: e.currentTarget.value })} />
        </label>
        <label>
          <span>
            <input type="checkbox" checked={range.onlyFailed} onChange={(e) => setRange({ ...range, onlyFailed: e.currentTarget.checked })} /> {t('onlyFailed')}
          </span>
        </label>
        <button type="submit">{t('replay')}</button>
      </form>
    </div>
  );
}

export function Deliveries() {
  const { data, error, reload } = usePoll(() => api<{ subscriptions: Subscription[] }>('/v1/subscriptions'), [], 5000);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const action = useAction();
  const sub = data?.subscriptions.find((s) => s.id === chosen);
  return (
    <section aria-label={t('deliveries')}>
      <Status error={error || action.error} message={action.message} />
      <Table head={['id', 'URL', t('status'), t('failingSince'), t('pending'), t('delivered'), t('failed'), '']} label={t('deliveries')}>
        {(data?.subscriptions ?? []).map((s) => (
          <tr class={s.id === chosen ? 'selected' : ''} data-subscription={s.id}>
            <td>
              <a
                href="#deliveries"
                onClick={(e) => {
                  e.preventDefault();
                  setChosen(s.id);
                }}
              >
                {s.id}
              </a>
            </td>
            <td class="mono">{s.url}</td>
            <td>{s.enabled ? 'enabled' : `${t('disabledReason')}: ${s.disabledReason ?? ''}`}</td>
            <td>{when(s.failingSince)}</td>
            <td>{s.deliveries.pending}</td>
            <td>{s.deliveries.delivered}</td>
            <td>{s.deliveries.failed}</td>
            <td>
              <button type="button" onClick={() => void action.run(async () => (await patch(`/v1/subscriptions/${encodeURIComponent(s.id)}`, { enabled: !s.enabled }), reload()))}>
                {s.enabled ? t('disable') : t('enable')}
              </button>
            </td>
          </tr>
        ))}
      </Table>
      {data?.subscriptions.length === 0 && <p>{t('nothing')}</p>}
      {sub && <SubscriptionDeliveries sub={sub} onChange={reload} />}
    </section>
  );
}

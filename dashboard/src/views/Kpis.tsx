/** KPIs of the last 24 hours from `GET /v1/stats` (computed by the store): tiles, an hourly chart (uPlot), and a table by group. */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, query, type StatsRow } from '../api.js';
import { TIME_ZONE, pct, secs, t } from '../i18n.js';
import { Status, Table, usePoll } from './common.js';

interface Stats {
  rows: StatsRow[];
  serviceLevelSec: number;
  shortAbandonSec: number;
}

function Chart(props: { rows: StatsRow[]; from: string; bucket: 'hour' | 'day' }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const box = el.current;
    if (!box) return;
    // Every hour of the window, with 0 where nothing happened; days as they come.
    const byHour = new Map(props.rows.map((r) => [Date.parse(r.period ?? '') / 1000, r]));
    const start = Math.floor(Date.parse(props.from) / 3_600_000) * 3600;
    const x = props.bucket === 'hour' ? Array.from({ length: 25 }, (_, i) => start + i * 3600) : [...byHour.keys()].sort((a, b) => a - b);
    const series = (k: string, group: 'calls' | 'chats' = 'calls') => x.map((h) => byHour.get(h)?.[group][k] ?? 0);
    const plot = new uPlot(
      {
        width: box.clientWidth || 600,
        height: 240,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), TIME_ZONE),
        series: [
          { label: t('time') },
          { label: t('inbound'), stroke: '#0b57d0', width: 2 },
          { label: t('answered'), stroke: '#146c2e', width: 2 },
          { label: t('missed'), stroke: '#b3261e', width: 2 },
          { label: t('chatsOpened'), stroke: '#8a5300', width: 2, dash: [6, 4] },
        ],
        axes: [{}, { label: '' }],
      },
      [x, series('inbound'), series('answered'), series('missed'), series('opened', 'chats')],
      box,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: box.clientWidth, height: 240 }));
    resize.observe(box);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.rows, props.from, props.bucket]);
  return <div class="chart" ref={el} role="img" aria-label={`${t('inbound')}, ${t('answered')}, ${t('missed')}, ${t('chatsOpened')}`} />;
}

const PERIODS = { '24h': { days: 1, bucket: 'hour', label: 'period' }, '7d': { days: 7, bucket: 'day', label: 'period7' }, '30d': { days: 30, bucket: 'day', label: 'period30' } } as const;
type Period = keyof typeof PERIODS;

export function Kpis() {
  const [by, setBy] = useState('');
  const [period, setPeriod] = useState<Period>('24h');
  const [to] = useState(() => new Date());
  const { days, bucket, label } = PERIODS[period];
  const from = new Date(to.getTime() - days * 86_400_000).toISOString();
  const window = { from, to: to.toISOString(), tz: TIME_ZONE };
  const hourly = usePoll(() => api<Stats>(`/v1/stats${query({ ...window, bucket })}`), [period], 30_000);
  const totals = usePoll(() => api<Stats>(`/v1/stats${query({ ...window, by })}`), [by, period], 30_000);
  const sum = by ? undefined : totals.data?.rows[0];
  const tile = (label: string, value: string, name: string) => (
    <div class="tile" data-kpi={name}>
      <span>{label}</span>
      <b>{value}</b>
    </div>
  );
  return (
    <section aria-label={t('kpis')}>
      <h2>{t(label)}</h2>
      <Status error={hourly.error || totals.error} />
      {sum && (
        <div class="tiles">
          {tile(t('inbound'), String(sum.calls.inbound ?? 0), 'inbound')}
          {tile(t('answered'), String(sum.calls.answered ?? 0), 'answered')}
          {tile(t('missed'), String(sum.calls.missed ?? 0), 'missed')}
          {tile(t('abandoned'), String(sum.calls.abandoned ?? 0), 'abandoned')}
          {tile(`${t('shortAbandoned')} (< ${totals.data?.shortAbandonSec ?? 5} ${t('seconds')})`, String(sum.calls.shortAbandoned ?? 0), 'shortAbandoned')}
          {tile(t('outbound'), String(sum.calls.outbound ?? 0), 'outbound')}
          {tile(t('answerRate'), pct(sum.calls.answerRate), 'answerRate')}
          {tile(`${t('serviceLevel')} (${totals.data?.serviceLevelSec ?? 20} ${t('seconds')})`, pct(sum.calls.serviceLevel), 'serviceLevel')}
          {tile(t('asa'), secs(sum.calls.averageSpeedOfAnswerSec), 'asa')}
          {tile(t('avgTalk'), secs(sum.calls.averageTalkSec), 'avgTalk')}
          {tile(t('chatsOpened'), String(sum.chats.opened ?? 0), 'chatsOpened')}
          {tile(t('firstResponse'), secs(sum.chats.averageFirstResponseSec), 'firstResponse')}
          {tile(t('toAssignment'), secs(sum.chats.averageTimeToAssignmentSec), 'toAssignment')}
        </div>
      )}
      {hourly.data && hourly.data.rows.length > 0 && <Chart rows={hourly.data.rows} from={from} bucket={bucket} />}
      <form class="filters" aria-label={t('groupBy')}>
        <label>
          {t('periodOf')}
          <select value={period} onChange={(e) => setPeriod(e.currentTarget.value as Period)}>
            {(Object.keys(PERIODS) as Period[]).map((p) => (
              <option value={p}>{t(PERIODS[p].label)}</option>
            ))}
          </select>
        </label>
        <label>
          {t('groupBy')}
          <select value={by} onChange={(e) => setBy(e.currentTarget.value)}>
            <option value="">{t('total')}</option>
            <option value="platform">{t('platform')}</option>
            <option value="connector">{t('connector')}</option>
            <option value="operator">{t('operator')}</option>
          </select>
        </label>
      </form>
      <Table head={[t('groupBy'), t('inbound'), t('answered'), t('missed'), t('abandoned'), t('answerRate'), t('serviceLevel'), t('asa'), t('avgTalk'), t('chatsOpened'), t('firstResponse'), t('toAssignment')]} label={t('kpis')}>
        {(totals.data?.rows ?? []).map((r) => (
          <tr data-key={r.key ?? ''}>
            <td>{r.key ?? t('total')}</td>
            <td>{r.calls.inbound}</td>
            <td>{r.calls.answered}</td>
            <td>{r.calls.missed}</td>
            <td>{r.calls.abandoned}</td>
            <td>{pct(r.calls.answerRate)}</td>
            <td>{pct(r.calls.serviceLevel)}</td>
            <td>{secs(r.calls.averageSpeedOfAnswerSec)}</td>
            <td>{secs(r.calls.averageTalkSec)}</td>
            <td>{r.chats.opened}</td>
            <td>{secs(r.chats.averageFirstResponseSec)}</td>
            <td>{secs(r.chats.averageTimeToAssignmentSec)}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}

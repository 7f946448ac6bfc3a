/** Calls: direction, parties with their names, outcome and reason, ring and talk time, rating, recording, the conversation. */
import { useState } from 'preact/hooks';
import { api, query, type Call } from '../api.js';
import { party, t, when } from '../i18n.js';
import { Choice, FilterForm, PlatformSelect, Status, Table, usePoll } from './common.js';

const OUTCOMES = ['answered', 'missed', 'rejected', 'failed'];

/** A `datetime-local` value as an ISO time in the browser's zone. */
const isoOf = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function Calls() {
  const [draft, setDraft] = useState({ platform: '', outcome: '', from: '', to: '' });
  const [f, setF] = useState(draft);
  const { data, error } = usePoll(() => api<{ calls: Call[] }>(`/v1/calls${query({ platform: f.platform, outcome: f.outcome, from: isoOf(f.from), to: isoOf(f.to), limit: 200 })}`), [f], 5000);
  const calls = [...(data?.calls ?? [])].sort((a, b) => (b.ringingAt ?? b.lastEventAt).localeCompare(a.ringingAt ?? a.lastEventAt));
  return (
    <section aria-label={t('calls')}>
      <FilterForm onApply={() => setF({ ...draft })}>
        <PlatformSelect value={draft.platform} onChange={(platform) => setDraft({ ...draft, platform })} />
        <Choice label={t('outcome')} value={draft.outcome} options={OUTCOMES} onChange={(outcome) => setDraft({ ...draft, outcome })} />
        <label>
          {t('fromTime')}
          <input type="datetime-local" value={draft.from} onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })} />
        </label>
        <label>
          {t('toTime')}
          <input type="datetime-local" value={draft.to} onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })} />
        </label>
      </FilterForm>
      <Status error={error} />
      <Table head={[t('time'), t('direction'), t('from'), t('to'), t('platform'), t('outcome'), t('reason'), t('ring'), t('talk'), t('rating'), t('recording'), t('conversation')]} label={t('calls')}>
        {calls.map((c) => (
          <tr data-call={c.id}>
            <td>{when(c.ringingAt ?? c.lastEventAt)}</td>
            <td>{c.direction ?? '—'}</td>
            <td>{party(c.from)}</td>
            <td>{party(c.to ?? c.operator)}</td>
            <td>{c.platform}</td>
            <td data-outcome>{c.outcome ?? c.state}</td>
            <td>{c.reason ?? '—'}</td>
            <td>{c.durationSec !== undefined ? Math.max(0, c.durationSec - (c.talkSec ?? 0)) : '—'}</td>
            <td>{c.talkSec ?? '—'}</td>
            <td>{c.rating !== undefined ? `${c.rating}${c.ratingScale ? `/${c.ratingScale}` : ''}` : '—'}</td>
            <td>{c.recordingUrl ? <a href={c.recordingUrl} target="_blank" rel="noreferrer noopener">{t('recording')}</a> : '—'}</td>
            <td>{c.conversation ? <a href={`#conversations/${encodeURIComponent(c.conversation)}`}>{t('open')}</a> : '—'}</td>
          </tr>
        ))}
      </Table>
      {calls.length === 0 && <p>{t('nothing')}</p>}
    </section>
  );
}

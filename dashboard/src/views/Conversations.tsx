/** Conversations and, for the one chosen, its live timeline: messages, state changes and call records in the connector's policy and language. */
import { useState } from 'preact/hooks';
import { api, query, type Conversation, type TimelineEntry } from '../api.js';
import { party, secs, t, when } from '../i18n.js';
import { Choice, FilterForm, PlatformSelect, Status, Table, usePoll } from './common.js';

const STATES = ['open', 'queued', 'assigned', 'closed'];

function Timeline(props: { id: string }) {
  const { data, error } = usePoll(() => api<{ entries: TimelineEntry[]; callRecords: string; language: string }>(`/v1/conversations/${encodeURIComponent(props.id)}/timeline`), [props.id], 3000);
  return (
    <div class="panel" aria-label={t('timeline')}>
      <h2>
        {t('timeline')}: <span class="mono">{props.id}</span>
      </h2>
      <Status error={error} />
      <ol class="timeline" data-timeline={props.id}>
        {(data?.entries ?? []).map((e) => (
          <li class={`${e.kind} ${e.direction ?? ''}`} data-kind={e.kind}>
            <small>{when(e.time)}</small> {e.kind === 'message' ? (e.text ?? `[${e.type}]`) : e.kind === 'call-record' ? e.text : e.type}
            {e.call && (
              <>
                {' '}
                <a href={`#calls`}>{e.call}</a>
              </>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}

export function Conversations(props: { selected?: string | undefined }) {
  const [draft, setDraft] = useState({ platform: '', state: '' });
  const [f, setF] = useState(draft);
  const { data, error } = usePoll(() => api<{ conversations: Conversation[] }>(`/v1/conversations${query({ platform: f.platform, state: f.state, limit: 200 })}`), [f], 5000);
  const rows = [...(data?.conversations ?? [])].sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
  return (
    <section aria-label={t('conversations')}>
      <FilterForm onApply={() => setF({ ...draft })}>
        <PlatformSelect value={draft.platform} onChange={(platform) => setDraft({ ...draft, platform })} />
        <Choice label={t('state')} value={draft.state} options={STATES} onChange={(state) => setDraft({ ...draft, state })} />
      </FilterForm>
      <Status error={error} />
      <div class="split">
        <Table head={[t('conversation'), t('state'), t('client'), t('operator'), t('messages'), t('firstResponse'), t('lastActivity')]} label={t('conversations')}>
          {rows.map((c) => (
            <tr class={props.selected === c.id ? 'selected' : ''}>
              <td>
                <a href={`#conversations/${encodeURIComponent(c.id)}`}>{c.id}</a>
              </td>
              <td>{c.state}</td>
              <td>{party(c.client)}</td>
              <td>{party(c.operator)}</td>
              <td>
                {c.messages} ({c.inbound}↓ {c.outbound}↑)
              </td>
              <td>{secs(c.firstResponseSec)}</td>
              <td>{when(c.lastActivityAt)}</td>
            </tr>
          ))}
        </Table>
        {props.selected ? <Timeline id={props.selected} /> : <p class="panel">{t('choose')}</p>}
      </div>
    </section>
  );
}

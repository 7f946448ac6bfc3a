/**
 * The live feed: the latest events on open, then every new one from `/v1/stream` (the session
 * cookie authorizes it; it resumes after the last one shown, so nothing is missed or repeated),
 * filtered by platform, connector, type pattern and subject; pause keeps what arrives meanwhile.
 * A row opens the CloudEvent and its native payload.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, type CloudEvent } from '../api.js';
import { t, when } from '../i18n.js';
import { ConnectorSelect, FilterForm, PlatformSelect, Status, Table } from './common.js';

const SHOWN = 200;
const HELD = 1000;

interface Filters {
  platform: string;
  connector: string;
  type: string;
  subject: string;
}

export function Live() {
  const [draft, setDraft] = useState<Filters>({ platform: '', connector: '', type: '', subject: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [rows, setRows] = useState<CloudEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const held = useRef<CloudEvent[]>([]);
  const [heldCount, setHeldCount] = useState(0);
  const pausedRef = useRef(false);
  const [open, setOpen] = useState<CloudEvent | undefined>(undefined);
  const [error, setError] = useState('');

  useEffect(() => {
    let source: EventSource | undefined;
    let stopped = false;
    held.current = [];
    setHeldCount(0);
    const q = { platform: filters.platform, connector: filters.connector, type: filters.type, subject: filters.subject };
    void (async () => {
      try {
        // The store's last sequence first: the stream starts after it, the history ends at it.
        const latest = await api<{ events: CloudEvent[] }>('/v1/events?order=desc&limit=1');
        const after = latest.events[0]?.sequence ?? '0';
        const history = await api<{ events: CloudEvent[] }>(`/v1/events${query({ ...q, order: 'desc', limit: 50, before: String(Number(after) + 1) })}`);
        const types = await api<{ schemas: { type: string }[] }>('/v1/schemas');
        if (stopped) return;
        setRows(history.events);
        setError('');
        const s = new EventSource(`/v1/stream${query({ ...q, after })}`);
        source = s;
        const onEvent = (m: MessageEvent<string>) => {
          const e = JSON.parse(m.data) as CloudEvent;
          if (pausedRef.current) {
            held.current = [e, ...held.current].slice(0, HELD);
            setHeldCount(held.current.length);
          } else setRows((r) => [e, ...r].slice(0, SHOWN));
        };
        for (const { type } of types.schemas) s.addEventListener(type, onEvent as EventListener);
        s.onerror = () => setError(s.readyState === EventSource.CLOSED ? 'stream closed' : '');
      } catch (e) {
        if (!stopped) setError(e instanceof Error ? e.message : String(e));
      }
    })();
    return () => {
      stopped = true;
      source?.close();
    };
  }, [filters]);

  const toggle = () => {
    const next = !paused;
    pausedRef.current = next;
    setPaused(next);
    if (!next) {
      setRows((r) => [...held.current, ...r].slice(0, SHOWN));
      held.current = [];
      setHeldCount(0);
    }
  };

  return (
    <section aria-label={t('live')}>
      <FilterForm
        onApply={() => setFilters({ ...draft })}
        after={
          <>
            <button type="button" onClick={toggle} aria-pressed={paused}>
              {paused ? t('resume') : t('pause')}
            </button>
            {paused && heldCount > 0 && (
              <span>
                {heldCount} {t('waiting')}
              </span>
            )}
          </>
        }
      >
        <PlatformSelect value={draft.platform} onChange={(platform) => setDraft({ ...draft, platform })} />
        <ConnectorSelect value={draft.connector} onChange={(connector) => setDraft({ ...draft, connector })} />
        <label>
          {t('typePattern')}
          <input name="type" value={draft.type} onInput={(e) => setDraft({ ...draft, type: e.currentTarget.value })} />
        </label>
        <label>
          {t('subject')}
          <input name="subject" value={draft.subject} onInput={(e) => setDraft({ ...draft, subject: e.currentTarget.value })} />
        </label>
      </FilterForm>
      <Status error={error} />
      <div class={open ? 'split' : ''}>
        <Table head={[t('sequence'), t('time'), t('type'), t('subject'), t('platform')]} label={t('live')}>
          {rows.map((e) => (
            <tr
              class={`clickable${open?.id === e.id ? ' selected' : ''}`}
              tabIndex={0}
              data-type={e.type}
              onClick={() => setOpen(e)}
              onKeyDown={(k) => {
                if (k.key === 'Enter' || k.key === ' ') {
                  k.preventDefault();
                  setOpen(e);
                }
              }}
            >
              <td class="mono">{e.sequence}</td>
              <td>{when(e.time)}</td>
              <td>{e.type}</td>
              <td class="mono">{e.subject}</td>
              <td>{e.platform}</td>
            </tr>
          ))}
        </Table>
        {open && (
          <div class="panel" role="dialog" aria-label={t('event')}>
            <button type="button" onClick={() => setOpen(undefined)}>
              {t('close')}
            </button>
            <h2>{open.type}</h2>
            <h3>{t('event')}</h3>
            <pre>{JSON.stringify({ ...open, data: { ...open.data, native: undefined } }, null, 2)}</pre>
            <h3>{t('native')}</h3>
            <pre data-native>{JSON.stringify(open.data.native, null, 2)}</pre>
          </div>
        )}
      </div>
    </section>
  );
}

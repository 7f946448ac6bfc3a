/** Pieces every view uses: polling, a status line, a table wrapper, the platform and connector pickers. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, PLATFORMS, type Connector } from '../api.js';
import { t } from '../i18n.js';

/** Loads `load()` now and every `everyMs` (0: once) while the view is shown; `reload` asks again. */
export function usePoll<T>(load: () => Promise<T>, deps: readonly unknown[], everyMs = 0): { data: T | undefined; error: string; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stop = false;
    const run = () =>
      load().then(
        (d) => {
          if (!stop) {
            setData(d);
            setError('');
          }
        },
        (e: unknown) => {
          if (!stop) setError(e instanceof Error ? e.message : String(e));
        },
      );
    void run();
    const timer = everyMs > 0 ? setInterval(() => void run(), everyMs) : undefined;
    return () => {
      stop = true;
      if (timer) clearInterval(timer);
    };
    // The caller's deps are the effect's deps, spread: they name what the load reads.
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}

export function Status(props: { error?: string; message?: string }) {
  return (
    <p role="status" aria-live="polite" class={props.error ? 'error' : 'ok'}>
      {props.error || props.message || ''}
    </p>
  );
}

export function Table(props: { head: readonly string[]; children: ComponentChildren; label: string }) {
  return (
    <div class="scroll" role="region" aria-label={props.label} tabIndex={0}>
      <table>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** A labelled choice among `options`, with "any" first. */
export function Choice(props: { label: string; value: string; options: readonly string[]; onChange: (v: string) => void }) {
  return (
    <label>
      {props.label}
      <select value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value="">{t('any')}</option>
        {props.options.map((o) => (
          <option value={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}

export function PlatformSelect(props: { value: string; onChange: (v: string) => void }) {
  return <Choice label={t('platform')} value={props.value} options={PLATFORMS} onChange={props.onChange} />;
}

/** The filters of a view: its fields, then Apply (and whatever `after` adds). */
export function FilterForm(props: { onApply: () => void; children: ComponentChildren; after?: ComponentChildren }) {
  return (
    <form
      class="filters"
      aria-label={t('filters')}
      onSubmit={(e) => {
        e.preventDefault();
        props.onApply();
      }}
    >
      {props.children}
      <button type="submit" class="primary">
        {t('apply')}
      </button>
      {props.after}
    </form>
  );
}

export function ConnectorSelect(props: { value: string; onChange: (v: string) => void }) {
  const { data } = usePoll(() => api<{ connectors: Connector[] }>('/v1/connectors'), []);
  return (
    <label>
      {t('connector')}
      <select value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value="">{t('any')}</option>
        {(data?.connectors ?? []).map((c) => (
          <option value={c.id}>{c.id}</option>
        ))}
      </select>
    </label>
  );
}

/** Runs an action, reporting its outcome in words. */
export function useAction(): { message: string; error: string; run: (f: () => Promise<unknown>, done?: string) => Promise<void> } {
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  return {
    message,
    error,
    run: async (f, done = t('done')) => {
      setMessage('');
      setError('');
      try {
        await f();
        setMessage(done);
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
    },
  };
}

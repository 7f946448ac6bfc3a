/**
 * The Switchboard dashboard (issue 19): log in with the API token (kept by the browser only as an
 * HttpOnly session cookie), then the live feed, calls, conversations with their timelines,
 * operators, KPIs, connectors, the quarantine and deliveries. Hash routes (`#calls`,
 * `#conversations/<id>`), Russian and English labels, times in the browser's zone.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, login, logout, whenUnauthorized } from './api.js';
import { TIME_ZONE, lang, setLang, t, type Key } from './i18n.js';
import { Calls } from './views/Calls.js';
import { Connectors } from './views/Connectors.js';
import { Conversations } from './views/Conversations.js';
import { Deliveries } from './views/Deliveries.js';
import { Kpis } from './views/Kpis.js';
import { Live } from './views/Live.js';
import { Operators } from './views/Operators.js';
import { Quarantine } from './views/Quarantine.js';
import './style.css';

const VIEWS: readonly { id: string; label: Key }[] = [
  { id: 'live', label: 'live' },
  { id: 'calls', label: 'calls' },
  { id: 'conversations', label: 'conversations' },
  { id: 'operators', label: 'operators' },
  { id: 'kpis', label: 'kpis' },
  { id: 'connectors', label: 'connectors' },
  { id: 'quarantine', label: 'quarantine' },
  { id: 'deliveries', label: 'deliveries' },
];

function useHash(): [string, string | undefined] {
  const read = () => location.hash.replace(/^#\/?/, '');
  const [hash, setHash] = useState(read());
  useEffect(() => {
    const on = () => setHash(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const [view = 'live', ...rest] = hash.split('/');
  return [view, rest.length ? decodeURIComponent(rest.join('/')) : undefined];
}

function Login(props: { onDone: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  return (
    <main class="login">
      <h1>{t('title')}</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError('');
          if (await login(token.trim())) props.onDone();
          else setError(t('wrongToken'));
        }}
      >
        <label for="token">{t('token')}</label>
        <input id="token" type="password" autocomplete="current-password" value={token} onInput={(e) => setToken(e.currentTarget.value)} required />
        <p class="hint">{t('tokenHint')}</p>
        <button type="submit">{t('login')}</button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

function App() {
  const [authed, setAuthed] = useState<boolean | undefined>(undefined);
  const [view, arg] = useHash();
  void lang.value; // re-render on a language change
  useEffect(() => {
    whenUnauthorized(() => setAuthed(false));
    api('/v1/connectors').then(
      () => setAuthed(true),
      () => setAuthed(false),
    );
  }, []);
  if (authed === undefined) return null;
  if (!authed) return <Login onDone={() => setAuthed(true)} />;
  return (
    <>
      <header>
        <h1>{t('title')}</h1>
        <nav aria-label="views">
          {VIEWS.map((v) => (
            <a href={`#${v.id}`} aria-current={view === v.id ? 'page' : undefined}>
              {t(v.label)}
            </a>
          ))}
        </nav>
        <div class="tools">
          <span class="tz" title={t('timeZone')}>
            {TIME_ZONE}
          </span>
          <button type="button" onClick={() => setLang(lang.value === 'ru' ? 'en' : 'ru')}>
            {t('language')}
          </button>
          <button
            type="button"
            onClick={async () => {
              await logout();
              setAuthed(false);
            }}
          >
            {t('logout')}
          </button>
        </div>
      </header>
      <main id="view" data-view={view}>
        {view === 'live' && <Live />}
        {view === 'calls' && <Calls />}
        {view === 'conversations' && <Conversations selected={arg} />}
        {view === 'operators' && <Operators />}
        {view === 'kpis' && <Kpis />}
        {view === 'connectors' && <Connectors />}
        {view === 'quarantine' && <Quarantine />}
        {view === 'deliveries' && <Deliveries />}
      </main>
    </>
  );
}

document.documentElement.lang = lang.value;
render(<App />, document.getElementById('app') as HTMLElement);

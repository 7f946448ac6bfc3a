/** Russian and English labels; the choice is kept in the browser (never anything secret). */
import { signal } from '@preact/signals';

export type Lang = 'ru' | 'en';

const saved = typeof localStorage === 'undefined' ? null : localStorage.getItem('sb-lang');
export const lang = signal<Lang>(saved === 'ru' || saved === 'en' ? saved : typeof navigator !== 'undefined' && navigator.language.startsWith('ru') ? 'ru' : 'en');

export function setLang(l: Lang): void {
  lang.value = l;
  localStorage.setItem('sb-lang', l);
  document.documentElement.lang = l;
}

const EN = {
  title: 'Switchboard',
  login: 'Log in',
  logout: 'Log out',
  token: 'API token',
  tokenHint: 'The token switchboard serve printed (or server.apiToken). It is sent once; the browser keeps only a session cookie.',
  wrongToken: 'This token is not the API token.',
  live: 'Live',
  calls: 'Calls',
  conversations: 'Conversations',
  operators: 'Operators',
  kpis: 'KPIs',
  connectors: 'Connectors',
  quarantine: 'Quarantine',
  deliveries: 'Deliveries',
  timeZone: 'Time zone',
  platform: 'Platform',
  connector: 'Connector',
  type: 'Type',
  typePattern: 'Type pattern (call.*, message.created)',
  subject: 'Subject',
  apply: 'Apply',
  pause: 'Pause',
  resume: 'Resume',
  waiting: 'new while paused',
  time: 'Time',
  sequence: 'Seq.',
  any: 'any',
  close: 'Close',
  event: 'Event',
  native: 'Native payload',
  direction: 'Direction',
  from: 'From',
  to: 'To',
  outcome: 'Outcome',
  reason: 'Reason',
  ring: 'Ring, s',
  talk: 'Talk, s',
  rating: 'Rating',
  recording: 'Recording',
  conversation: 'Conversation',
  open: 'open',
  state: 'State',
  client: 'Client',
  operator: 'Operator',
  messages: 'Messages',
  lastActivity: 'Last activity',
  timeline: 'Timeline',
  choose: 'Choose a conversation.',
  status: 'Status',
  since: 'Since',
  period: 'Last 24 hours',
  period7: 'Last 7 days',
  period30: 'Last 30 days',
  periodOf: 'Period',
  inbound: 'Inbound',
  answered: 'Answered',
  missed: 'Missed',
  abandoned: 'Abandoned',
  shortAbandoned: 'Short-abandoned',
  outbound: 'Outbound',
  answerRate: 'Answer rate',
  serviceLevel: 'Service level',
  asa: 'Avg. speed of answer',
  avgTalk: 'Avg. talk time',
  chatsOpened: 'Chats opened',
  firstResponse: 'First response',
  toAssignment: 'Time to assignment',
  groupBy: 'Group by',
  total: 'total',
  none: '—',
  lag: 'Since last event',
  lastEvent: 'Last event',
  events: 'Events',
  errors: 'Errors',
  lastError: 'Last error',
  connectorEvents: 'Connector events (gaps, auth failures, reconnects)',
  retry: 'Retry',
  discard: 'Discard',
  raw: 'Raw input',
  nothing: 'Nothing here.',
  done: 'Done.',
  enable: 'Enable',
  disable: 'Disable',
  failingSince: 'Failing since',
  disabledReason: 'Disabled',
  pending: 'Pending',
  delivered: 'Delivered',
  failed: 'Failed',
  attempts: 'Attempts',
  lastStatus: 'Last answer',
  replay: 'Replay a range',
  fromTime: 'From',
  toTime: 'To',
  onlyFailed: 'only failed',
  refresh: 'Refresh',
  language: 'Русский',
  seconds: 's',
  filters: 'Filters',
};

const RU: typeof EN = {
  title: 'Switchboard',
  login: 'Войти',
  logout: 'Выйти',
  token: 'API-токен',
  tokenHint: 'Токен, который напечатал switchboard serve (или server.apiToken). Он отправляется один раз; браузер хранит только cookie сеанса.',
  wrongToken: 'Это не API-токен.',
  live: 'Лента',
  calls: 'Звонки',
  conversations: 'Диалоги',
  operators: 'Операторы',
  kpis: 'Показатели',
  connectors: 'Коннекторы',
  quarantine: 'Карантин',
  deliveries: 'Доставка',
  timeZone: 'Часовой пояс',
  platform: 'Платформа',
  connector: 'Коннектор',
  type: 'Тип',
  typePattern: 'Шаблон типа (call.*, message.created)',
  subject: 'Субъект',
  apply: 'Применить',
  pause: 'Пауза',
  resume: 'Продолжить',
  waiting: 'новых во время паузы',
  time: 'Время',
  sequence: '№',
  any: 'любая',
  close: 'Закрыть',
  event: 'Событие',
  native: 'Исходные данные',
  direction: 'Направление',
  from: 'От',
  to: 'Кому',
  outcome: 'Итог',
  reason: 'Причина',
  ring: 'Ожидание, с',
  talk: 'Разговор, с',
  rating: 'Оценка',
  recording: 'Запись',
  conversation: 'Диалог',
  open: 'открыть',
  state: 'Состояние',
  client: 'Клиент',
  operator: 'Оператор',
  messages: 'Сообщения',
  lastActivity: 'Последняя активность',
  timeline: 'Хронология',
  choose: 'Выберите диалог.',
  status: 'Статус',
  since: 'С',
  period: 'Последние 24 часа',
  period7: 'Последние 7 дней',
  period30: 'Последние 30 дней',
  periodOf: 'Период',
  inbound: 'Входящие',
  answered: 'Отвеченные',
  missed: 'Пропущенные',
  abandoned: 'Брошенные',
  shortAbandoned: 'Короткие брошенные',
  outbound: 'Исходящие',
  answerRate: 'Доля отвеченных',
  serviceLevel: 'Уровень сервиса',
  asa: 'Среднее время ответа',
  avgTalk: 'Средний разговор',
  chatsOpened: 'Открыто чатов',
  firstResponse: 'Первый ответ',
  toAssignment: 'До назначения',
  groupBy: 'Группировать',
  total: 'итого',
  none: '—',
  lag: 'С последнего события',
  lastEvent: 'Последнее событие',
  events: 'События',
  errors: 'Ошибки',
  lastError: 'Последняя ошибка',
  connectorEvents: 'События коннекторов (разрывы, ошибки входа, переподключения)',
  retry: 'Повторить',
  discard: 'Отбросить',
  raw: 'Исходный ввод',
  nothing: 'Здесь пусто.',
  done: 'Готово.',
  enable: 'Включить',
  disable: 'Выключить',
  failingSince: 'Сбои с',
  disabledReason: 'Выключена',
  pending: 'В очереди',
  delivered: 'Доставлено',
  failed: 'Не доставлено',
  attempts: 'Попытки',
  lastStatus: 'Последний ответ',
  replay: 'Отправить диапазон заново',
  fromTime: 'С',
  toTime: 'По',
  onlyFailed: 'только недоставленные',
  refresh: 'Обновить',
  language: 'English',
  seconds: 'с',
  filters: 'Фильтры',
};

export type Key = keyof typeof EN;
export function t(key: Key): string {
  return (lang.value === 'ru' ? RU : EN)[key];
}

/** The browser's time zone, shown beside every time. */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** A time in the browser's zone. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang.value === 'ru' ? 'ru-RU' : 'en-GB', { dateStyle: 'short', timeStyle: 'medium' }).format(d);
}

export function party(p: { name?: string; phone?: string; id?: string } | undefined): string {
  if (!p) return '—';
  return [p.name, p.phone ?? p.id].filter(Boolean).join(' · ') || '—';
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${Math.round(v * 1000) / 10}%`;
}

export function secs(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${Math.round(v * 10) / 10} ${t('seconds')}`;
}

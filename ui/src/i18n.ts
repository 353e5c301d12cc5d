// The interface's words in Russian and English. The language follows the system until the
// operator picks one; the choice is remembered.

const en = {
  appName: "Trubka",
  navCalls: "Calls",
  navHistory: "History",
  navLabel: "Screens",
  language: "Язык: русский",
  languageLabel: "Switch the interface to Russian",
  dialerLabel: "Number to call",
  dialerPlaceholder: "Number, e.g. 8 921 946-27-61",
  dialerHint: "Ctrl+K to type a number, Enter to call",
  dial: "Call",
  dialling: "Calling…",
  dialled: (n: string) => `Calling ${n}: your phone rings first`,
  activeCalls: "Active calls",
  noActiveCalls: "No calls right now.",
  phasePickUp: "Your phone is ringing — pick up",
  phaseCalling: (n: string) => `Calling ${n}`,
  phaseRingingIn: "Incoming call — ringing",
  phaseRinging: "Ringing",
  phaseConnected: "Connected",
  phaseEnded: "Ended",
  phaseMissed: "Missed",
  incoming: "Incoming",
  outgoing: "Outgoing",
  unknownNumber: "Unknown number",
  mine: "Mine",
  hangUp: "Hang up",
  transfer: "Transfer",
  transferTitle: (n: string) => `Transfer ${n}`,
  transferSearch: "Find a workplace, or type a number",
  transferTo: (n: string) => `Transfer to ${n}`,
  noWorkplaces: "No workplace matches.",
  cancel: "Cancel",
  today: "Today",
  todayCalls: "Calls",
  todayAnswered: "Answered",
  todayMissed: "Missed",
  todayTalk: "Talk time",
  historyFilter: "Which calls",
  filterAll: "All",
  filterMissed: "Missed",
  filterIncoming: "Incoming",
  filterOutgoing: "Outgoing",
  searchLabel: "Search by part of a number or a name",
  searchPlaceholder: "Part of a number or name",
  searchTooShort: "Type at least 3 characters to search.",
  noCalls: "No calls here yet.",
  more: "Show more",
  loading: "Loading…",
  callBack: "Call back",
  callBackTo: (n: string) => `Call back ${n}`,
  play: "Recording",
  playLabel: (n: string) => `Play the recording of the call with ${n}`,
  calledBack: "called back",
  notAnswered: "not answered",
  inProgress: "in progress",
  colWhen: "When",
  colWho: "Who",
  colHow: "Call",
  colLength: "Length",
  colActions: "Actions",
  linkConnected: "PBX events: live",
  linkReconnecting: "PBX events: reconnecting…",
  linkOffline: "PBX events: offline",
  linkRefused: "PBX events: refused",
  linkStarting: "Starting…",
  errorInvalidNumber: "This is not a number that can be called.",
  errorNotConfigured: "The account is not set up for this yet.",
  errorStarting: "The app could not start its core.",
  errorGeneric: "Something went wrong.",
};

type Strings = typeof en;

const ru: Strings = {
  appName: "Трубка",
  navCalls: "Звонки",
  navHistory: "История",
  navLabel: "Разделы",
  language: "Language: English",
  languageLabel: "Переключить интерфейс на английский",
  dialerLabel: "Номер для звонка",
  dialerPlaceholder: "Номер, например 8 921 946-27-61",
  dialerHint: "Ctrl+K — набрать номер, Enter — позвонить",
  dial: "Позвонить",
  dialling: "Звоним…",
  dialled: (n: string) => `Звоним на ${n}: сначала зазвонит ваш телефон`,
  activeCalls: "Текущие звонки",
  noActiveCalls: "Сейчас звонков нет.",
  phasePickUp: "Ваш телефон звонит — снимите трубку",
  phaseCalling: (n: string) => `Вызываем ${n}`,
  phaseRingingIn: "Входящий звонок",
  phaseRinging: "Идёт вызов",
  phaseConnected: "Разговор",
  phaseEnded: "Завершён",
  phaseMissed: "Пропущен",
  incoming: "Входящий",
  outgoing: "Исходящий",
  unknownNumber: "Номер скрыт",
  mine: "Мой",
  hangUp: "Завершить",
  transfer: "Перевести",
  transferTitle: (n: string) => `Перевести ${n}`,
  transferSearch: "Найдите рабочее место или введите номер",
  transferTo: (n: string) => `Перевести на ${n}`,
  noWorkplaces: "Рабочих мест не найдено.",
  cancel: "Отмена",
  today: "Сегодня",
  todayCalls: "Звонков",
  todayAnswered: "Отвечено",
  todayMissed: "Пропущено",
  todayTalk: "В разговоре",
  historyFilter: "Какие звонки",
  filterAll: "Все",
  filterMissed: "Пропущенные",
  filterIncoming: "Входящие",
  filterOutgoing: "Исходящие",
  searchLabel: "Поиск по части номера или имени",
  searchPlaceholder: "Часть номера или имени",
  searchTooShort: "Для поиска введите хотя бы 3 символа.",
  noCalls: "Здесь пока нет звонков.",
  more: "Показать ещё",
  loading: "Загрузка…",
  callBack: "Перезвонить",
  callBackTo: (n: string) => `Перезвонить ${n}`,
  play: "Запись",
  playLabel: (n: string) => `Прослушать запись разговора с ${n}`,
  calledBack: "перезвонили",
  notAnswered: "без ответа",
  inProgress: "идёт сейчас",
  colWhen: "Когда",
  colWho: "Кто",
  colHow: "Звонок",
  colLength: "Длительность",
  colActions: "Действия",
  linkConnected: "События АТС: на связи",
  linkReconnecting: "События АТС: переподключение…",
  linkOffline: "События АТС: нет связи",
  linkRefused: "События АТС: доступ отклонён",
  linkStarting: "Запуск…",
  errorInvalidNumber: "Это не номер, на который можно позвонить.",
  errorNotConfigured: "Учётная запись для этого ещё не настроена.",
  errorStarting: "Приложение не смогло запуститься.",
  errorGeneric: "Что-то пошло не так.",
};

export type Lang = "ru" | "en";
const STORAGE_KEY = "trubka.lang";

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === "ru" || saved === "en") return saved;
  return navigator.language.toLowerCase().startsWith("ru") ? "ru" : "en";
}

let lang: Lang = initialLang();
export let t: Strings = lang === "ru" ? ru : en;

export function currentLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  t = next === "ru" ? ru : en;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
}

document.documentElement.lang = lang;

// Counts read as the language says them: every count the interface shows goes through the plural
// rules (issue #14 item 10: "из последних 1 решений", "1 calls").
import assert from "node:assert/strict";
import { test } from "node:test";
import { en } from "../src/i18n/en";
import { plural } from "../src/i18n/plural";
import { ru } from "../src/i18n/ru";

const ruCalls = { one: "# звонок", few: "# звонка", many: "# звонков", other: "# звонка" };

test("Russian counts take one, few and many as CLDR says", () => {
  const said = (n: number) => plural("ru", n, ruCalls);
  assert.equal(said(1), "1 звонок");
  assert.equal(said(2), "2 звонка");
  assert.equal(said(4), "4 звонка");
  assert.equal(said(5), "5 звонков");
  assert.equal(said(0), "0 звонков");
  assert.equal(said(11), "11 звонков");
  assert.equal(said(12), "12 звонков");
  assert.equal(said(21), "21 звонок");
  assert.equal(said(22), "22 звонка");
  assert.equal(said(25), "25 звонков");
  assert.equal(said(111), "111 звонков");
  assert.equal(said(101), "101 звонок");
  assert.equal(plural("en", 1, { one: "# call", other: "# calls" }), "1 call");
  assert.equal(plural("en", 0, { one: "# call", other: "# calls" }), "0 calls");
});

test("the routing journal's share agrees with its count", () => {
  assert.equal(ru.routeShare(100, 1), "Вовремя принято 100% из 1 последнего решения.");
  assert.equal(ru.routeShare(50, 2), "Вовремя принято 50% из 2 последних решений.");
  assert.equal(ru.routeShare(96, 25), "Вовремя принято 96% из 25 последних решений.");
  assert.equal(ru.routeShare(100, 21), "Вовремя принято 100% из 21 последнего решения.");
  assert.equal(en.routeShare(100, 1), "100% of the last 1 decision met the deadline.");
  assert.equal(en.routeShare(90, 10), "90% of the last 10 decisions met the deadline.");
});

test("the popup counts earlier calls", () => {
  assert.equal(ru.popupEarlier(1), "1 звонок раньше");
  assert.equal(ru.popupEarlier(3), "3 звонка раньше");
  assert.equal(ru.popupEarlier(7), "7 звонков раньше");
  assert.equal(en.popupEarlier(1), "1 earlier call");
  assert.equal(en.popupEarlier(2), "2 earlier calls");
});

test("the Today chart counts calls per hour and for the busiest hour", () => {
  assert.match(en.chartBar("09:00–10:00", 1, 1, 0), /^09:00–10:00: 1 call, /);
  assert.match(en.chartBar("09:00–10:00", 2, 1, 1), /^09:00–10:00: 2 calls, /);
  assert.match(ru.chartBar("09:00–10:00", 1, 1, 0), /^09:00–10:00: 1 звонок, /);
  assert.match(ru.chartBar("09:00–10:00", 3, 1, 0), /^09:00–10:00: 3 звонка, /);
  assert.match(en.chartSummary("09:00–10:00", 1, 1, 0, 1), /: 1 call \(/);
  assert.match(en.chartSummary("09:00–10:00", 1, 1, 0, 1), /Hours with calls: 1 of 24\./);
  assert.match(ru.chartSummary("09:00–10:00", 1, 1, 0, 1), /: 1 звонок \(/);
  assert.match(ru.chartSummary("09:00–10:00", 5, 4, 1, 2), /: 5 звонков \(/);
});

test("the contacts import report and the exports count rows, contacts and calls", () => {
  assert.equal(en.importDone(1, 0, 1), "Import finished: 1 added, 0 updated, 1 row not imported.");
  assert.equal(en.importDone(2, 3, 4), "Import finished: 2 added, 3 updated, 4 rows not imported.");
  assert.equal(
    ru.importDone(1, 2, 5),
    "Импорт завершён: добавлен 1 контакт, обновлено 2 контакта, 5 строк не импортировано.",
  );
  assert.equal(
    ru.importDone(5, 1, 1),
    "Импорт завершён: добавлено 5 контактов, обновлён 1 контакт, 1 строка не импортирована.",
  );
  assert.equal(ru.importDone(0, 0, 3), "Импорт завершён: добавлено 0 контактов, обновлено 0 контактов, 3 строки не импортированы.");
  assert.equal(en.exportedContacts(1, "/d/c.csv"), "1 contact saved to /d/c.csv");
  assert.equal(en.exportedCalls(1, "/d/c.csv"), "1 call saved to /d/c.csv");
  assert.equal(ru.exportedContacts(1, "/d/c.csv"), "Сохранён 1 контакт: /d/c.csv");
  assert.equal(ru.exportedContacts(3, "/d/c.csv"), "Сохранено 3 контакта: /d/c.csv");
  assert.equal(ru.exportedCalls(12, "/d/c.csv"), "Сохранено 12 звонков: /d/c.csv");
  assert.equal(en.contactsLimit(200), "Showing the first 200 contacts: search to narrow the list.");
  assert.equal(ru.contactsLimit(200), "Показаны первые 200 контактов: уточните поиск.");
  assert.equal(ru.contactsLimit(22), "Показаны первые 22 контакта: уточните поиск.");
});

test("the callback queue counts missed calls", () => {
  assert.equal(en.callbacksMissed(1, "10:05"), "missed at 10:05");
  assert.equal(en.callbacksMissed(3, "10:05"), "missed 3 times, last at 10:05");
  assert.equal(ru.callbacksMissed(1, "10:05"), "пропущен в 10:05");
  assert.equal(ru.callbacksMissed(3, "10:05"), "пропущено 3 звонка, последний в 10:05");
  assert.equal(ru.callbacksMissed(5, "10:05"), "пропущено 5 звонков, последний в 10:05");
  assert.equal(ru.callbacksMissed(21, "10:05"), "пропущен 21 звонок, последний в 10:05");
});

test("the Today card counts the calls in progress", () => {
  assert.equal(en.todayLive(1), "1 call in progress");
  assert.equal(en.todayLive(5), "5 calls in progress");
  assert.equal(ru.todayLive(1), "Сейчас идёт 1 звонок");
  assert.equal(ru.todayLive(3), "Сейчас идут 3 звонка");
  assert.equal(ru.todayLive(5), "Сейчас идут 5 звонков");
});

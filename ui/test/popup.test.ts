// The popup's text: names, numbers and companies are text from outside (the PBX, the phonebook,
// the relay) and may carry bidi controls (issue #14 item 7).
import assert from "node:assert/strict";
import { test } from "node:test";
import { popupWho } from "../src/popup-who";

const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

test("a caller's name cannot steer the order of the popup's text", () => {
  const who = popupWho(
    {
      name: "Evil\u2069\u202E\u2066Corp\u200F",
      number: "+7 921\u202E 946-27-61",
      company: "\u202BOOO\u061C Romashka\u202C",
    },
    "Unknown caller",
  );
  assert.deepEqual(who, { name: "EvilCorp", number: "+7 921 946-27-61", company: "OOO Romashka" });
  for (const line of Object.values(who)) assert.doesNotMatch(line, BIDI_CONTROLS);
});

test("a name of nothing but bidi controls is no name: the number stands in for it", () => {
  const who = popupWho({ name: "\u202E\u2069", number: "+7 921 946-27-61", company: null }, "Unknown caller");
  assert.deepEqual(who, { name: "+7 921 946-27-61", number: "", company: "" });
});

test("the popup's lines as before for plain text", () => {
  assert.deepEqual(popupWho({ name: "Анна", number: "+7 921 946-27-61", company: "ООО Ромашка" }, "?"), {
    name: "Анна",
    number: "+7 921 946-27-61",
    company: "ООО Ромашка",
  });
  assert.deepEqual(popupWho({ name: null, number: null, company: null }, "Unknown caller"), {
    name: "Unknown caller",
    number: "",
    company: "",
  });
});

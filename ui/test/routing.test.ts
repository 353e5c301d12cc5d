// Settings' Routing section in a team (issue #16 item 3): an admin edits the team's rules and
// parking, other seats only see the decisions, and no seat is offered to be the router.
import assert from "node:assert/strict";
import { test } from "node:test";
import { en } from "../src/i18n/en";
import { ru } from "../src/i18n/ru";
import { deciderView } from "../src/routing-decider";

test("personal mode offers the router switch and editing", () => {
  assert.deepEqual(deciderView("app", true, en), { routerSwitch: true, editing: true, hint: en.routeDeciding });
  assert.equal(deciderView("app", false, ru).hint, ru.routeNotDeciding);
});

test("in a team an admin edits the team's routing and nobody is the router", () => {
  assert.deepEqual(deciderView("team", false, en), { routerSwitch: false, editing: true, hint: en.routeTeamAdmin });
  assert.deepEqual(deciderView("team_readonly", false, ru), { routerSwitch: false, editing: false, hint: ru.routeTeamMember });
});

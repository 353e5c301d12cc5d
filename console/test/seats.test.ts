// The seats table: what each seat's row says of it.
import { reset, routes } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import { seat, session } from "./fixtures";
import { openConsole } from "./open";

test("a revoked seat shows no presence, availability or actions; a live one shows them", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session() });
  routes["GET /seats"] = () => ({
    status: 200,
    body: {
      seats: [
        seat({ id: 7 }),
        // The relay still answers the last presence it knew of a revoked seat.
        seat({ id: 8, name: "Сидоров Олег", revokedAt: "2026-12-02T09:00:00Z", presence: "free", availability: "available" }),
      ],
    },
  });
  await openConsole("/admin/seats");
  const live = document.querySelector('tr[data-seat="7"]');
  const revoked = document.querySelector('tr[data-seat="8"]');
  assert.ok(live && revoked, "both rows");
  assert.equal(live.querySelectorAll(".badge").length, 2, "presence and availability of a live seat");
  assert.ok(live.querySelector('[data-action="revoke"]'));
  assert.equal(revoked.querySelectorAll(".badge").length, 0, "a revoked seat has no presence to show");
  assert.equal(revoked.querySelectorAll("button").length, 0, "nothing to do with a revoked seat");
});

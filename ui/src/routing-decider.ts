// Who decides parked calls, as the Settings screen's Routing section shows it: this app (personal
// mode) or the team's server (in a team), and what a seat may change there. Plain data, so that
// the tests run it without a window.
import type { Strings } from "./i18n/en";

/** What the section offers for who decides parked calls: the router switch (personal mode),
 * editing parking and rules (personal mode, and a team's admin, whose edits go to the team's
 * server), and the words about who decides. */
export function deciderView(
  decider: string,
  deciding: boolean,
  t: Strings,
): { routerSwitch: boolean; editing: boolean; hint: string } {
  if (decider === "team") return { routerSwitch: false, editing: true, hint: t.routeTeamAdmin };
  if (decider === "team_readonly") return { routerSwitch: false, editing: false, hint: t.routeTeamMember };
  return { routerSwitch: true, editing: true, hint: deciding ? t.routeDeciding : t.routeNotDeciding };
}

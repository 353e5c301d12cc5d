// The console's pages, in the navigation's order, and who may see each (CONSOLE-API.md:
// supervisors see the wallboard, the seats read-only and the audit log; admins everything).
import type { PageDef } from "./app";
import { auditPage } from "./pages/audit";
import { healthPage } from "./pages/health";
import { integrationPage } from "./pages/integration";
import { parkingPage } from "./pages/parking";
import { phonebookPage } from "./pages/phonebook";
import { routingPage } from "./pages/routing";
import { seatsPage } from "./pages/seats";
import { tagsPage } from "./pages/tags";
import { wallboardPage } from "./pages/wallboard";

const both = ["admin", "supervisor"] as PageDef["roles"];
const admin = ["admin"] as PageDef["roles"];

export const PAGES: PageDef[] = [
  { path: "wallboard", title: (t) => t.pageWallboard, roles: both, make: wallboardPage },
  { path: "integration", title: (t) => t.pageIntegration, roles: admin, make: integrationPage },
  { path: "seats", title: (t) => t.pageSeats, roles: both, make: seatsPage },
  { path: "routing", title: (t) => t.pageRouting, roles: admin, make: routingPage },
  { path: "parking", title: (t) => t.pageParking, roles: admin, make: parkingPage },
  { path: "tags", title: (t) => t.pageTags, roles: admin, make: tagsPage },
  { path: "phonebook", title: (t) => t.pagePhonebook, roles: admin, make: phonebookPage },
  { path: "audit", title: (t) => t.pageAudit, roles: both, make: auditPage },
  { path: "health", title: (t) => t.pageHealth, roles: admin, make: healthPage },
];

import { bringUp, tearDown } from "./suite";

// Root-level hooks (this module is imported by every e2e test file; it runs once).
before(function () {
  this.timeout(15 * 60_000);
  bringUp();
});

after(async function () {
  this.timeout(5 * 60_000);
  await tearDown();
});

import assert from "node:assert/strict";
import { merge, plannedActions, runStack, stackConfig, T } from "./harness";

/**
 * App Platform hands a SECRET env value back encrypted (`EV[1:...]`) and the provider stores it so
 * (the harness's App model, terraform-provider-digitalocean `app_spec.go` `flattenAppEnvs`): the
 * program's plaintext differs from the state on every `up`. The program keeps the stored values while
 * the secrets are the ones its previous `up` deployed, and sends them when one changed.
 */
describe("App Platform secrets read back encrypted", () => {
  const key = `${T.app}::slipway-deploy-app`;
  const dev = stackConfig("dev");

  it("an up with nothing changed shows no diff on the App: the stored SECRET values are kept", async () => {
    const first = await runStack("dev", dev);
    assert.ok(first.outputs !== undefined);
    const app = first.run.find(T.app, "slipway-deploy-app");
    assert.deepEqual(app.ignoreChanges, [], "a first deploy sends every value");
    assert.match(
      JSON.stringify(app.state.spec),
      /EV\[1:/,
      "the state holds what App Platform returned",
    );

    const second = await runStack("dev", dev, { previous: first.outputs });
    const again = second.run.find(T.app, "slipway-deploy-app");
    assert.deepEqual(again.ignoreChanges, [
      "spec.services[0].envs[1].value",
      "spec.services[0].envs[2].value",
    ]);
    assert.equal(plannedActions(first.run, second.run).get(key), "same");
  });

  it("without that, every up would redeploy the App (the model sees plaintext against EV[...])", async () => {
    const first = await runStack("dev", dev);
    // A previous up whose fingerprint is unknown: the values are sent as plaintext.
    const second = await runStack("dev", dev, { previous: {} });
    assert.equal(plannedActions(first.run, second.run).get(key), "update");
  });

  it("a changed secret value still deploys: the new plaintext goes out", async () => {
    const first = await runStack("dev", dev);
    const changed = merge(dev, { secrets: { ODOO_ADMIN_PASSWD: "a-new-admin-password" } });
    const second = await runStack("dev", changed, { previous: first.outputs });
    const app = second.run.find(T.app, "slipway-deploy-app");
    assert.deepEqual(app.ignoreChanges, []);
    assert.equal(plannedActions(first.run, second.run).get(key), "update");
    assert.notEqual(second.outputs?.secretsFingerprint, first.outputs?.secretsFingerprint);
  });

  it("covers the PRE_DEPLOY job's SECRET values too (prod)", async () => {
    const prod = merge(stackConfig("prod"), { release: { promoteFrom: "dev" } });
    const first = await runStack("prod", prod);
    const second = await runStack("prod", prod, { previous: first.outputs });
    const app = second.run.find(T.app, "slipway-deploy-app");
    assert.ok(app.ignoreChanges.some((p) => p.startsWith("spec.jobs[0].envs[")));
    assert.equal(plannedActions(first.run, second.run).get(key), "same");
  });

  it("the fingerprint says nothing of the values: no secret in it, and it is a stack output kept secret", async () => {
    const first = await runStack("dev", dev);
    const fingerprint = String(first.outputs?.secretsFingerprint);
    assert.match(fingerprint, /^scrypt:[a-f0-9]{32}$/);
    for (const value of ["dev-admin-password", "dev-pg-password"]) {
      assert.ok(!fingerprint.includes(value));
    }
  });
});

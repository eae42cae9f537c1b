// The firmware's costs as XS counts them (computrons and heap slots, the same on any machine
// and under any load), each held to its budget in bench/budgets.ts.
import assert from "node:assert/strict";
import { budgets, type CostName } from "../../bench/budgets.ts";
import { measureCosts } from "../../bench/costs.ts";

describe("the firmware's costs, within their budgets (bench/budgets.ts)", function () {
  this.timeout(120000);
  let costs: Record<CostName, number>;
  before(async () => void (costs = await measureCosts()));

  for (const [name, budget] of Object.entries(budgets) as [CostName, (typeof budgets)[CostName]][]) {
    it(`${name}: at most ${budget.limit} ${budget.unit}`, () => {
      assert.ok(costs[name] > 0, `${name} was not measured`);
      assert.ok(
        costs[name] <= budget.limit,
        `${name} costs ${costs[name]} ${budget.unit}, over its budget of ${budget.limit} (set from ${budget.from}); npm run bench:costs shows every cost`,
      );
    });
  }
});

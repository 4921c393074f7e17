/**
 * Wiring a compiled ruleset into a RouterEngine: each hook gets its base chains, in priority
 * order, after any program already there. Each program learns its position in the hook's list,
 * which its trace records carry so the hook can hand them back to it for formatting.
 */
import type { RouterEngine } from '../engine/router-engine.js';
import { type CompiledRuleset, HOOK_NAMES, type RulesetDeps } from './compile.js';

/** What compileRuleset needs from an engine. */
export function rulesetDeps(engine: RouterEngine): RulesetDeps {
  return { pipe: engine.pipe, ctx: engine.ctx, output: () => engine.local.output };
}

export function attachRuleset(engine: RouterEngine, compiled: CompiledRuleset): void {
  for (const h of HOOK_NAMES) {
    const hook = engine.hooks[h];
    for (const p of compiled.hooks[h]) {
      p.slot = hook.programs.length;
      hook.programs.push(p);
    }
  }
}

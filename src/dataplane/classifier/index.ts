/** The classifier: nftables-like chains compiled for the five hooks. */
export { attachRuleset, rulesetDeps } from './attach.js';
export { BaseChainProgram } from './chain-program.js';
export { RulesetError } from './check-ruleset.js';
export { type CompiledRuleset, compileRuleset, HOOK_NAMES, type RulesetDeps } from './compile.js';
export {
  type PolicyCounterRow,
  type RuleCounterRow,
  type RulesetCounters,
  rulesetCounters,
} from './counters.js';
export { MAX_JUMP_DEPTH, Ruleset } from './ruleset.js';

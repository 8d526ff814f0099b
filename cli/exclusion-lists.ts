import type { Config } from '../core/config.ts';
import { SAMPLE_EXCLUSION_LIST } from '../fixtures/samples.ts';
import { loadLeieNpis } from '../scoring/exclusion-list.ts';
import { createRulesConfig, type RulesConfig } from '../scoring/rules.ts';

/**
 * Rules for the offline commands (train, evaluate), with exclusion lists read by the loader
 * serving uses (`loadLeieNpis`): the files of EXCLUSION_LISTS, or, when the config names none,
 * the sample list of the generator's excluded providers (fixtures/samples/exclusions-leie.csv),
 * so fixture claims meet the exclusion rule offline as they do in the demo pipeline.
 * @throws ExclusionListError when a file is missing or not in the LEIE format.
 */
export async function offlineRulesConfig(config: Readonly<Config>): Promise<{ rules: RulesConfig; lists: readonly string[] }> {
  const lists = config.exclusionLists.length > 0 ? config.exclusionLists : [SAMPLE_EXCLUSION_LIST];
  return { rules: createRulesConfig({ excludedNpis: await loadLeieNpis(lists) }), lists };
}

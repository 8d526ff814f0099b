/**
 * The environment of processes the local stack starts (Kafka, Redis, PostgreSQL and anvil, and
 * short tools such as initdb, pg_ctl, java and mvn): an allow-list of what a daemon needs to find
 * its binaries, home, locale and temp folder, plus the caller's explicit extras. Nothing else of
 * the parent is passed on: the shell that runs `stack up` may hold PHI_MASTER_KEY,
 * SIGNER_PRIVATE_KEY, tokens, passwords or URLs with credentials, and a daemon outlives that
 * shell with its environment readable in /proc/<pid>/environ (and in crash dumps).
 */

/** Variables passed through by name. */
const ALLOWED = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TMP', 'TEMP',
  // Java (Kafka) and Maven (fetching Kafka's jars once).
  'JAVA_HOME', 'M2_HOME', 'MAVEN_HOME',
  // Windows needs these to start anything at all.
  'SYSTEMROOT', 'SystemRoot', 'COMSPEC', 'PATHEXT', 'WINDIR',
]);

/** Variables passed through by prefix (locale categories). */
const ALLOWED_PREFIXES = ['LC_'];

/**
 * The allow-listed part of `parent` (default: this process's environment) with `extra` on top.
 * `extra` is the caller's explicit choice and is passed as given.
 */
export function scrubbedEnv(extra: NodeJS.ProcessEnv = {}, parent: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parent)) {
    // A secret-looking name is refused even under an allow-listed prefix (LC_*).
    if (value === undefined || isSecretName(name)) continue;
    if (ALLOWED.has(name) || ALLOWED_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * `parent` without the variables that hold secrets (names ending in KEY, KEY_FILE, PASSWORD,
 * SECRET, TOKEN...), for child processes of our own that need the rest of the configuration but
 * no key (e.g. `claimtrail audit` run by the fault trials, or a pipeline role without anchoring
 * run without the signer). `keep` names secrets the child does need.
 */
export function withoutSecrets(parent: NodeJS.ProcessEnv, keep: readonly string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (keep.includes(name) || !isSecretName(name)) env[name] = value;
  }
  return env;
}

/** The signer's variables: only a process that sends transactions (the anchoring role) gets them. */
export const SIGNER_VARIABLES = Object.freeze(['SIGNER_PRIVATE_KEY', 'SIGNER_KEY_FILE']);

/**
 * The environment of a `claimtrail run --roles <role>` child: `parent` without the signer's
 * variables unless the role anchors. Data keys (PHI master key, aggregate and index keys) stay:
 * scoring and the review app need them, and a role that does not simply never reads them.
 */
export function pipelineRoleEnv(role: string, parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (role === 'anchoring') return { ...parent };
  const env = { ...parent };
  for (const name of SIGNER_VARIABLES) delete env[name];
  return env;
}

/** True for variable names that carry a secret or point at one (`*_KEY`, `*_KEY_FILE`, `*_PASSWORD`, `*_SECRET*`, `*TOKEN*`). */
export function isSecretName(name: string): boolean {
  return /(^|_)(PRIVATE_?KEY|MASTER_KEY|INDEX_KEY|API_?KEY|KEY|KEY_FILE|PASSWORD|PASSWD|SECRET|SECRET_FILE|TOKEN|CREDENTIALS?)($|_)/i.test(name) || /^PGPASSWORD$/i.test(name);
}

import { SamlValidationError } from './errors';
import { SamlServiceProvider, ValidatedLogin, VerifierConfig } from './service-provider';

/** What a worker receives: the provider's configuration (by version) and the posted response. */
export interface VerifyTask {
  config: VerifierConfig;
  samlResponse: string;
}

export type VerifyOutcome = { ok: true; login: ValidatedLogin; ms: number } | { ok: false; code: SamlValidationError['code']; message: string };

/** Providers built in this worker, by configuration version (an IdP change makes a new version). */
const providers = new Map<string, SamlServiceProvider>();
const MAX_PROVIDERS = 64;

function provider(config: VerifierConfig): SamlServiceProvider {
  const key = config.version ?? JSON.stringify(config);
  let sp = providers.get(key);
  if (!sp) {
    if (providers.size >= MAX_PROVIDERS) providers.delete(providers.keys().next().value!);
    sp = new SamlServiceProvider(config);
    providers.set(key, sp);
  }
  return sp;
}

/** Runs on a worker thread (piscina): verification only, no I/O; refusals come back as values. */
export default async function verify(task: VerifyTask): Promise<VerifyOutcome> {
  const started = performance.now();
  try {
    const login = await provider(task.config).verifyPostResponse(task.samlResponse);
    return { ok: true, login, ms: performance.now() - started };
  } catch (err) {
    if (err instanceof SamlValidationError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

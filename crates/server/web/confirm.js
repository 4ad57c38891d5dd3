// The committee's last confirmation, checked in the browser.
//
// The server keeps the latest checkpoint that carries a cosignature
// (`GET /api/v1/checkpoints/cosigned`, docs/api.md). This module fetches it
// and believes nothing the server says about it:
//   the log key (pinned by the resident)      -> the checkpoint's size and root
//   committee and supervisor keys from `roles`,
//   the roles in force as the page verified
//   them (not a list from the server)         -> who cosigned, and when
//   a consistency proof from it to the latest
//   checkpoint the page verified              -> the log today extends what
//                                                they confirmed
// A line by any other key (a registered witness, a company key, a stranger)
// is not counted here; a line by a counted key that does not verify fails.
//
// The trust section renders the result in plain words; this module only
// checks and returns data.

import { ALG_COSIGNATURE_V1, VerifyError, fromBase64, keyIdHex, parseVkey, verifyCheckpointNote } from './verify.js';
import { verifyConsistency } from './tlog.js';

/** Roles whose members' cosignatures count as the community's confirmation. */
export const CONFIRMING_ROLES = ['committee', 'supervisor'];

/** Most bytes of a checkpoint note read: a note holds at most 100 lines. */
const NOTE_BYTES_MAX = 64 * 1024;

/** The cosigner keys (type 0x04) of the confirming roles' members. */
async function confirmingKeys(roles) {
  const keys = [];
  for (const role of CONFIRMING_ROLES) {
    for (const k of (roles && roles[role] && roles[role].keys) || []) {
      let key;
      try {
        key = fromBase64(k.public_key);
      } catch {
        continue; // a key that does not decode cannot cosign
      }
      if (key.length !== 32) continue;
      const displayName = typeof k.display_name === 'string' ? k.display_name : null;
      keys.push({ name: k.name, key, role, displayName, keyId: await keyIdHex(k.name, ALG_COSIGNATURE_V1, key) });
    }
  }
  return keys;
}

async function get(doFetch, url, step) {
  let res;
  try {
    res = await doFetch(url, { cache: 'no-store' });
  } catch (e) {
    throw new VerifyError(step, 'network', { url, why: String((e && e.message) || e) });
  }
  return res;
}

/**
 * Checks the committee's latest confirmation of the ledger at `base`.
 *
 * - `logKey`: the log's verifier key, as text or as `parseVkey` returns it.
 * - `roles`: the roles in force, `{role: {threshold, keys: [{name, public_key}]}}`,
 *   as the page verified them from the log.
 * - `latest`: the latest checkpoint the page verified, `{size, root}` (root
 *   as 32 bytes).
 * - `fetch`: injectable, as elsewhere in the page.
 *
 * Returns `{size, root, time, cosigners: [{name, role, time, displayName}], unknown,
 * extendsLatest}`: `time` is the latest counted cosignature's (POSIX
 * seconds), `displayName` whom the key stands for in `roles` (§7.1; null
 * when they name no one), `unknown` the names of lines not counted, and `extendsLatest`
 * true when the page's latest checkpoint extends the confirmed one (proven).
 * It is false only when the confirmed checkpoint is newer than `latest`
 * (the page's view is stale): then it is proven the other way round, that
 * the confirmed log extends what the page verified.
 *
 * Throws VerifyError with step 'fetch' (reason 'no-cosigned-checkpoint' when
 * nobody has cosigned yet), 'checkpoint' (the log's signature), 'cosignature'
 * (a counted line that does not verify, or 'no-committee-cosignature' when no
 * line is by a confirming role's key) or 'consistency'.
 */
export async function committeeConfirmation({ base = '', logKey, roles, latest, fetch: doFetch = (...a) => fetch(...a) }) {
  const key = typeof logKey === 'string' ? await parseVkey(logKey) : logKey;
  if (!latest || !Number.isSafeInteger(latest.size) || !(latest.root instanceof Uint8Array) || latest.root.length !== 32) {
    throw new VerifyError('consistency', 'no-latest', {});
  }

  const res = await get(doFetch, `${base}/api/v1/checkpoints/cosigned`, 'fetch');
  if (res.status === 404) {
    let code = '';
    try {
      code = (await res.json()).error.code;
    } catch {
      code = '';
    }
    if (code === 'no_cosigned_checkpoint') throw new VerifyError('fetch', 'no-cosigned-checkpoint', {});
    throw new VerifyError('fetch', 'http', { status: res.status });
  }
  if (!res.ok) throw new VerifyError('fetch', 'http', { status: res.status });
  const noteText = await res.text();
  if (noteText.length > NOTE_BYTES_MAX) throw new VerifyError('checkpoint', 'note-format', { why: 'too long' });

  const cosignerKeys = await confirmingKeys(roles);
  const verified = await verifyCheckpointNote(noteText, key, cosignerKeys);
  const cp = verified.checkpoint;
  const byName = new Map(cosignerKeys.map((k) => [k.name, k]));
  const cosigners = verified.cosignatures.map((c) => ({ name: c.name, role: c.role, time: c.time, displayName: (byName.get(c.name) || {}).displayName || null }));
  if (cosigners.length === 0) {
    throw new VerifyError('cosignature', 'no-committee-cosignature', { size: cp.size, unknown: verified.unknown });
  }

  // Whichever is older must be a prefix of the other.
  const [from, to] = cp.size <= latest.size ? [cp, latest] : [latest, cp];
  if (from.size === to.size || from.size === 0) {
    if (!(await verifyConsistency(from.size, to.size, [], from.root, to.root))) {
      throw new VerifyError('consistency', 'inconsistent', { from: from.size, to: to.size });
    }
  } else {
    const proofRes = await get(doFetch, `${base}/api/v1/consistency?from=${from.size}&to=${to.size}`, 'consistency');
    if (!proofRes.ok) throw new VerifyError('consistency', 'http', { status: proofRes.status });
    let proof;
    try {
      const body = await proofRes.json();
      if (!Array.isArray(body.proof)) throw new Error('no proof');
      proof = body.proof.map((h) => fromBase64(h));
    } catch (e) {
      throw new VerifyError('consistency', 'malformed', { why: String((e && e.message) || e) });
    }
    // The roots are the two checkpoints' own, never the answer's.
    if (!(await verifyConsistency(from.size, to.size, proof, from.root, to.root))) {
      throw new VerifyError('consistency', 'inconsistent', { from: from.size, to: to.size });
    }
  }

  return {
    size: cp.size,
    root: cp.root,
    time: Math.max(...cosigners.map((c) => c.time)),
    cosigners,
    unknown: verified.unknown,
    extendsLatest: cp.size <= latest.size,
  };
}

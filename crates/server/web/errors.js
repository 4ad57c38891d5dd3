// A server error in the page's language. The API answers
// `{"error": {"code", "message", "details"}}` (docs/api.md "Errors"): the
// code is stable, the message is English for logs and scripts, and for some
// codes `details` carries the facts as data (amounts in integer fen, fund
// and role ids, entry numbers). The page never shows the English message:
// it says the code in words from strings.js, with the details filled in and
// amounts in yuan. Pure: no DOM, no network, nothing trusted or checked.

import { translate, hasString } from './strings.js';
import { yuan } from './format.js';

/** Whether `v` is an amount in fen the page may print (a safe non-negative integer). */
function isFen(v) {
  return Number.isSafeInteger(v) && v >= 0;
}

/** Whether `v` is an entry number or a count. */
function isCount(v) {
  return Number.isSafeInteger(v) && v >= 0;
}

/**
 * The words for one API error. `error` is the `error` member of an API
 * answer (or a proposal's `status.blocked`): `{code, details?}`; anything
 * else, or a code the page does not know, gives the general words. `names`
 * gives the page's names of funds, roles and kinds by id (each optional;
 * without one the strings table's name, else the id, is used).
 */
export function errorText(error, lang, names = {}) {
  const t = (key, vars) => translate(lang, key, vars);
  const code = error && typeof error.code === 'string' ? error.code : null;
  if (!code) return t('err.unknown');
  const d = error.details && typeof error.details === 'object' ? error.details : {};
  const named = (kind, id) => {
    if (typeof id !== 'string') return null;
    if (names[kind]) return names[kind](id);
    const key = `${kind === 'fundName' ? 'fund' : kind === 'roleName' ? 'role' : 'kind'}.${id}`;
    return hasString(key) ? t(key) : id;
  };
  const fund = named('fundName', d.fund);
  const key = typeof d.key === 'string' ? d.key : null;
  switch (code) {
    case 'overdraft':
      if (fund && isFen(d.balance_fen) && isFen(d.amount_fen)) return t('err.details.overdraft', { fund, balance: yuan(d.balance_fen), amount: yuan(d.amount_fen) });
      break;
    case 'overflow':
      if (fund) return t('err.details.overflow', { fund });
      break;
    case 'unknown_fund':
      if (fund) return t('err.details.unknown_fund', { fund });
      break;
    case 'rule_not_met': {
      const role = named('roleName', d.role);
      if (role && isCount(d.have) && isCount(d.need)) return t('err.details.rule_not_met', { role, have: d.have, need: d.need });
      break;
    }
    case 'unknown_key':
      if (key) return t('err.details.unknown_key', { key });
      break;
    case 'bad_signature':
      if (key) return t('err.details.bad_signature', { key });
      break;
    case 'replay':
      if (isCount(d.seq)) return t('err.details.replay', { seq: d.seq });
      break;
    case 'target_missing':
      if (isCount(d.target_seq)) return t('err.details.target_missing', { target: d.target_seq });
      break;
    case 'not_reversible': {
      const kind = named('kindName', d.kind);
      if (isCount(d.target_seq) && kind) return t('err.details.not_reversible', { target: d.target_seq, kind });
      break;
    }
    case 'already_reversed':
      if (isCount(d.target_seq) && isCount(d.by_seq)) return t('err.details.already_reversed', { target: d.target_seq, by: d.by_seq });
      break;
    default:
      break;
  }
  return codeText(code, lang);
}

/** The general words for an error code, without details. */
export function codeText(code, lang) {
  for (const key of [`err.code.${code}`, `sign.code.${code}`]) {
    if (hasString(key)) return translate(lang, key);
  }
  return translate(lang, 'err.unknown');
}
